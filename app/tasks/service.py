"""Human tasks: keep the task table in step with the engine; claim, unclaim, delegate, complete."""

from __future__ import annotations

from sqlalchemy import func, or_, select, update

from app import clock
from app.audit import service as audit
from app.cases.models import COMPLETED as CASE_COMPLETED
from app.cases.models import IN_PROGRESS, Case
from app.deadlines import service as deadlines
from app.engine.runtime import EngineError, ReadyTask, Run
from app.errors import CaseIncident, Conflict, Forbidden, Invalid, NotFound
from app.extensions import db
from app.identity.principal import Principal
from app.identity.service import get_user
from app.tasks import forms, groups
from app.tasks.models import CANCELLED, CLAIMED, COMPLETED, OPEN_STATES, READY, Task, case_columns

OVERSEERS = ("supervisor", "auditor")
# Tasks the platform itself opens (e.g. the follow-up of a bad evaluation) carry no engine task.
PLATFORM_TASK = "platform:"


def get(*, task_id: int) -> Task | None:
    """The task with this id, or None."""
    return db.session.get(Task, task_id)


def get_or_raise(*, task_id: int) -> Task:
    """The task with this id (NotFound otherwise)."""
    task = get(task_id=task_id)
    if task is None:
        raise NotFound(f"任务 {task_id} 不存在 No such task.")
    return task


def get_visible(*, task_id: int, principal: Principal) -> Task:
    """A task the principal may see: its group's members, its holder, supervisors and auditors."""
    task = get_or_raise(task_id=task_id)
    if not (principal.in_group(task.group) or task.assignee == principal.username or principal.has_role(*OVERSEERS)):
        raise Forbidden("该任务不属于您所在的岗位组 The task belongs to another group.")
    return task


INBOX_ORDER = {
    # Steps without a limit of their own come after those with one; "-due" is the exact reverse.
    "due": (Task.due_at.asc().nulls_last(), Task.id.asc()),
    "-due": (Task.due_at.desc().nulls_first(), Task.id.desc()),
    "created": (Task.created_at.asc(), Task.id.asc()),
}


def list_tasks(
    *,
    principal: Principal,
    scope: str,
    page: int,
    per_page: int,
    matter_code: str | None = None,
    warning: str | None = None,
    q: str | None = None,
    sort: str = "due",
) -> tuple[list[Task], int]:
    """The principal's inbox: `mine` (claimed by me) or `claimable` (ready in my groups), filtered and sorted.

    `q` is a whole case number or a whole applicant name. Every filter reads columns of the task row
    (copied from its case when it opened) under partial indexes of the open rows: no join.
    """
    if scope == "mine":
        where = [Task.state == CLAIMED, Task.assignee == principal.username]
    else:
        if not principal.groups:
            return [], 0
        where = [Task.state == READY, Task.group.in_(sorted(principal.groups))]
    if matter_code:
        where.append(Task.matter_code == matter_code)
    if warning:
        where.append(Task.warning == warning)
    if q:
        where.append(or_(Task.case_number == q, Task.applicant_name == q))
    total = db.session.scalar(select(func.count()).select_from(Task).where(*where))
    # The page's ids first (an index-only scan, however deep the page), then only those rows.
    order = INBOX_ORDER[sort]
    ids = select(Task.id).where(*where).order_by(*order).limit(per_page).offset((page - 1) * per_page).subquery()
    rows = db.session.scalars(select(Task).join(ids, ids.c.id == Task.id).order_by(*order)).all()
    return list(rows), total


def _locked(task_id: int) -> tuple[Case, Task, list[Task]]:
    """In one round trip: the task's case row, locked, with the task and the case's open tasks.

    Every change to a task takes its case's lock first (claims and completions alike), so changes
    to one case are serialized in one order and cannot deadlock each other.
    """
    case_of_task = select(Task.case_id).where(Task.id == task_id).scalar_subquery()
    rows = db.session.execute(
        select(Case, Task)
        .join(Task, Task.case_id == Case.id)
        .where(Case.id == case_of_task, or_(Task.state.in_(OPEN_STATES), Task.id == task_id))
        .order_by(Task.id)
        .with_for_update(of=Case)
        .execution_options(populate_existing=True)
    ).all()
    if not rows:
        raise NotFound(f"任务 {task_id} 不存在 No such task.")
    case = rows[0][0]
    task = next(t for _, t in rows if t.id == task_id)
    return case, task, [t for _, t in rows if t.state in OPEN_STATES]


