"""Deterministic replay: rebuild a case's workflow from its pinned process version and its events alone.

`replay(pinned, events)` is a pure function (no database): it starts the workflow from the
case_accepted event, re-executes every workflow event (task_completed, timer_fired, case_withdrawn)
at its recorded time with the case facts the record gives, and after each step compares what the
engine does with what the record says (task_ready / task_cancelled / case_completed). The first
disagreement is the divergence: `expected` is what the record says, `actual` what the process did.

`replay_case(case=...)` is the entry from the database: the case's events, its pinned version and
its stored state (read through the case runtime), then `replay`.

A step is a workflow event with the events that follow it up to the next workflow event;
task_cancelled events written just before a case_withdrawn belong to the withdrawal.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Row

from app.audit import service as audit
from app.audit.recorded import EventLike, RecordedState
from app.audit.replay_result import Divergence, Pinned, ReplayResult, mismatch
from app.cases import runtime
from app.engine.runtime import EngineError, Run
from app.processes import service as processes

# What the window records before an acceptance (a correction notice and its document): no workflow yet.
BEFORE_ACCEPTANCE = frozenset({"correction_requested", "document_issued"})
WORKFLOW_EVENTS = frozenset({"case_accepted", "task_completed", "timer_fired", "timers_rescheduled", "case_withdrawn"})
# Platform events that name a task: the task must be open in the record when they happen.
TASK_ACTIONS = frozenset({"task_claimed", "task_unclaimed", "task_delegated", "task_completed"})

Step = tuple[EventLike | None, list[EventLike]]


class _Diverged(Exception):
    def __init__(self, seq: int, message: str, expected: Any, actual: Any) -> None:
        super().__init__(message)
        self.divergence = Divergence(seq, message, expected, actual)


def replay(
    pinned: Pinned,
    events: Sequence[EventLike],
    *,
    upto: int | None = None,
    stored_data: Callable[[], dict] | None = None,
) -> ReplayResult:
    """Re-run `events` on the pinned version: consistent, or the first divergence.

    `upto`: stop after event N and report the state as it stood then. `stored_data`: the workflow
    data the case stores now, compared with the replayed data when the whole record was replayed.
    """
    player = _Player(pinned)
    last = events[-1].seq if events else 0
    limit = last if upto is None else min(upto, last)
    divergence = None
    try:
        if not events:
            raise _Diverged(0, "没有任何事件 the case has no events", {"events": ">= 1"}, {"events": 0})
        for head, group in split_steps(events):
            if group and group[0].seq <= limit:
                player.play(head, group, limit)
        if stored_data is not None and limit == last:
            player.check_data(stored_data(), last)
    except _Diverged as exc:
        divergence = exc.divergence
    state = player.state(limit) if upto is not None else None
    return ReplayResult(divergence is None, player.steps, divergence, state)


def split_steps(events: Sequence[EventLike]) -> list[Step]:
    """Group events into steps: a workflow event and the events that follow it (see module doc)."""
    steps: list[Step] = []
    for event in events:
        if event.type in WORKFLOW_EVENTS:
            lead = _cancellations_before(steps) if event.type == "case_withdrawn" else []
            steps.append((event, [*lead, event]))
        elif steps:
            steps[-1][1].append(event)
        else:
            steps.append((None, [event]))
    return steps


def _cancellations_before(steps: list[Step]) -> list[EventLike]:
    if not steps:
        return []
    head, group = steps[-1]
    lead: list[EventLike] = []
    while group and group[-1].type == "task_cancelled" and group[-1] is not head:
        lead.insert(0, group.pop())
    return lead


def plain(value: Any) -> Any:
    """`value` as JSON would carry it (so stored, replayed and recorded data compare alike)."""
    return json.loads(json.dumps(value, sort_keys=True, default=str, ensure_ascii=False))


class _Player:
    """Replays one case: the engine on one side, the record on the other."""

    def __init__(self, pinned: Pinned) -> None:
        self.pinned = pinned
        self.run: Run | None = None
        self.record = RecordedState()
        self.engine_ids: dict[int, str] = {}  # recorded task id -> engine task id
        self.fresh: list = []  # engine tasks made ready by the current step, not yet matched
        self.steps = 0
        self._ready: list | None = None  # the engine's ready tasks, until the engine moves again

    def ready(self) -> list:
        """The engine's READY human tasks now (computed once per engine move)."""
        if self._ready is None:
            self._ready = self.run.ready_tasks()
        return self._ready

    def play(self, head: EventLike | None, group: list[EventLike], limit: int) -> None:
        """Apply one step's events up to `limit`: the engine for the head, the record for all."""
        if head is None and all(e.type in BEFORE_ACCEPTANCE for e in group):
            return
        if head is None:
            first = group[0]
            raise _Diverged(
                first.seq,
                "记录不以受理事件开始 the record does not start with case_accepted",
                {"type": "case_accepted"},
                {"type": first.type},
            )
        applied = head.seq <= limit
        included = [e for e in group if e.seq <= limit]
        waiting: list[EventLike] = []
        for event in included:
            self._check_reference(event)
            self.record.apply(event)
            if event is head:
                self._apply(head)
                for earlier in waiting:
                    self._check(earlier)
            elif applied and self.run is not None and head.seq < event.seq:
                self._check(event)
            else:
                waiting.append(event)
        if applied and len(included) == len(group):
            self._compare(head)

    def _apply(self, event: EventLike) -> None:
        self._ready = None
        if event.type == "case_accepted":
            self._start(event)
        elif self.run is None:
            raise _Diverged(event.seq, "受理之前出现流程事件 a workflow event before case_accepted", None, event.type)
        elif event.type == "task_completed":
            self._complete(event)
        elif event.type == "timer_fired":
            self._engine(event, lambda: self.run.advance(at=event.at))
        elif event.type == "timers_rescheduled":
            self._reschedule(event)
        elif event.type == "case_withdrawn":
            self.run.cancel()
        self.steps += 1
        self._ready = None
        known = set(self.engine_ids.values())
        self.fresh = [t for t in self.ready() if t.id not in known]

    def _start(self, event: EventLike) -> None:
        p = event.payload or {}
        if self.run is not None:
            raise _Diverged(event.seq, "重复的受理事件 a second case_accepted", None, "case_accepted")
        recorded = {"process_key": p.get("process_key"), "process_version": p.get("process_version")}
        recorded["process_hash"] = p.get("process_hash")
        pinned = {"process_key": self.pinned.key, "process_version": self.pinned.version}
        pinned["process_hash"] = self.pinned.hash
        if recorded != pinned:
            raise _Diverged(
                event.seq,
                "记录的流程版本与办件固定的版本不符 the recorded process version is not the pinned one",
                recorded,
                pinned,
            )
        facts = self.record.facts(stored=False)
        data = copy.deepcopy(p.get("data") or {})
        try:
            self.run = Run.start(self.pinned.definition, data, at=event.at, facts=facts)
        except EngineError as exc:
            raise _Diverged(event.seq, f"流程无法启动 the process could not start: {exc}", None, _error(exc)) from exc

    def _complete(self, event: EventLike) -> None:
        name = (event.payload or {}).get("name")
        ready = {t.id: t for t in self.ready()}
        engine_id = self.engine_ids.get(event.task_id)
        if engine_id not in ready:
            raise _Diverged(
                event.seq,
                "办理的任务在流程中并不待办 the completed task is not ready in the process",
                {"task_completed": name},
                {"open_tasks": sorted(t.spec.name for t in ready.values())},
            )
        if ready[engine_id].spec.name != name:
            raise _Diverged(
                event.seq,
                "办理的任务与流程中的环节不符 the completed task is another step in the process",
                {"task_completed": name},
                {"task": ready[engine_id].spec.name},
            )
        data = copy.deepcopy((event.payload or {}).get("data") or {})
        self._engine(event, lambda: self.run.complete(engine_id, data, at=event.at))

    def _reschedule(self, event: EventLike) -> None:
        """The case's deadlines moved: date timers re-evaluated on the facts the event records."""
        facts = dict((event.payload or {}).get("facts") or {})

        def action() -> None:
            self.run.facts = facts
            self.run.reschedule_timers(at=event.at)

        try:
            action()
        except EngineError as exc:
            raise _Diverged(
                event.seq, f"流程无法继续 the process could not go on: {exc}", {"type": event.type}, _error(exc)
            ) from exc

    def _engine(self, event: EventLike, action: Callable[[], None]) -> None:
        self.run.facts = self.record.facts(stored=True)
        try:
            action()
        except EngineError as exc:
            raise _Diverged(
                event.seq, f"流程无法继续 the process could not go on: {exc}", {"type": event.type}, _error(exc)
            ) from exc

    def _check_reference(self, event: EventLike) -> None:
        if event.type in TASK_ACTIONS and event.task_id not in self.record.open:
            raise _Diverged(
                event.seq,
                "该任务在记录中并不待办 the task is not open in the record",
                {"open_task_ids": [str(t) for t in self.record.open]},
                {event.type: str(event.task_id)},
            )

    def _check(self, event: EventLike) -> None:
        p = event.payload or {}
        if event.type == "task_ready":
            self._match_ready(event, p.get("name"))
        elif event.type == "task_cancelled":
            ready = {t.id for t in self.ready()}
            if self.engine_ids.get(event.task_id) in ready:
                raise _Diverged(
                    event.seq,
                    "记录称任务已取消，流程中却仍待办 the record cancels a task the process still holds",
                    {"task_cancelled": p.get("name")},
                    {"open_tasks": self._engine_names()},
                )
        elif event.type == "case_completed" and p.get("continues"):
            step = self.pinned.definition.human_tasks.get(p.get("end"))
            decided = step.properties.get("completes_case") if step is not None else None
            actual = {"completed": self.run.completed, "result": decided, "end": p.get("end") if step else None}
            if actual != {"completed": False, "result": p.get("result"), "end": p.get("end")}:
                raise _Diverged(
                    event.seq,
                    "办结的环节与流程不符 the step the case was decided at does not decide it",
                    {"result": p.get("result"), "end": p.get("end")},
                    actual,
                )
        elif event.type in ("case_completed", "case_closed"):
            actual = {"completed": self.run.completed, "result": self.run.result(), "end": self.run.end_reached()}
            expected_result = (
                p.get("result") if self.run.result() is not None or event.type == "case_completed" else None
            )
            if actual != {"completed": True, "result": expected_result, "end": p.get("end")}:
                raise _Diverged(
                    event.seq,
                    "办结结果与流程不符 the recorded result is not where the process ended",
                    {"result": p.get("result"), "end": p.get("end")},
                    actual,
                )

    def _match_ready(self, event: EventLike, name: str | None) -> None:
        for index, task in enumerate(self.fresh):
            if task.spec.name == name:
                self.engine_ids[event.task_id] = task.id
                del self.fresh[index]
                return
        raise _Diverged(
            event.seq,
            "记录的待办任务不是流程产生的 the process did not make this task ready",
            {"task_ready": name},
            {"new_tasks": [t.spec.name for t in self.fresh]},
        )

    def _compare(self, head: EventLike) -> None:
        ready_ids = {t.id for t in self.ready()}
        recorded_ids = {self.engine_ids.get(task_id) for task_id in self.record.open}
        ended = self.run.completed
        if ready_ids != recorded_ids or ended != self.record.flow_ended:
            raise _Diverged(
                head.seq,
                "该步之后待办任务或办结状态与流程不符 after this step the open tasks or the end differ",
                {"open_tasks": self.record.open_names(), "ended": self.record.flow_ended},
                {"open_tasks": self._engine_names(), "ended": ended},
            )

    def check_data(self, stored: dict, seq: int) -> None:
        """The replayed workflow data must equal the data the case stores."""
        replayed, expected = plain(self.run.data), plain(stored)
        keys = sorted(k for k in set(replayed) | set(expected) if replayed.get(k) != expected.get(k))
        if keys:
            raise _Diverged(
                seq,
                "回放得到的流程数据与办件保存的数据不一致 the replayed data differs from the stored data",
                {k: expected.get(k) for k in keys},
                {k: replayed.get(k) for k in keys},
            )

    def _engine_names(self) -> list[str]:
        return sorted(t.spec.name for t in self.ready())

    def state(self, seq: int) -> dict[str, Any]:
        """The case as it stood after event `seq`: the record's tasks and deadlines, the engine's data."""
        data = plain(self.run.data) if self.run is not None else {}
        return {"seq": seq, **self.record.as_state(), "data": data}


