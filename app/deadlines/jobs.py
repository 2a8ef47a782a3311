"""The scheduler's jobs: the deadline sweep, firing due BPMN timers, and recomputing provisional
deadlines after a calendar load. The passes return (examined, changed).

All are idempotent (they act only on rows whose stored state lags behind the clock and move them
forward under a row lock) and they catch up everything that fell due while nothing ran. The two
sweeps are set-based: indexed probes pick the lagging rows, one locking read takes a whole batch
(SKIP LOCKED: rows another pass holds come round again), Python computes the new levels and chains
their events (the same hash chain as recording them one by one), and one executemany each writes
the events, the rows and the cases' chain heads. Timers run each case's workflow through the case
runtime, one case at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select, union, update

from app import clock
from app.audit import service as audit
from app.cases import incidents
from app.cases.locks import lock_for_timers
from app.cases.models import IN_PROGRESS, SUSPENDED, Case, snapshot_seq
from app.cases.runtime import load_run, reschedule, store_run
from app.cases.task_rows import sync
from app.deadlines.service import level, recompute, step_due, warning_days_for
from app.deadlines.workdays import SHANGHAI
from app.engine.runtime import EngineError
from app.errors import CaseIncident
from app.extensions import db
from app.supervision import cards
from app.tasks.models import OPEN_STATES, Task

SYSTEM = "system"
# Rows a probe takes per pass: timers are fired one case at a time; a sweep batch (up to one BATCH per
# way of lagging) is changed set-based, in a few statements. A larger probe LIMIT makes the planner
# leave the partial indexes for a scan of the open rows in the steady passes (the usual case).
BATCH = 500
CASES, TASKS = Case.__table__, Task.__table__

# Chain heads of the cases whose events a sweep wrote (the row was locked by the sweep's read).
_MOVE_HEAD = (
    update(CASES)
    .where(CASES.c.id == bindparam("b_id"))
    .values(event_seq=bindparam("b_seq"), last_hash=bindparam("b_hash"), state_version=CASES.c.state_version + 1)
)
_CASE_LEVEL = _MOVE_HEAD.values(warning=bindparam("b_level"))
_TASK_LEVEL = update(TASKS).where(TASKS.c.id == bindparam("b_id")).values(warning=bindparam("b_level"))


@dataclass
class _Head:
    """A case's chain head as a sweep read it."""

    id: int
    event_seq: int
    last_hash: bytes | None


def _lock(case_id: int) -> Case | None:
    """The case row locked for this pass, or None when another pass holds it (it will come round again)."""
    return db.session.get(Case, case_id, with_for_update={"skip_locked": True}, populate_existing=True)


def _lagging_cases(now: datetime) -> list[int]:
    """Ids of running cases whose level lags the clock: one index-ordered probe per way of lagging
    (each uses its partial index), merged, so the cost is the lagging rows, not the table."""
    running = (Case.status == IN_PROGRESS, Case.clock_stopped_since.is_(None))
    probes = [
        select(Case.id)
        .where(*running, Case.statutory_due < now, Case.warning != "breach")
        .order_by(Case.statutory_due),
        select(Case.id)
        .where(*running, Case.promised_due < now, Case.warning.in_(("ok", "warning")))
        .order_by(Case.promised_due),
        select(Case.id).where(*running, Case.warning_at <= now, Case.warning == "ok").order_by(Case.warning_at),
    ]
    merged = union(*(select(p.limit(BATCH).subquery().c.id) for p in probes)).subquery()
    return list(db.session.scalars(select(merged.c.id).order_by(merged.c.id)))


def sweep_cases(now: datetime | None = None) -> tuple[int, int]:
    """Raise the warning level of every running case whose deadlines the clock has passed."""
    now = now or clock.now()
    ids = _lagging_cases(now)
    if not ids:
        return 0, 0
    rows = db.session.execute(
        select(Case.id, Case.event_seq, Case.last_hash, Case.warning, Case.warning_at, Case.promised_due)
        .add_columns(Case.statutory_due)
        .where(Case.id.in_(ids), Case.status == IN_PROGRESS, Case.clock_stopped_since.is_(None))
        .order_by(Case.id)
        .with_for_update(skip_locked=True)
    ).all()
    events, changed = [], []
    for row in rows:
        new = level(now=now, warning_at=row.warning_at, promised_due=row.promised_due, statutory_due=row.statutory_due)
        if new == row.warning:
            continue
        head = _Head(row.id, row.event_seq, row.last_hash)
        payload = {"scope": "case", "level": new, "previous": row.warning}
        events.append(audit.chain(head, "warning_changed", actor=SYSTEM, at=now, payload=payload))
        changed.append((head, None, new))
    events += _open_cards(changed, now)
    heads = [{"b_id": h.id, "b_seq": h.event_seq, "b_hash": h.last_hash, "b_level": new} for h, _, new in changed]
    if heads:
        audit.append_all(events)
        db.session.execute(_CASE_LEVEL, heads)
    return len(ids), len(heads)


def _open_cards(changed: list[tuple[_Head, int | None, str]], now: datetime) -> list[dict]:
    """The cards of the level changes just chained (电子监察), in the same transaction and under the same
    row locks as the changes: each change opens its card once. Returns their `card_opened` events."""
    opened = cards.open_auto(changes=[(h.id, task_id, new, h.event_seq) for h, task_id, new in changed], now=now)
    events = []
    for head, task_id, _ in changed:
        card = opened.get((head.id, task_id))
        if card is not None:
            payload = cards.event_payload(card)
            events.append(audit.chain(head, "card_opened", actor=SYSTEM, task_id=task_id, at=now, payload=payload))
    return events


