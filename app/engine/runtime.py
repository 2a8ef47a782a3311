"""The engine facade used by the domains: start, load, run, complete and dump a case's workflow.

Nothing outside app/engine imports SpiffWorkflow. Every workflow created or loaded here gets the
safe script engine (deserialization would otherwise fall back to Python eval), and waiting timers
are refreshed before engine steps.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from threading import Lock
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.specs.defaults import EndEvent
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimeDateEventDefinition, TimerEventDefinition
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException, TaskNotFoundException
from SpiffWorkflow.spiff.specs.defaults import UserTask
from SpiffWorkflow.task import TaskState

from app.clock import SHANGHAI
from app.engine import serializer
from app.engine.budget import Meter
from app.engine.errors import EngineError
from app.engine.expressions import SAFE_ENGINE, ExpressionRefused, case_facts
from app.engine.guards import budget_cause
from app.engine.parser import Definition, HumanTaskSpec, load_definition
from app.engine.timers import engine_time


@dataclass(frozen=True)
class ReadyTask:
    """A READY human task as the engine sees it."""

    id: str
    spec: HumanTaskSpec
    data: dict


class DefinitionCache:
    """Parsed definitions per process version id (parsing costs about a millisecond; a step less)."""

    def __init__(self, size: int = 256) -> None:
        self._items: OrderedDict[int, Definition] = OrderedDict()
        self._size = size
        self._lock = Lock()

    def get(self, version_id: int, load_xml: Callable[[], bytes]) -> Definition:
        """The definition of a version, parsing its stored XML on first use."""
        with self._lock:
            found = self._items.get(version_id)
            if found is not None:
                self._items.move_to_end(version_id)
                return found
        definition = load_definition(load_xml(), filename=f"version-{version_id}.bpmn")
        with self._lock:
            self._items[version_id] = definition
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return definition

    def clear(self) -> None:
        """Forget every cached definition."""
        with self._lock:
            self._items.clear()


definitions = DefinitionCache()


class Run:
    """One case's workflow, in memory for the length of one request or job."""

    def __init__(self, definition: Definition, workflow: BpmnWorkflow, facts: dict | None = None) -> None:
        self.definition = definition
        self.workflow = workflow
        # Facts about the case (its deadlines...) that platform functions in expressions may read.
        self.facts = facts or {}
        workflow.script_engine = SAFE_ENGINE

    @classmethod
    def start(
        cls, definition: Definition, data: dict[str, Any], *, at: datetime | None = None, facts: dict | None = None
    ) -> Run:
        """A new workflow with `data`, run to its first waiting point (as of `at`, default now)."""
        workflow = BpmnWorkflow(definition.spec, definition.subprocess_specs, script_engine=SAFE_ENGINE)
        run = cls(definition, workflow, facts)
        run.workflow.task_tree.data.update(data)
        run.advance(at=at)
        return run

    @classmethod
    def load(cls, definition: Definition, state: bytes, version: str, *, facts: dict | None = None) -> Run:
        """The workflow stored as `state` by dump()."""
        return cls(definition, serializer.load(state, version, definition), facts)

    def dump(self) -> tuple[bytes, str]:
        """The state to store and its serializer version."""
        return serializer.dump(self.workflow, process_key=self.definition.key)

    def advance(self, *, at: datetime | None = None, meter: Meter | None = None) -> None:
        """Fire timers due by `at` (default now) and run every engine step until only people or time
        can move the case, within the budget (BudgetExceeded naming the element otherwise)."""
        meter = meter or Meter(self.workflow)
        with _engine_errors(), engine_time(at), case_facts(self.facts):
            self.workflow.refresh_timers()
            self.workflow.do_engine_steps(will_complete_task=meter)

    def waiting_timers(self) -> list[tuple[str, datetime]]:
        """(element id, due time) of every timer the workflow is waiting on."""
        out = []
        for task in self.workflow.event_manager.tasks.values():
            definition = task.task_spec.event_definition
            if not isinstance(definition, TimerEventDefinition):
                continue
            value = definition.details(task).value
            if isinstance(value, dict):
                value = value.get("next")
            if isinstance(value, str):
                due = datetime.fromisoformat(value)
                due = due if due.tzinfo else due.replace(tzinfo=SHANGHAI)
                out.append((task.task_spec.bpmn_id, datetime.fromtimestamp(due.timestamp(), UTC)))
        return out

    def next_timer_due(self) -> datetime | None:
        """The earliest time a waiting timer falls due (None when none waits)."""
        return min((due for _, due in self.waiting_timers()), default=None)

    def reschedule_timers(self, *, at: datetime) -> tuple[list[str], list[str]]:
        """Re-evaluate every waiting date timer with the current facts (the case's deadlines moved).

        Returns (rescheduled element ids, element ids that fell due at once and fired).
        """
        before = {name for name, _ in self.waiting_timers()}
        moved = []
        for task in list(self.workflow.event_manager.tasks.values()):
            if isinstance(task.task_spec.event_definition, TimeDateEventDefinition):
                task.internal_data.pop("event_value", None)
                moved.append(task.task_spec.bpmn_id)
        if not moved:
            return [], []
        self.advance(at=at)
        after = {name for name, _ in self.waiting_timers()}
        return sorted(moved), sorted(before - after)

    def fire_timers(self, *, at: datetime) -> list[str]:
        """Fire every timer due by `at` and run on; returns the element ids that fired."""
        # SpiffWorkflow fires a timer strictly after its due time; so do we (the next pass takes it).
        due = sorted(name for name, when in self.waiting_timers() if when < at)
        if due:
            self.advance(at=at)
        return due

    def ready_tasks(self) -> list[ReadyTask]:
        """The READY human tasks, in tree order."""
        return [
            ReadyTask(str(t.id), self.definition.human_tasks[t.task_spec.bpmn_id], t.data)
            for t in self.workflow.get_tasks(state=TaskState.READY, spec_class=UserTask)
        ]

    def _find(self, task_id: str):
        try:
            return self.workflow.get_task_from_id(UUID(task_id))
        except (TaskNotFoundException, ValueError):
            return None

    def task_data(self, task_id: str) -> dict[str, Any]:
        """The data a task sees (empty when the workflow has no such task)."""
        task = self._find(task_id)
        return dict(task.data) if task is not None else {}

    def complete(self, task_id: str, submitted: dict[str, Any], *, at: datetime | None = None) -> None:
        """Record a person's submission on a READY human task, run it, and advance the workflow.

        The submission is stored under the task's element id (or its `data_key` property, e.g. the
        output item of a multi-instance task), so parallel branches never overwrite each other and
        conditions read e.g. `decide.approved`.
        """
        task = self._find(task_id)
        if task is None or task.state != TaskState.READY or not isinstance(task.task_spec, UserTask):
            raise EngineError("任务不在可办理状态 the task is not ready in the workflow", element=None)
        spec = self.definition.human_tasks[task.task_spec.bpmn_id]
        carried = {name: task.data[name] for name in spec.carry if name in task.data}
        task.data[spec.data_key] = {**carried, **submitted}
        meter = Meter(self.workflow)
        with _engine_errors(), engine_time(at), case_facts(self.facts):
            task.run()
        self.advance(at=at, meter=meter)

    def cancel(self) -> None:
        """Stop the workflow where it stands (a withdrawn case)."""
        self.workflow.cancel()

    @property
    def completed(self) -> bool:
        """True once the process reached its end."""
        return self.workflow.is_completed()

    @property
    def data(self) -> dict[str, Any]:
        """The workflow data: final data when completed, else the data of the newest ready task."""
        if self.completed:
            return dict(self.workflow.data)
        ready = self.ready_tasks()
        return dict(ready[-1].data) if ready else dict(self.workflow.task_tree.data)

    def end_reached(self) -> str | None:
        """The element id of the end event the process finished on (None while running)."""
        if not self.completed:
            return None
        ends = [
            t.task_spec.bpmn_id
            for t in self.workflow.get_tasks(state=TaskState.COMPLETED, spec_class=EndEvent)
            if t.task_spec.bpmn_id
        ]
        # A side branch (an escalation) may end after the main path: the end that declares a result wins.
        with_result = [e for e in ends if e in self.definition.end_results]
        return (with_result or ends or [None])[-1]

    def result(self) -> str | None:
        """The case result declared by the end event reached (its `result` property)."""
        end = self.end_reached()
        return self.definition.end_results.get(end) if end else None


class _engine_errors:
    """Turn SpiffWorkflow and expression failures into EngineError naming the element."""

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is None:
            return False
        exceeded = budget_cause(exc)
        if exceeded is not None and exceeded is not exc:
            raise exceeded from None  # SpiffWorkflow wrapped it: the budget's own message names the element
        if isinstance(exc, ArithmeticError | ValueError | RecursionError | MemoryError):
            # A value the engine could not compute (a date out of range, a huge duration...).
            raise EngineError(f"流程执行出错 the process could not continue: {type(exc).__name__}: {exc}") from exc
        if not isinstance(exc, SpiffWorkflowException | ExpressionRefused):
            return False
        element = None
        task = getattr(exc, "task", None)
        if task is not None:
            element = getattr(task.task_spec, "bpmn_id", None)
        raise EngineError(f"流程执行出错 the process could not continue: {exc}", element=element) from exc