def _error(exc: EngineError) -> dict[str, Any]:
    return {"error": str(exc), "element": exc.element}


def replay_case(*, case: Any, upto: int | None = None) -> ReplayResult:
    """Replay a case from its events on the process version they name; compare with its stored state."""
    events = audit.chain_events(case_id=case.id)
    stored = runtime.stored_state(case.id)
    if stored is None and not any(e.type == "case_accepted" for e in events):
        # Answered without acceptance (不予受理, or awaiting correction): no workflow to re-run.
        return ReplayResult(True, 0, None, {} if upto is not None else None)
    pinned = _pinned(case, events)
    if isinstance(pinned, ReplayResult):
        return pinned
    data = (lambda: runtime.load_run(case, stored).data) if stored is not None else None
    return replay(pinned, events, upto=upto, stored_data=data)


def _pinned(case: Any, events: list[Row]) -> Pinned | ReplayResult:
    """The version the first event names, checked against the case row and its own stored bytes."""
    # The acceptance names the version (a corrected application has its notice's events before it).
    accepted = next((e for e in events if e.type == "case_accepted"), events[0] if events else None)
    first = (accepted.payload or {}) if accepted is not None else {}
    key, number = first.get("process_key"), first.get("process_version")
    version = processes.get(key=key, version=number) if key and number else None
    named = {"process_key": key, "process_version": number}
    if version is None:
        return mismatch(1, "记录的流程版本不存在 the recorded process version does not exist", named, None)
    if version.id != case.process_version_id:
        return mismatch(
            1,
            "办件固定的流程版本与记录不符 the case is pinned to another version than its record names",
            named,
            {"process_version_id": case.process_version_id},
        )
    if hashlib.sha256(version.xml).hexdigest() != version.hash:
        return mismatch(
            1, "流程版本文件已被改动 the stored process file no longer matches its hash", version.hash, "changed"
        )
    return Pinned(version.key, version.version, version.hash, processes.definition(version.id))
