"""Deadlines of cases and steps in working days; the clocks that suspensions stop and start."""

from __future__ import annotations

from datetime import datetime, time

from flask import current_app
from sqlalchemy import select

from app import clock
from app.audit import service as audit
from app.deadlines import calendar
from app.deadlines.models import Suspension
from app.deadlines.workdays import SHANGHAI, local_date
from app.extensions import db
from app.matters.models import Matter
from app.tasks.models import OPEN_STATES, Task

LEVELS = ("ok", "warning", "overdue", "breach")
CORRECTION, SPECIAL_PROCEDURE = "correction", "special_procedure"


def default_warning_days() -> int:
    """Working days before the promised due date at which warning starts (1: on the last working day)."""
    return int(current_app.config["WARNING_DAYS_BEFORE_PROMISED"])


def warning_days_for(case) -> int | None:
    """The warning threshold of the case's matter (None: the configured default)."""
    return db.session.scalar(select(Matter.warning_days).where(Matter.code == case.matter_code))


def due_dates(
    *,
    accepted_at: datetime,
    statutory_days: int,
    promised_days: int,
    suspended_days: int = 0,
    extended_days: int = 0,
    warning_days: int | None = None,
) -> dict:
    """Both due times, when warning starts, and whether any of it rests on an unloaded year."""
    cal = calendar.current()
    accepted_on = local_date(accepted_at)
    _, statutory_due, prov_s = cal.due(accepted_on, statutory_days + suspended_days + extended_days)
    promised_on, promised_due, prov_p = cal.due(accepted_on, promised_days + suspended_days)
    k = default_warning_days() if warning_days is None else warning_days
    warn_on = cal.workday_before(promised_on, max(k - 1, 0)) if k > 0 else promised_on
    warning_at = datetime.combine(max(warn_on, accepted_on), time.min, tzinfo=SHANGHAI)
    if k <= 0:
        warning_at = promised_due
    return {
        "statutory_due": statutory_due,
        "promised_due": promised_due,
        "warning_at": warning_at,
        "provisional": prov_s or prov_p,
    }


def step_due(*, started_at: datetime, limit_days: int) -> tuple[datetime, datetime]:
    """(due_at, warning_at) of a step with its own limit: warned from the start of its last working day."""
    cal = calendar.current()
    due_on, due_at, _ = cal.due(local_date(started_at), limit_days)
    return due_at, datetime.combine(due_on, time.min, tzinfo=SHANGHAI)


def level(
    *, now: datetime, warning_at: datetime | None, promised_due: datetime | None, statutory_due: datetime | None = None
) -> str:
    """ok -> warning -> overdue (past promised, or past a step's due) -> breach (past statutory)."""
    if statutory_due is not None and now > statutory_due:
        return "breach"
    if promised_due is not None and now > promised_due:
        return "overdue"
    if warning_at is not None and now >= warning_at:
        return "warning"
    return "ok"


def recompute(case, *, warning_days: int | None) -> dict:
    """Set the case's due dates from its pinned limits, suspended and extended days, and its level."""
    dues = due_dates(
        accepted_at=case.accepted_at,
        statutory_days=case.statutory_days,
        promised_days=case.promised_days,
        suspended_days=case.suspended_days,
        extended_days=case.extended_days,
        warning_days=warning_days,
    )
    for key, value in dues.items():
        setattr(case, key, value)
    if case.clock_stopped_since is None:
        set_case_level(case, case_level(case, clock.now()))
    return dues


def case_level(case, now: datetime) -> str:
    """The warning level the case should show now."""
    return level(now=now, warning_at=case.warning_at, promised_due=case.promised_due, statutory_due=case.statutory_due)


def set_case_level(case, new: str, *, actor: str = "system", at: datetime | None = None) -> bool:
    """Store a case's warning level; a change is one `warning_changed` event. Returns whether it changed."""
    if new == case.warning:
        return False
    audit.record(
        case, "warning_changed", actor=actor, at=at, payload={"scope": "case", "level": new, "previous": case.warning}
    )
    case.warning = new
    return True


def open_suspensions(case_id: int) -> list[Suspension]:
    """The case's suspensions still running."""
    return list(
        db.session.scalars(
            select(Suspension)
            .where(Suspension.case_id == case_id, Suspension.ended_at.is_(None))
            .order_by(Suspension.id)
        )
    )


def stop_clock(case, *, kind: str, reason: str, actor: str, task_id: int | None = None) -> Suspension:
    """Open a suspension: both clocks stand still until the last open suspension ends."""
    now = clock.now()
    suspension = Suspension(
        case_id=case.id, kind=kind, reason=reason, task_id=task_id, started_at=now, started_by=actor
    )
    db.session.add(suspension)
    if case.clock_stopped_since is None:
        case.clock_stopped_since = now
    audit.record(case, "case_suspended", actor=actor, at=now, task_id=task_id, payload={"kind": kind, "reason": reason})
    return suspension


def start_clock(case, suspension: Suspension, *, actor: str, note: str | None, warning_days: int | None) -> int:
    """End a suspension; when it was the last one, add back the working days the clocks stood still.

    Suspended on day S, resumed on day R: the working days after S up to and including R are added
    (resumed the same day: none), and both due dates move by that many working days.
    """
    now = clock.now()
    suspension.ended_at, suspension.ended_by, suspension.note = now, actor, note
    db.session.flush()
    added = 0
    if not open_suspensions(case.id) and case.clock_stopped_since is not None:
        added = calendar.current().workdays_between(local_date(case.clock_stopped_since), local_date(now))
        case.clock_stopped_since = None
        case.suspended_days += added
        recompute(case, warning_days=warning_days)
        _shift_open_steps(case.id, added)
    suspension.added_days = added
    audit.record(
        case,
        "case_resumed",
        actor=actor,
        at=now,
        task_id=suspension.task_id,
        payload={
            "kind": suspension.kind,
            "note": note,
            "added_days": added,
            "statutory_due": case.statutory_due.isoformat(),
            "promised_due": case.promised_due.isoformat(),
        },
    )
    return added


def _shift_open_steps(case_id: int, added: int) -> None:
    """Open steps with their own limit move by the same working days as the case."""
    if added <= 0:
        return
    for task in _open_steps(case_id):
        task.shifted_days += added
        task.due_at, task.warning_at = step_due(
            started_at=task.created_at, limit_days=task.limit_days + task.shifted_days
        )


def _open_steps(case_id: int) -> list[Task]:
    return list(
        db.session.scalars(
            select(Task).where(Task.case_id == case_id, Task.state.in_(OPEN_STATES), Task.limit_days.is_not(None))
        )
    )
