"""Workflow state without the spec: the spec is stored once per process version and cached, so a
case row carries only its task tree and data (about half the size and time of the default format).
The state is compact JSON deflated with a preset dictionary (app/engine/dictionary.py); the
serializer version is stored beside it and checked.

Task ids are random UUIDs and each appears about four times in a state (its own key and id, its
parent's children, its children's parent): as text they were a third of the compressed bytes. A state
keeps each id once, as 16 raw bytes in a table at its head, and its JSON refers to a task by its place
in that table. Loading makes one UUID object per task and every reference shares it, so the engine's
lookups of parents and children (dictionary probes by UUID) find them by identity instead of comparing
UUIDs (about 2,700 UUID comparisons less per serial case).
"""

from __future__ import annotations

import json
import struct
import zlib
from datetime import date
from decimal import Decimal
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, TaskConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import VERSION, BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import TaskState
from SpiffWorkflow.util.deep_merge import DeepMerge

from app.engine import dictionary
from app.engine.parser import Definition

# spec-free-1: compact JSON, zlib. spec-free-2/<dictionary>: the same JSON deflated with a shipped
# preset dictionary (app/engine/dictionary.py), named by its hash. spec-free-3/<dictionary>: the id
# table (a count, then 16 bytes per task), then the JSON with tasks as a list in the table's order and
# references as places, deflated with the dictionary. All are read; the third is written.
PLAIN_VERSION = f"spiff-{VERSION}/spec-free-1"
_WITH_DICTIONARY = f"spiff-{VERSION}/spec-free-2/"
_WITH_ID_TABLE = f"spiff-{VERSION}/spec-free-3/"
_COUNT = struct.Struct(">H")


class UnknownStateVersion(Exception):
    """The stored state was written by a serializer this code cannot read."""


