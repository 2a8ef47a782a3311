"""The scheduler's jobs: the deadline sweep and firing due BPMN timers. Each returns (examined, changed).

Both are idempotent (they act only on rows whose stored state lags behind the clock and move them
forward under a row lock), set-based (indexed timestamp comparisons pick the rows; Python touches
only the rows that change), and they catch up everything that fell due while nothing ran.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, union

from app import clock
from app.audit import service as audit
from app.cases.models import IN_PROGRESS, Case
from app.deadlines.service import case_level, level, set_case_level
from app.engine.errors import EngineError
from app.extensions import db
from app.tasks.models import OPEN_STATES, Task

SYSTEM = "system"
BATCH = 500


def _lock(case_id: int) -> Case | None:
    """The case row locked for this pass, or None when another pass holds it (it will come round again)."""
    return db.session.get(Case, case_id, with_for_update={"skip_locked": True}, populate_existing=True)


def sweep_cases(now: datetime | None = None) -> tuple[int, int]:
    """Raise the warning level of every running case whose deadlines the clock has passed."""
    now = now or clock.now()
    running = (Case.status == IN_PROGRESS, Case.clock_stopped_since.is_(None))
    # One index-ordered probe per way of lagging (each uses its partial index), merged: the cost is the
    # number of lagging rows, not the size of the table.
    probes = [
        select(Case.id)
        .where(*running, Case.statutory_due < now, Case.warning != "breach")
        .order_by(Case.statutory_due)
        .limit(BATCH)
        .subquery(),
        select(Case.id)
        .where(*running, Case.promised_due < now, Case.warning.in_(("ok", "warning")))
        .order_by(Case.promised_due)
        .limit(BATCH)
        .subquery(),
        select(Case.id)
        .where(*running, Case.warning_at <= now, Case.warning == "ok")
        .order_by(Case.warning_at)
        .limit(BATCH)
        .subquery(),
    ]
    merged = union(*(select(p.c.id) for p in probes)).subquery()
    ids = db.session.scalars(select(merged.c.id).order_by(merged.c.id).limit(BATCH)).all()
    changed = 0
    for case_id in ids:
        case = _lock(case_id)
        if case is not None and case.status == IN_PROGRESS and case.clock_stopped_since is None:
            changed += set_case_level(case, case_level(case, now), at=now)
    db.session.flush()
    return len(ids), changed


def sweep_tasks(now: datetime | None = None) -> tuple[int, int]:
    """Raise the warning level of every open step with its own limit that the clock has passed."""
    now = now or clock.now()
    running = select(Case.id).where(Case.id == Task.case_id, Case.clock_stopped_since.is_(None)).exists()
    probes = [
        select(Task.id, Task.case_id)
        .where(Task.state.in_(OPEN_STATES), Task.due_at < now, Task.warning != "overdue", running)
        .order_by(Task.due_at)
        .limit(BATCH)
        .subquery(),
        select(Task.id, Task.case_id)
        .where(Task.state.in_(OPEN_STATES), Task.warning_at <= now, Task.warning == "ok", running)
        .order_by(Task.warning_at)
        .limit(BATCH)
        .subquery(),
    ]
    merged = union(*(select(p.c.id, p.c.case_id) for p in probes)).subquery()
    rows = db.session.execute(
        select(merged.c.id, merged.c.case_id).order_by(merged.c.case_id, merged.c.id).limit(BATCH)
    ).all()
    changed = 0
    for task_id, case_id in rows:
        case = _lock(case_id)
        task = db.session.get(Task, task_id, populate_existing=True)
        if case is None or task.state not in OPEN_STATES:
            continue
        new = level(now=now, warning_at=task.warning_at, promised_due=task.due_at)
        if new != task.warning:
            audit.record(
                case,
                "warning_changed",
                actor=SYSTEM,
                task_id=task.id,
                at=now,
                payload={"scope": "task", "name": task.name, "level": new, "previous": task.warning},
            )
            task.warning = new
            changed += 1
    db.session.flush()
    return len(rows), changed


def fire_timers(now: datetime | None = None) -> tuple[int, int]:
    """Fire the BPMN timers that fell due: run each such case on, materialize its tasks, audit.

    Each case runs in a savepoint of its own within the engine's budget: a case whose step fails or
    exceeds the budget is rolled back to where it was, marked with an incident (its timer is not
    retried until someone repairs it), and the pass goes on with every other case."""
    from app.cases import incidents
    from app.errors import CaseIncident

    now = now or clock.now()
    ids = db.session.scalars(
        select(Case.id)
        .where(Case.next_timer_at <= now, Case.clock_stopped_since.is_(None))
        .order_by(Case.next_timer_at)
        .limit(BATCH)
    ).all()
    fired = 0
    for case_id in ids:
        savepoint = db.session.begin_nested()
        try:
            fired += _fire_case(case_id, now)
            savepoint.commit()
        except (EngineError, CaseIncident) as exc:
            savepoint.rollback()
            case = _lock(case_id)
            if case is not None:
                case.next_timer_at = None
                message = exc.detail if isinstance(exc, CaseIncident) else str(exc)
                element = exc.extra.get("element") if isinstance(exc, CaseIncident) else exc.element
                incidents.record(case=case, element=element, message=message, actor=SYSTEM)
    db.session.flush()
    return len(ids), fired


def _fire_case(case_id: int, now: datetime) -> int:
    """Fire one case's due timers (1 if any fired, else 0); EngineError or CaseIncident when it cannot."""
    from app.cases.service import load_run, store_run
    from app.tasks.service import sync

    case = _lock(case_id)
    # Timers run while the workflow runs: in progress, or decided with steps after the decision.
    if case is None or case.next_timer_at is None or case.next_timer_at > now or case.clock_stopped_since:
        return 0
    run = load_run(case)
    elements = run.fire_timers(at=now)
    if elements:
        audit.record(case, "timer_fired", actor=SYSTEM, at=now, payload={"elements": elements})
        sync(case=case, run=run, actor=SYSTEM, now=now)
    store_run(case, run, actor=SYSTEM, now=now)
    return 1 if elements else 0
