"""The task rows of a case kept in step with its workflow (part of the case runtime's step).

After each engine step `sync` inserts a row for every newly READY user task (its group resolved, its
own limit when the step has `time_limit`, the case's searchable columns copied) and cancels the rows
whose engine task is gone; a `special_procedure` step stops the case's clocks while it is open.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy import inspect as sa_inspect

from app import clock
from app.audit import service as audit
from app.cases.models import Case
from app.deadlines import service as deadlines
from app.engine.runtime import ReadyTask, Run
from app.errors import CaseIncident
from app.extensions import db, insert_now, run_core
from app.tasks import groups
from app.tasks import service as tasks
from app.tasks.models import CANCELLED, READY, Task, case_columns


def sync(
    *,
    case: Case,
    run: Run,
    actor: str,
    now: datetime | None = None,
    open_rows: list[Task] | None = None,
    task_ids: list[int] | None = None,
) -> list[Task]:
    """Make the task table match the engine: insert newly READY tasks, cancel rows the engine dropped.

    `open_rows` may be passed when the caller knows them (a new case has none). A step with a
    `time_limit` property gets its own due time; a `special_procedure` step stops the case's clocks
    while it is open. `task_ids`: ids already drawn from the tasks' sequence (PostgreSQL); the new
    rows take them (drawing more if needed) and stay pending, written by the step's one write
    (app/cases/writeback.py); without them the rows are inserted now.
    """
    now = now or clock.now()
    ready = {t.id: t for t in run.ready_tasks()}
    if open_rows is None:
        open_rows = tasks.list_open(case.id)
    for row in open_rows:
        if row.engine_task_id not in ready:
            row.state = CANCELLED
            audit.record(case, "task_cancelled", actor=actor, task_id=row.id, at=now, payload={"name": row.name})
            close_special_procedure(case, run, row, actor=actor)
    known = {row.engine_task_id for row in open_rows}
    created = [_new_row(case, ready_task, now) for engine_id, ready_task in ready.items() if engine_id not in known]
    if created:
        # A special procedure's suspension names its task (a foreign key): that row is inserted now.
        if task_ids is not None and not any(_is_special_procedure(run, row) for row in created):
            # their ids known now, for the events; the rows are written with the step
            for row, drawn in zip(created, _enough(task_ids, len(created)), strict=True):
                row.id = drawn
            db.session.add_all(created)
        else:
            if sa_inspect(case).pending:  # a new case not written yet (its rows reference it): now
                db.session.flush()
            insert_now(created)  # their ids, for the events; the case row is written once, later
        for row in created:
            payload = {"name": row.name, "group": row.group}
            audit.record(case, "task_ready", actor="system", task_id=row.id, at=now, payload=payload)
            if _is_special_procedure(run, row):
                reason = f"特别程序：{row.title}"
                kind = deadlines.SPECIAL_PROCEDURE
                deadlines.stop_clock(case, kind=kind, reason=reason, actor="system", task_id=row.id)
    return created


def _new_row(case: Case, ready_task: ReadyTask, now: datetime) -> Task:
    spec = ready_task.spec
    row = Task(
        case_id=case.id,
        engine_task_id=ready_task.id,
        name=spec.name,
        title=spec.title,
        form=spec.form,
        group=_group_of(ready_task),
        state=READY,
        created_at=now,
        **case_columns(case),
    )
    limit = spec.properties.get("time_limit")
    if limit:
        row.limit_days = int(limit)
        row.due_at, row.warning_at = deadlines.step_due(started_at=now, limit_days=row.limit_days)
    return row


def _is_special_procedure(run: Run, row: Task) -> bool:
    spec = run.definition.human_tasks.get(row.name)
    return spec is not None and spec.properties.get("special_procedure", "").lower() in ("true", "1", "yes")


def close_special_procedure(case: Case, run: Run, row: Task, *, actor: str) -> int:
    """When a special-procedure step ends (completed or cancelled), its suspension ends with it.

    Returns the working days added to the case's deadlines (0 when none moved).
    """
    added = 0
    if not _is_special_procedure(run, row):
        return added
    for suspension in deadlines.open_suspensions(case.id):
        if suspension.task_id == row.id:
            warning_days = deadlines.warning_days_for(case)
            note = f"{row.title}结束"
            added += deadlines.start_clock(case, suspension, actor=actor, note=note, warning_days=warning_days)
    return added


def _group_of(ready_task: ReadyTask) -> str | None:
    try:
        return groups.resolve(ready_task)
    except groups.GroupUnresolved as exc:
        raise CaseIncident(str(exc), element=exc.element) from exc


def _enough(drawn: list[int], needed: int) -> list[int]:
    """`needed` task ids: those drawn, and more from the sequence when they do not suffice."""
    if needed <= len(drawn):
        return drawn[:needed]
    more = select(func.nextval(func.pg_get_serial_sequence("tasks", "id"))).select_from(
        func.generate_series(1, needed - len(drawn))
    )
    return [*drawn, *run_core(more).scalars()]
