"""The step transaction's locking reads (app/cases/runtime.py): one statement each reads and locks the
case row with what a step needs, its open tasks and its stored workflow state.

- `lock_step` (a complete): by the task; on PostgreSQL it also draws the id of the task row the step
  will most likely create. A read that had to wait for the lock is repeated (`snapshot_seq`).
- `lock_for_timers` (the timer job): by the case, SKIP LOCKED (a case another pass holds comes round
  again).
"""

from __future__ import annotations

from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.orm import load_only

from app.cases import writeback
from app.cases.models import Case, CaseState, snapshot_seq
from app.errors import NotFound
from app.extensions import db
from app.tasks.models import OPEN_STATES, Task

STATE = CaseState.__table__
# The case columns a step reads (its facts, its status, its chain head and version); the rest stay in
# the database unless a rarer path (a special procedure's suspension) asks for them.
_FOR_A_STEP = load_only(
    Case.process_version_id,
    Case.status,
    Case.result,
    Case.end_event,
    Case.accepted_at,
    Case.completed_at,
    Case.statutory_due,
    Case.promised_due,
    Case.clock_stopped_since,
    Case.next_timer_at,
    Case.event_seq,
    Case.last_hash,
    Case.state_version,
    # what a new task row copies from its case (tasks.models.case_columns) and what a document prints
    Case.number,
    Case.matter_code,
    Case.department,
    Case.applicant,
)


_CASE_OF_TASK = select(Task.case_id).where(Task.id == bindparam("p_task_id")).scalar_subquery()
_LOCK_STEP = (  # built once: a module constant also keeps its cache key, computed once
    select(Case, Task, STATE.c.state, STATE.c.format, snapshot_seq(Case))
    .join(Task, Task.case_id == Case.id)
    .outerjoin(STATE, STATE.c.case_id == Case.id)
    # One comparison per open state rather than IN (...): an IN of a tuple is an "expanding" parameter,
    # re-rendered into the SQL text at every execution.
    .where(Case.id == _CASE_OF_TASK, or_(*(Task.state == s for s in OPEN_STATES), Task.id == bindparam("p_task_id")))
    .order_by(Task.id)
    .options(_FOR_A_STEP)
    .with_for_update(of=Case)
    .execution_options(populate_existing=True)
)
# PostgreSQL: the same read also draws the id of the task row the step will most likely create (once
# per statement), so the new row goes out with the step's one write instead of an INSERT of its own;
# a step that creates none leaves a gap in the ids, one that creates more draws the rest (task_rows).
_LOCK_STEP_DRAWING_AN_ID = _LOCK_STEP.add_columns(
    select(func.nextval(func.pg_get_serial_sequence("tasks", "id"))).scalar_subquery().label("next_task_id")
)


_LOCK_FOR_TIMERS = (  # built once
    select(Case, Task, STATE.c.state, STATE.c.format)
    .outerjoin(Task, and_(Task.case_id == Case.id, or_(*(Task.state == s for s in OPEN_STATES))))
    .outerjoin(STATE, STATE.c.case_id == Case.id)
    .where(Case.id == bindparam("p_case_id"))
    .order_by(Task.id)
    .options(_FOR_A_STEP)
    .with_for_update(of=Case, skip_locked=True)
    .execution_options(populate_existing=True)
)


def lock_for_timers(case_id: int) -> tuple[Case, list[Task], tuple[bytes, str] | None] | None:
    """The timer job's one locking read of a case: the columns a step needs, its open tasks and its
    stored state (None when another pass holds the case: SKIP LOCKED, it comes round again).

    What the timer step read in three statements (the case, its state, its open tasks, the last after
    an autoflush of the step's first event), as the complete's locking read does in one."""
    rows = db.session.execute(_LOCK_FOR_TIMERS, {"p_case_id": case_id}).all()
    if not rows:
        return None
    first = rows[0]
    stored = (first.state, first.format) if first.state is not None else None
    return first.Case, [row.Task for row in rows if row.Task is not None], stored


def lock_step(task_id: int) -> tuple[Case, Task, list[Task], tuple[bytes, str] | None, list[int] | None]:
    """One locking read: the columns of the task's case row a step needs, the task, the case's open
    tasks and the stored workflow state.

    The case row is locked like a claim locks it (tasks.service), so changes to one case are
    serialized in one order and cannot deadlock each other. A read that had to wait for the lock is
    repeated (see `snapshot_seq`), so a step always runs on what the previous one stored.
    """
    drawing = writeback.applies()
    statement = _LOCK_STEP_DRAWING_AN_ID if drawing else _LOCK_STEP
    rows = db.session.execute(statement, {"p_task_id": task_id}).all()
    if rows and rows[0].snapshot_seq != rows[0].Case.event_seq:
        # It waited for the row while another change of the case committed: the case row is the newest,
        # its tasks and state are not (PostgreSQL re-reads only the locked row). Read again, holding it.
        rows = db.session.execute(statement, {"p_task_id": task_id}).all()
    if not rows:
        raise NotFound(f"任务 {task_id} 不存在 No such task.")
    first = rows[0]
    task = next(row.Task for row in rows if row.Task.id == task_id)
    stored = (first.state, first.format) if first.state is not None else None
    ids = [first.next_task_id] if drawing else None
    return first.Case, task, [row.Task for row in rows if row.Task.state in OPEN_STATES], stored, ids