def _conditional(task_id: int, where: tuple, values: dict) -> Task | None:
    """One conditional UPDATE of a task, returning the row when it matched (None: someone else won)."""
    return db.session.scalars(
        update(Task)
        .where(Task.id == task_id, *where)
        .values(**values)
        .returning(Task)
        .execution_options(populate_existing=True)
    ).first()


def claim(*, task_id: int, principal: Principal) -> Task:
    """Take a ready task of one's group: one conditional UPDATE; whoever comes second gets 409."""
    case, task, _ = _locked(task_id)
    if not principal.in_group(task.group):
        raise Forbidden("只有本岗位组成员可以认领 Only members of the task's group can claim it.")
    won = _conditional(
        task_id,
        (Task.state == READY, Task.assignee.is_(None)),
        {"state": CLAIMED, "assignee": principal.username, "claimed_at": clock.now()},
    )
    if won is None:
        raise Conflict("任务已被他人认领或已办结 The task is held by someone else or is done.")
    audit.record(case, "task_claimed", actor=principal.username, task_id=task_id, payload={"name": task.name})
    db.session.flush()
    return won


def _holder_only(task: Task, principal: Principal) -> None:
    if not (principal.in_group(task.group) or task.assignee == principal.username or principal.has_role(*OVERSEERS)):
        raise Forbidden("该任务不属于您所在的岗位组 The task belongs to another group.")
    if task.state == CLAIMED and task.assignee != principal.username:
        raise Forbidden("只有认领人可以操作该任务 Only the holder can do this.")


def unclaim(*, task_id: int, principal: Principal) -> Task:
    """Give a claimed task back to its group."""
    case, task, _ = _locked(task_id)
    _holder_only(task, principal)
    released = _conditional(
        task_id,
        (Task.state == CLAIMED, Task.assignee == principal.username),
        {"state": READY, "assignee": None, "claimed_at": None},
    )
    if released is None:
        raise Conflict("任务未被您认领 The task is not claimed by you.")
    audit.record(case, "task_unclaimed", actor=principal.username, task_id=task_id, payload={"name": task.name})
    db.session.flush()
    return released


def delegate(*, task_id: int, principal: Principal, to: str, reason: str) -> Task:
    """Hand a task one holds to a colleague of the same group, with a reason."""
    case, task, _ = _locked(task_id)
    _holder_only(task, principal)
    colleague = get_user(username=to)
    if colleague is None or not colleague.active:
        raise Invalid("转交对象不存在 No such colleague.", errors={"to": ["用户不存在 unknown user"]})
    if task.group not in {g.code for g in colleague.groups}:
        raise Invalid(
            "转交对象不在该任务的岗位组 The colleague is not in the task's group.",
            errors={"to": ["不在岗位组 not in the task's group"]},
        )
    moved = _conditional(
        task_id,
        (Task.state == CLAIMED, Task.assignee == principal.username),
        {"assignee": to, "claimed_at": clock.now()},
    )
    if moved is None:
        raise Conflict("任务未被您认领 Claim the task before delegating it.")
    audit.record(
        case,
        "task_delegated",
        actor=principal.username,
        task_id=task_id,
        payload={"name": task.name, "to": to, "reason": reason},
    )
    db.session.flush()
    return moved