class SpecFreeWorkflowConverter(BpmnWorkflowConverter):
    """Writes a workflow without its spec; restores it onto the cached spec of its process version."""

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def restore_on(self, dct: dict, definition: Definition) -> BpmnWorkflow:
        """Rebuild the workflow from `dct` on the definition's spec objects."""
        workflow = BpmnWorkflow(definition.spec, definition.subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow

    def to_tabled_dict(self, workflow) -> tuple[bytes, dict] | None:
        """The id table and the dict whose tasks refer to each other by place in it (None when a task
        refers to one outside the workflow's tasks: the caller writes ids as text)."""
        dct = self.to_dict(workflow)
        place = {key: n for n, key in enumerate(dct["tasks"])}  # the order of workflow.tasks
        rows = list(dct["tasks"].values())
        try:
            for row in rows:
                del row["id"]
                if row["parent"] is not None:
                    row["parent"] = place[row["parent"]]
                row["children"] = [place[child] for child in row["children"]]
            dct["root"] = place[dct["root"]]
            if dct["last_task"] is not None:
                dct["last_task"] = place[dct["last_task"]]
        except KeyError:
            return None
        dct["tasks"] = rows
        return b"".join(task_id.bytes for task_id in workflow.tasks), dct

    def restore_tabled(self, dct: dict, table: bytes, definition: Definition) -> BpmnWorkflow:
        """Rebuild the workflow from `to_tabled_dict` output: one UUID object per task, shared by every
        reference to it."""
        workflow = BpmnWorkflow(definition.spec, definition.subprocess_specs, deserializing=True)
        ids = [UUID(bytes=table[i : i + 16]) for i in range(0, len(table), 16)]
        restore = self.registry.restore
        for row, task_id in zip(dct["tasks"], ids, strict=True):
            parent = row["parent"]
            row["id"], row["parent"] = task_id, (ids[parent] if parent is not None else None)
            row["children"] = [ids[child] for child in row["children"]]
            if row.get("typename") == "Task":
                _task_from_dict(self.registry, row, workflow)  # registers itself in workflow.tasks
            else:  # a task class of another kind: its own converter, ids as it expects them
                restore(_as_text(row), workflow=workflow)
        workflow.task_tree = workflow.tasks[ids[dct["root"]]]
        last = dct.pop("last_task")
        dct["last_task"] = None
        self.set_default_attributes(workflow, dct)
        workflow.last_task = workflow.tasks.get(ids[last]) if last is not None else None
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = restore(dct.pop("bpmn_events", []))
        return workflow


def _as_text(row: dict) -> dict:
    parent = row["parent"]
    children = [str(child) for child in row["children"]]
    return {**row, "id": str(row["id"]), "parent": str(parent) if parent is not None else None, "children": children}


def _task_from_dict(registry, dct: dict, workflow) -> None:
    """SpiffWorkflow's TaskConverter.from_dict (pinned version, see requirements.txt) with the ids
    given as UUID objects instead of parsed from text."""
    task_spec = workflow.spec.task_specs.get(dct["task_spec"])
    task = _TASK_CLASS(workflow, task_spec, state=dct["state"], id=dct["id"])
    task._parent = dct["parent"]
    task._children = dct["children"]
    task.last_state_change = dct["last_state_change"]
    task.triggered = dct["triggered"]
    task.internal_data = registry.restore(dct["internal_data"])
    if isinstance(task_spec, CatchingEvent) and task.has_state(TaskState.WAITING):
        task.workflow.top_workflow.event_manager.add_task(task)
    delta = dct.get("delta")
    if delta and task.parent is not None:
        data = DeepMerge.merge({}, task.parent.data)
        data.update(registry.restore(delta.get("updates", {})))
        for key in delta.get("deletions", {}):
            if key in data:
                del data[key]
    else:
        data = registry.restore(dct["data"])
    task.data = data


def _build() -> SpecFreeWorkflowConverter:
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = SpecFreeWorkflowConverter
    registry = BpmnWorkflowSerializer.configure(config)
    registry.register(date, lambda d: {"value": d.isoformat()}, lambda dct: date.fromisoformat(dct["value"]), "date")
    registry.register(Decimal, lambda d: {"value": str(d)}, lambda dct: Decimal(dct["value"]), "Decimal")
    # The registry keeps bound methods of the converter it built for BpmnWorkflow: recover that instance.
    return registry.convert_to_dict[registry.typenames[BpmnWorkflow]].args[1].__self__


_converter = _build()
# The engine's converter of tasks (the class it builds), checked: _task_from_dict repeats its from_dict.
_TASK_CONVERTER = _converter.registry.convert_from_dict["Task"].args[0].__self__
assert type(_TASK_CONVERTER) is TaskConverter, type(_TASK_CONVERTER)
_TASK_CLASS = _TASK_CONVERTER.target_class


def dump_plain(workflow: BpmnWorkflow) -> bytes:
    """The workflow's state (no spec) as compact JSON, uncompressed."""
    return _json(_converter.to_dict(workflow))


def dump(workflow: BpmnWorkflow, *, process_key: str) -> tuple[bytes, str]:
    """The workflow's state (no spec): its id table, then its JSON (tasks by place) deflated with its
    process's preset dictionary; and the version to store beside it (it names the dictionary)."""
    name, preset = dictionary.for_process(process_key)
    tabled = tabled_plain(workflow)
    if tabled is None:
        return dictionary.compress(dump_plain(workflow), preset), _WITH_DICTIONARY + name
    table, text = tabled
    return _COUNT.pack(len(table) // 16) + table + dictionary.compress(text, preset), _WITH_ID_TABLE + name


def tabled_plain(workflow: BpmnWorkflow) -> tuple[bytes, bytes] | None:
    """The id table and the compact JSON of the state (None: ids as text, see to_tabled_dict)."""
    tabled = _converter.to_tabled_dict(workflow)
    if tabled is None or len(tabled[0]) // 16 > 0xFFFF:
        return None
    table, dct = tabled
    return table, _json(dct)


def _json(dct: dict) -> bytes:
    return json.dumps(dct, separators=(",", ":"), ensure_ascii=False, default=_refuse).encode("utf-8")


def load(state: bytes, version: str, definition: Definition) -> BpmnWorkflow:
    """Rebuild a workflow from `dump` output on its definition (UnknownStateVersion if unreadable)."""
    if version.startswith(_WITH_ID_TABLE) and (preset := dictionary.load(version[len(_WITH_ID_TABLE) :])):
        (count,) = _COUNT.unpack_from(state)
        end = _COUNT.size + 16 * count
        dct = json.loads(dictionary.decompress(state[end:], preset))
        return _converter.restore_tabled(dct, state[_COUNT.size : end], definition)
    if version == PLAIN_VERSION:
        text = zlib.decompress(state)
    elif version.startswith(_WITH_DICTIONARY) and (preset := dictionary.load(version[len(_WITH_DICTIONARY) :])):
        text = dictionary.decompress(state, preset)
    else:
        raise UnknownStateVersion(f"unknown workflow state version {version!r}")
    return _converter.restore_on(json.loads(text), definition)


def _refuse(value):
    raise TypeError(f"task data of type {type(value).__name__} cannot be stored")
