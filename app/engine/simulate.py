"""Dry runs: drive a process definition through a scenario in memory, without a case.

The driver uses the public Run API (start, ready_tasks, complete, timers) and reads the workflow's
completed tasks only to report the path taken. A submission for each READY human task comes from a
callback, so the caller decides where scenarios come from and how submissions are validated. When
nothing but time can move the process, the earliest waiting timer is fired at its due time (people
are assumed to act before their timers). Bounded three ways: a step cap, each element's declared
`max_rounds`, and the engine's own stall (no ready task, no timer, not finished).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import count
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask
from SpiffWorkflow.task import TaskState

from app.engine.parser import Definition
from app.engine.runtime import EngineError, ReadyTask, Run

DEFAULT_MAX_STEPS = 200
_JUST_AFTER = timedelta(seconds=1)
# States of a task the engine has actually reached (FUTURE, LIKELY and MAYBE are predictions).
_REACHED = TaskState.READY | TaskState.STARTED | TaskState.WAITING | TaskState.COMPLETED | TaskState.ERROR


class SimulationError(Exception):
    """The scenario could not run to an end; `element` names where, `path` how far it got."""

    def __init__(self, message: str, *, element: str | None = None, errors: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.element = element
        self.errors = errors
        self.path: list[str] = []


@dataclass(frozen=True)
class Step:
    """A human task met by the scenario and what was submitted for it."""

    task: ReadyTask
    instance: str | None
    data: dict


@dataclass
class Outcome:
    """Where a scenario went: every element executed in order, the human steps, and the end."""

    path: list[str] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    end: str | None = None
    result: str | None = None


# (the READY task, its multi-instance key or None) -> the submission to complete it with.
Submit = Callable[[ReadyTask, str | None], dict]


def simulate(
    definition: Definition,
    data: dict[str, Any],
    submit: Submit,
    *,
    at: datetime,
    facts: dict | None = None,
    round_limits: Mapping[str, int] | None = None,
    max_steps: int = DEFAULT_MAX_STEPS,
) -> Outcome:
    """Run `definition` from `data` to an end, asking `submit` for every human task (SimulationError otherwise)."""
    outcome = Outcome()
    recorder = _PathRecorder()
    try:
        run = Run.start(definition, data, at=at, facts=facts)
    except EngineError as exc:
        raise SimulationError(str(exc), element=exc.element) from exc
    try:
        for moves in count():
            recorder.collect(run, outcome.path)
            _check_rounds(run, round_limits or {})
            if run.completed:
                outcome.end, outcome.result = run.end_reached(), run.result()
                return outcome
            if moves == max_steps:
                raise SimulationError(f"超过 {max_steps} 步仍未结束 the scenario did not end within {max_steps} steps")
            at = _step(run, submit, outcome, at)
    except EngineError as exc:
        raise _stopped(SimulationError(str(exc), element=exc.element), run, recorder, outcome) from exc
    except SimulationError as exc:
        raise _stopped(exc, run, recorder, outcome) from None


def _stopped(error: SimulationError, run: Run, recorder: _PathRecorder, outcome: Outcome) -> SimulationError:
    """The error with the path as far as the workflow got."""
    recorder.collect(run, outcome.path)
    error.path = outcome.path
    return error


def _step(run: Run, submit: Submit, outcome: Outcome, at: datetime) -> datetime:
    """Complete the first ready human task, or else fire the earliest timer; returns the simulated time."""
    ready = run.ready_tasks()
    if ready:
        task = ready[0]
        instance = _instance_of(run, task)
        submitted = submit(task, instance)
        run.complete(task.id, submitted, at=at)
        outcome.steps.append(Step(task, instance, submitted))
        return at
    due = run.next_timer_due()
    if due is None:
        raise SimulationError(
            "流程停滞：没有待办任务，也没有等待中的定时器 the process stalled: nothing is ready and no timer waits",
            element=_deepest_open(run),
        )
    at = max(at, due + _JUST_AFTER)  # SpiffWorkflow fires a timer strictly after its due time
    run.fire_timers(at=at)
    return at


def _instance_of(run: Run, task: ReadyTask) -> str | None:
    """The key of a multi-instance child: its input item (e.g. a department code) or its index."""
    spiff_task = run.workflow.get_task_from_id(UUID(task.id))
    if spiff_task is None or not _is_instance(spiff_task):
        return None
    parent = spiff_task.parent
    item = parent.task_spec.input_item
    if item is not None and item.exists(spiff_task) and isinstance(item.get(spiff_task), str | int | float):
        return str(item.get(spiff_task))
    internal = spiff_task.internal_data
    value = internal.get("key_or_index", internal.get("item"))
    return str(value) if value is not None else None


def _is_instance(task: Any) -> bool:
    """True for an instance of a multi-instance task (not for the task that follows one in the tree)."""
    parent = task.parent
    return (
        parent is not None
        and isinstance(parent.task_spec, MultiInstanceTask)
        and parent.task_spec.task_spec == task.task_spec.name
    )


def _check_rounds(run: Run, limits: Mapping[str, int]) -> None:
    """SimulationError when an element ran more often than its declared max_rounds."""
    if not limits:
        return
    counts: dict[str, int] = {}
    for task in run.workflow.get_tasks(state=_REACHED):
        name = getattr(task.task_spec, "bpmn_id", None)
        if name in limits and not _is_instance(task):  # a multi-instance task counts once per round
            counts[name] = counts.get(name, 0) + 1
    for name, times in counts.items():
        if times > limits[name]:
            raise SimulationError(
                f"{name} 已执行 {times} 次，超过 max_rounds={limits[name]} the loop ran more rounds than declared",
                element=name,
            )


def _deepest_open(run: Run) -> str | None:
    """The element where a stalled workflow stands."""
    open_tasks = [
        t
        for t in run.workflow.get_tasks(state=TaskState.WAITING | TaskState.READY | TaskState.STARTED)
        if getattr(t.task_spec, "bpmn_id", None)
    ]
    return max(open_tasks, key=lambda t: t.depth).task_spec.bpmn_id if open_tasks else None


class _PathRecorder:
    """Appends the element ids of newly completed tasks, in the order they completed."""

    def __init__(self) -> None:
        self._seen: set[UUID] = set()

    def collect(self, run: Run, path: list[str]) -> None:
        """Add what completed since the last call."""
        fresh = [
            t
            for t in run.workflow.get_tasks(state=TaskState.COMPLETED)
            if t.id not in self._seen and getattr(t.task_spec, "bpmn_id", None)
        ]
        self._seen.update(t.id for t in fresh)
        for task in sorted(fresh, key=lambda t: (t.last_state_change, t.depth)):
            if not isinstance(task.task_spec, MultiInstanceTask):  # its instances are the steps
                path.append(task.task_spec.bpmn_id)
