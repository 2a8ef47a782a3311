"""What the record says about a case, event after event: open tasks, status, deadlines, warning.

Built from the events alone (no database, no engine). Replay compares it with the engine after
every step and answers `?upto=N` with it; the history reads the deadline status from it. Event
types it does not know change nothing here (they are still chained and verified).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

IN_PROGRESS, SUSPENDED, COMPLETED, WITHDRAWN = "in_progress", "suspended", "completed", "withdrawn"
DEADLINE_KEYS = ("statutory_due", "promised_due", "provisional")


class EventLike(Protocol):
    """An event as replay and history read it (an ORM row or a plain row of the same columns)."""

    seq: int
    at: datetime
    actor: str
    type: str
    task_id: int | None
    payload: dict


@dataclass
class OpenTask:
    """A task the record says is open (ready or claimed)."""

    task_id: int
    name: str
    group: str | None
    assignee: str | None = None
    warning: str = "ok"

    def as_dict(self) -> dict[str, Any]:
        """The task as the replay state shows it."""
        return {
            "task_id": str(self.task_id),
            "name": self.name,
            "group": self.group,
            "assignee": self.assignee,
            "warning": self.warning,
        }


@dataclass
class RecordedState:
    """The case as its events describe it after the events applied so far."""

    number: str | None = None
    accepted_at: datetime | None = None
    status: str | None = None
    result: str | None = None
    end: str | None = None
    warning: str = "ok"
    # The workflow itself ended (a case decided at a step, e.g. a commitment's delivery, runs on).
    flow_ended: bool = False
    open: dict[int, OpenTask] = field(default_factory=dict)
    deadlines: dict[str, Any] = field(
        default_factory=lambda: {
            "statutory_due": None,
            "promised_due": None,
            "provisional": None,
            "suspended_days": 0,
            "extended_days": 0,
        }
    )
    stops: int = 0  # suspensions open (manual ones and special procedures)
    manual_stops: int = 0  # suspensions opened by staff (they set the status to suspended)

    def apply(self, event: EventLike) -> None:
        """Move the state past one event."""
        handler = _HANDLERS.get(event.type)
        if handler is not None:
            handler(self, event, event.payload or {})

    @property
    def ended(self) -> bool:
        """True once the record says the case is completed or withdrawn."""
        return self.status in (COMPLETED, WITHDRAWN)

    @property
    def clock_stopped(self) -> bool:
        """True while a suspension or a special procedure holds the clocks."""
        return self.stops > 0

    def open_names(self) -> list[str]:
        """The element ids of the open tasks, sorted (a multiset)."""
        return sorted(t.name for t in self.open.values())

    def facts(self, *, stored: bool) -> dict[str, str]:
        """The case facts expressions read (see app.cases.service.facts), as the record gives them.

        `stored`: as read back from the database (UTC), i.e. in every request after acceptance;
        at acceptance the engine saw the values exactly as the case_accepted event records them.
        """
        out = {}
        if self.accepted_at is not None:
            out["accepted_at"] = self.accepted_at.astimezone(UTC).isoformat()
        for key in ("statutory_due", "promised_due"):
            value = self.deadlines.get(key)
            if value:
                out[key] = datetime.fromisoformat(value).astimezone(UTC).isoformat() if stored else value
        return out

    def as_state(self) -> dict[str, Any]:
        """Open tasks, status and deadlines, as `?upto=N` reports them."""
        return {
            "status": self.status,
            "result": self.result,
            "open_tasks": [t.as_dict() for t in self.open.values()],
            "deadlines": {**self.deadlines, "warning": self.warning, "clock_stopped": self.clock_stopped},
        }

    def set_deadlines(self, payload: dict) -> None:
        """Take the due dates an event carries (absent keys keep their value)."""
        for key in DEADLINE_KEYS:
            if payload.get(key) is not None:
                self.deadlines[key] = payload[key]


def _accepted(s: RecordedState, e: EventLike, p: dict) -> None:
    s.status, s.number, s.accepted_at = IN_PROGRESS, p.get("number"), e.at
    s.set_deadlines(p.get("deadlines") or {})


def _ready(s: RecordedState, e: EventLike, p: dict) -> None:
    if e.task_id is not None:
        s.open[e.task_id] = OpenTask(e.task_id, p.get("name") or "", p.get("group"))


def _task_closed(s: RecordedState, e: EventLike, p: dict) -> None:
    s.open.pop(e.task_id, None)


def _assign(to: Callable[[EventLike, dict], str | None]) -> Callable[[RecordedState, EventLike, dict], None]:
    def handler(s: RecordedState, e: EventLike, p: dict) -> None:
        task = s.open.get(e.task_id)
        if task is not None:
            task.assignee = to(e, p)

    return handler


def _case_completed(s: RecordedState, e: EventLike, p: dict) -> None:
    s.status, s.result, s.end, s.stops, s.manual_stops = COMPLETED, p.get("result"), p.get("end"), 0, 0
    s.flow_ended = not p.get("continues", False)


def _case_closed(s: RecordedState, e: EventLike, p: dict) -> None:
    s.result, s.end, s.flow_ended = p.get("result"), p.get("end"), True


def _withdrawn(s: RecordedState, e: EventLike, p: dict) -> None:
    s.status, s.stops, s.manual_stops, s.flow_ended = WITHDRAWN, 0, 0, True


def _suspended(s: RecordedState, e: EventLike, p: dict) -> None:
    s.stops += 1
    if e.task_id is None:
        s.manual_stops += 1
        s.status = SUSPENDED


def _resumed(s: RecordedState, e: EventLike, p: dict) -> None:
    s.stops = max(0, s.stops - 1)
    s.deadlines["suspended_days"] += int(p.get("added_days") or 0)
    s.set_deadlines(p)
    if e.task_id is None:
        s.manual_stops = max(0, s.manual_stops - 1)
        if s.manual_stops == 0 and s.status == SUSPENDED:
            s.status = IN_PROGRESS


def _extended(s: RecordedState, e: EventLike, p: dict) -> None:
    s.deadlines["extended_days"] = int(p.get("days") or 0)
    s.set_deadlines(p)


def _recomputed(s: RecordedState, e: EventLike, p: dict) -> None:
    s.set_deadlines(p)


def _warning(s: RecordedState, e: EventLike, p: dict) -> None:
    level = p.get("level") or "ok"
    if p.get("scope") == "task":
        task = s.open.get(e.task_id)
        if task is not None:
            task.warning = level
    else:
        s.warning = level


_HANDLERS: dict[str, Callable[[RecordedState, EventLike, dict], None]] = {
    "case_accepted": _accepted,
    "task_ready": _ready,
    "task_completed": _task_closed,
    "task_cancelled": _task_closed,
    "task_claimed": _assign(lambda e, p: e.actor),
    "task_unclaimed": _assign(lambda e, p: None),
    "task_delegated": _assign(lambda e, p: p.get("to")),
    "case_completed": _case_completed,
    "case_closed": _case_closed,
    "case_withdrawn": _withdrawn,
    "case_suspended": _suspended,
    "case_resumed": _resumed,
    "case_extended": _extended,
    "deadlines_recomputed": _recomputed,
    "warning_changed": _warning,
}