def _lagging_tasks(now: datetime) -> list[int]:
    """Ids of open steps with their own limit whose level lags the clock (cases' clocks running)."""
    running = select(Case.id).where(Case.id == Task.case_id, Case.clock_stopped_since.is_(None)).exists()
    open_ = Task.state.in_(OPEN_STATES)
    probes = [
        select(Task.id).where(open_, Task.due_at < now, Task.warning != "overdue", running).order_by(Task.due_at),
        select(Task.id).where(open_, Task.warning_at <= now, Task.warning == "ok", running).order_by(Task.warning_at),
    ]
    merged = union(*(select(p.limit(BATCH).subquery().c.id) for p in probes)).subquery()
    return list(db.session.scalars(select(merged.c.id).order_by(merged.c.id)))


def sweep_tasks(now: datetime | None = None) -> tuple[int, int]:
    """Raise the warning level of every open step with its own limit that the clock has passed."""
    now = now or clock.now()
    ids = _lagging_tasks(now)
    if not ids:
        return 0, 0
    rows = db.session.execute(
        select(Task.id, Task.case_id, Task.name, Task.warning, Task.warning_at, Task.due_at)
        .add_columns(Case.event_seq, Case.last_hash, snapshot_seq(Case))
        .join(Case, Case.id == Task.case_id)
        .where(Task.id.in_(ids), Task.state.in_(OPEN_STATES))
        .order_by(Task.case_id, Task.id)
        .with_for_update(of=Case, skip_locked=True)
    ).all()
    events, levels, heads, changed = [], [], {}, []
    for row in rows:
        if row.snapshot_seq != row.event_seq:  # the case changed as it was locked: its task row is stale
            continue  # (see snapshot_seq); like a row skipped locked, it comes round in the next pass
        new = level(now=now, warning_at=row.warning_at, promised_due=row.due_at)
        if new == row.warning:
            continue
        head = heads.setdefault(row.case_id, _Head(row.case_id, row.event_seq, row.last_hash))
        payload = {"scope": "task", "name": row.name, "level": new, "previous": row.warning}
        events.append(audit.chain(head, "warning_changed", actor=SYSTEM, task_id=row.id, at=now, payload=payload))
        levels.append({"b_id": row.id, "b_level": new})
        changed.append((head, row.id, new))
    events += _open_cards(changed, now)
    if levels:
        audit.append_all(events)
        db.session.execute(_TASK_LEVEL, levels)
        moved = [{"b_id": h.id, "b_seq": h.event_seq, "b_hash": h.last_hash} for h in heads.values()]
        db.session.execute(_MOVE_HEAD, moved)
    return len(ids), len(levels)


def fire_timers(now: datetime | None = None) -> tuple[int, int]:
    """Fire the BPMN timers that fell due: run each such case on, materialize its tasks, audit.

    Each case runs in a savepoint of its own within the engine's budget: a case whose step fails or
    exceeds the budget is rolled back to where it was, marked with an incident (its timer is not
    retried until someone repairs it), and the pass goes on with every other case."""
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
    locked = lock_for_timers(case_id)
    if locked is None:
        return 0
    case, open_rows, stored = locked
    # Timers run while the workflow runs: in progress, or decided with steps after the decision.
    if case.next_timer_at is None or case.next_timer_at > now or case.clock_stopped_since:
        return 0
    run = load_run(case, stored)
    elements = run.fire_timers(at=now)
    if elements:
        audit.record(case, "timer_fired", actor=SYSTEM, at=now, payload={"elements": elements})
        sync(case=case, run=run, actor=SYSTEM, now=now, open_rows=open_rows)
    store_run(case, run, actor=SYSTEM, now=now)
    return 1 if elements else 0


def recompute_provisional(*, actor: str, year: int) -> int:
    """After `year`'s arrangement is loaded: recompute every open case whose deadlines were provisional,
    and every open step with its own limit due in that year or later.

    Each case whose due dates change gets one `deadlines_recomputed` event. Returns how many changed.
    """
    since = datetime(year, 1, 1, tzinfo=SHANGHAI)
    for task in db.session.scalars(
        select(Task).where(Task.state.in_(OPEN_STATES), Task.limit_days.is_not(None), Task.due_at >= since)
    ):
        task.due_at, task.warning_at = step_due(
            started_at=task.created_at, limit_days=task.limit_days + task.shifted_days
        )

    ids = db.session.scalars(
        select(Case.id).where(Case.provisional.is_(True), Case.status.in_((IN_PROGRESS, SUSPENDED))).order_by(Case.id)
    ).all()
    changed = 0
    for case_id in ids:
        case = db.session.get(Case, case_id, with_for_update=True, populate_existing=True)
        before = (case.statutory_due, case.promised_due, case.provisional)
        recompute(case, warning_days=warning_days_for(case))
        if (case.statutory_due, case.promised_due, case.provisional) != before:
            audit.record(
                case,
                "deadlines_recomputed",
                actor=actor,
                payload={
                    "reason": "日历更新 calendar loaded",
                    "statutory_due": case.statutory_due.isoformat(),
                    "promised_due": case.promised_due.isoformat(),
                    "provisional": case.provisional,
                    "previous": {"statutory_due": before[0].isoformat(), "promised_due": before[1].isoformat()},
                },
            )
            changed += 1
            reschedule(case, actor=actor, now=clock.now())
    db.session.flush()
    return changed