def complete(*, task_id: int, principal: Principal, data: dict) -> tuple[Task, Case, list[Task]]:
    """Finish a task one holds: run the engine step, materialize the next tasks, audit, all or nothing.

    The case row is locked with the task and its siblings read in the same statement: two
    completions of one task (or of two tasks of one case) are serialized, and the second sees the
    first's result and gets 409. Returns the task, its case and the case's open tasks afterwards.
    """
    case, task, open_rows = _locked(task_id)
    if not (principal.in_group(task.group) or task.assignee == principal.username):
        raise Forbidden("该任务不属于您 The task is not yours.")
    if task.state != CLAIMED or task.assignee != principal.username:
        raise Conflict("请先认领该任务，或任务已办结 Claim the task first; it may already be done.")
    now = clock.now()
    if task.engine_task_id.startswith(PLATFORM_TASK):
        _finish(case, task, principal, forms.validate_submission(task.form, data), now)
        return task, case, [t for t in open_rows if t is not task]
    # A decided case (办结) may still have steps after its decision (a commitment's verification).
    if not (case.status == IN_PROGRESS or (case.status == CASE_COMPLETED and case.end_event is None)):
        raise Conflict(f"办件当前状态为 {case.status}，不能办理 The case is not in progress.")
    from app.cases import service as cases  # cases imports tasks: resolve at call time

    with db.session.no_autoflush:  # one UPDATE of the case row, at the end
        run = cases.load_run(case)
        submitted = forms.validate_submission(task.form, data, case_data=run.task_data(task.engine_task_id))
        try:
            run.complete(task.engine_task_id, submitted, at=now)
        except EngineError as exc:
            raise CaseIncident(str(exc), element=exc.element, case_id=str(case.id)) from exc
        _finish(case, task, principal, submitted, now)
        decided = run.definition.human_tasks[task.name].properties.get("completes_case")
        if decided and case.status == IN_PROGRESS:
            cases.close(case, result=decided, actor=principal.username, now=now, end=task.name, continues=True)
        if close_special_procedure(case, run, task, actor=principal.username):
            cases.reschedule(case, actor=principal.username, now=now, run=run)
        others = [t for t in open_rows if t is not task]
        created = sync(case=case, run=run, actor=principal.username, now=now, open_rows=others)
        cases.store_run(case, run, actor=principal.username, now=now)
    return task, case, [t for t in others if t.state in OPEN_STATES] + created


def _finish(case: Case, task: Task, principal: Principal, submitted: dict, now) -> None:
    task.state, task.completed_at, task.completed_by = COMPLETED, now, principal.username
    audit.record(
        case,
        "task_completed",
        actor=principal.username,
        task_id=task.id,
        at=now,
        payload={"name": task.name, "data": submitted},
    )


def sync(*, case: Case, run: Run, actor: str, now=None, open_rows: list[Task] | None = None) -> list[Task]:
    """Make the task table match the engine: insert newly READY tasks, cancel rows the engine dropped.

    `open_rows` may be passed when the caller knows them (a new case has none). A step with a
    `time_limit` property gets its own due time; a `special_procedure` step stops the case's clocks
    while it is open.
    """
    now = now or clock.now()
    ready = {t.id: t for t in run.ready_tasks()}
    if open_rows is None:
        open_rows = list_open(case.id)
    for row in open_rows:
        if row.engine_task_id not in ready:
            row.state = CANCELLED
            audit.record(case, "task_cancelled", actor=actor, task_id=row.id, at=now, payload={"name": row.name})
            close_special_procedure(case, run, row, actor=actor)
    known = {row.engine_task_id for row in open_rows}
    created = [_new_row(case, ready_task, now) for engine_id, ready_task in ready.items() if engine_id not in known]
    if created:
        db.session.add_all(created)
        db.session.flush(created)  # their ids, for the events; the case row is written once, later
        for row in created:
            audit.record(
                case,
                "task_ready",
                actor="system",
                task_id=row.id,
                at=now,
                payload={"name": row.name, "group": row.group},
            )
            if _is_special_procedure(run, row):
                deadlines.stop_clock(
                    case,
                    kind=deadlines.SPECIAL_PROCEDURE,
                    reason=f"特别程序：{row.title}",
                    actor="system",
                    task_id=row.id,
                )
    return created


def _new_row(case: Case, ready_task: ReadyTask, now) -> Task:
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
            added += deadlines.start_clock(
                case, suspension, actor=actor, note=f"{row.title}结束", warning_days=deadlines.warning_days_for(case)
            )
    return added


def _group_of(ready_task: ReadyTask) -> str | None:
    try:
        return groups.resolve(ready_task)
    except groups.GroupUnresolved as exc:
        raise CaseIncident(str(exc), element=exc.element) from exc


def list_open(case_id: int) -> list[Task]:
    """The case's open task rows."""
    return list(db.session.scalars(select(Task).where(Task.case_id == case_id, Task.state.in_(OPEN_STATES))))


def lock_case(case_id: int) -> Case:
    """The case row, locked for this transaction (FOR UPDATE on PostgreSQL) and freshly read."""
    case = db.session.get(Case, case_id, with_for_update=True, populate_existing=True)
    if case is None:
        raise NotFound(f"办件 {case_id} 不存在 No such case.")
    return case
