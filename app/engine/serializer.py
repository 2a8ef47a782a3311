"""Workflow state without the spec: the spec is stored once per process version and cached, so a
case row carries only its task tree and data (about half the size and time of the default format).
The state is compact JSON deflated with a preset dictionary (app/engine/dictionary.py); the
serializer version is stored beside it and checked.
"""

from __future__ import annotations

import json
import zlib
from datetime import date
from decimal import Decimal
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.workflow import VERSION, BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from app.engine import dictionary
from app.engine.parser import Definition

# spec-free-1: compact JSON, zlib. spec-free-2/<dictionary>: the same JSON deflated with a shipped
# preset dictionary (app/engine/dictionary.py), named by its hash. Both are read; the second is written.
PLAIN_VERSION = f"spiff-{VERSION}/spec-free-1"
_WITH_DICTIONARY = f"spiff-{VERSION}/spec-free-2/"


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


def _build() -> SpecFreeWorkflowConverter:
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = SpecFreeWorkflowConverter
    registry = BpmnWorkflowSerializer.configure(config)
    registry.register(date, lambda d: {"value": d.isoformat()}, lambda dct: date.fromisoformat(dct["value"]), "date")
    registry.register(Decimal, lambda d: {"value": str(d)}, lambda dct: Decimal(dct["value"]), "Decimal")
    # The registry keeps bound methods of the converter it built for BpmnWorkflow: recover that instance.
    return registry.convert_to_dict[registry.typenames[BpmnWorkflow]].args[1].__self__


_converter = _build()


def dump_plain(workflow: BpmnWorkflow) -> bytes:
    """The workflow's state (no spec) as compact JSON, uncompressed."""
    dct = _converter.to_dict(workflow)
    return json.dumps(dct, separators=(",", ":"), ensure_ascii=False, default=_refuse).encode("utf-8")


def dump(workflow: BpmnWorkflow, *, process_key: str) -> tuple[bytes, str]:
    """The workflow's state (no spec) as JSON deflated with its process's preset dictionary, and the
    version to store beside it (it names the dictionary)."""
    name, preset = dictionary.for_process(process_key)
    return dictionary.compress(dump_plain(workflow), preset), _WITH_DICTIONARY + name


def load(state: bytes, version: str, definition: Definition) -> BpmnWorkflow:
    """Rebuild a workflow from `dump` output on its definition (UnknownStateVersion if unreadable)."""
    if version == PLAIN_VERSION:
        text = zlib.decompress(state)
    elif version.startswith(_WITH_DICTIONARY) and (preset := dictionary.load(version[len(_WITH_DICTIONARY) :])):
        text = dictionary.decompress(state, preset)
    else:
        raise UnknownStateVersion(f"unknown workflow state version {version!r}")
    return _converter.restore_on(json.loads(text), definition)


def _refuse(value):
    raise TypeError(f"task data of type {type(value).__name__} cannot be stored")
