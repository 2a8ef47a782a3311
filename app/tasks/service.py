"""Human tasks, row by row: the inbox, claim, unclaim, delegate, and the case lock.

Completing a task changes the case's workflow: that is the case runtime's (app/cases/runtime.py).
A claim reads only the case's chain head and the task's own columns, never the workflow state.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlalchemy import Integer, Row, bindparam, func, insert, or_, select, update

from app import clock
from app.audit import service as audit
from app.audit.models import Event
from app.cases.models import Case
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.extensions import db, run_core
from app.identity.principal import Principal
from app.identity.service import get_user
from app.notifications.service import notify
from app.tasks import standins
from app.tasks.models import CANCELLED, CLAIMED, OPEN_STATES, READY, Absence, Task
from app.types import UTCDateTime

CASES, TASKS, EVENTS = Case.__table__, Task.__table__, Event.__table__

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
    if principal.in_group(task.group) or task.assignee == principal.username or principal.has_role(*OVERSEERS):
        return task
    if task.group in standins.of(principal).groups:  # a backup sees what they may claim
        return task
    raise Forbidden("该任务不属于您所在的岗位组 The task belongs to another group.")


INBOX_ORDER = {
    # Steps without a limit of their own come after those with one; "-due" is the exact reverse.
    "due": (Task.due_at.asc().nulls_last(), Task.id.asc()),
    "-due": (Task.due_at.desc().nulls_first(), Task.id.desc()),
    "created": (Task.created_at.asc(), Task.id.asc()),
}


@cache
def _inbox_statements(scope: str, matter: bool, warning: bool, q: bool, sort: str) -> tuple:
    """The inbox's count and page statements for one shape of request, built once per process (values
    bound per request): the page's ids first (an index-only scan, however deep the page), then only
    those rows."""
    if scope == "mine":
        where = [Task.state == CLAIMED, Task.assignee == bindparam("p_user")]
    else:
        where = [Task.state == READY, Task.group.in_(bindparam("p_groups", expanding=True))]
    if matter:
        where.append(Task.matter_code == bindparam("p_matter"))
    if warning:
        where.append(Task.warning == bindparam("p_warning"))
    if q:
        where.append(or_(Task.case_number == bindparam("p_q"), Task.applicant_name == bindparam("p_q")))
    order = INBOX_ORDER[sort]
    count = select(func.count()).select_from(Task).where(*where)
    ids = select(Task.id).where(*where).order_by(*order).limit(bindparam("p_limit")).offset(bindparam("p_offset"))
    ids = ids.subquery()
    return count, select(Task).join(ids, ids.c.id == Task.id).order_by(*order)


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
    params: dict = {"p_limit": per_page, "p_offset": (page - 1) * per_page}
    if scope == "mine":
        params["p_user"] = principal.username
    else:
        standing = standins.of(principal)  # AB岗: a backup is offered the absent colleague's groups
        groups = standing.offered(principal)
        if not groups:
            return [], 0
        params["p_groups"] = sorted(groups)
    params |= {"p_matter": matter_code, "p_warning": warning, "p_q": q}
    count, page_rows = _inbox_statements(scope, bool(matter_code), bool(warning), bool(q), sort)
    total = db.session.scalar(count, params)
    rows = db.session.scalars(page_rows, params).all()
    if scope != "mine" and standing.groups:
        for row in rows:
            row.on_behalf_of = standing.on_behalf_of(row.group, principal)  # shown as "代 X 办理"
    return list(rows), total


@dataclass
class _Head:
    """The locked case's chain head, and the task as a claim sees it: no case row, no workflow state."""

    id: int
    event_seq: int
    last_hash: bytes | None
    task: Row


# Whether the person acting (p_user) is away now (AB岗), read in the same statement; false when no
# person is named (p_user NULL matches no absence).
_NOW = bindparam("p_now", None, type_=UTCDateTime())
_AWAY = (
    select(Absence.id)
    .where(
        Absence.user_id == bindparam("p_user", None, type_=Integer),
        Absence.starts_at <= _NOW,
        Absence.ends_at > _NOW,
        Absence.state != CANCELLED,
    )
    .exists()
    .label("away")
)
_HEAD = (
    select(
        Case.id,
        Case.event_seq,
        Case.last_hash,
        Task.name,
        Task.title,
        Task.case_number,
        Task.group.label("group"),  # the attribute name (the column is group_code): read below the ORM
        Task.state,
        Task.assignee,
        _AWAY,
    )
    .join(Task, Task.case_id == Case.id)
    .where(Task.id == bindparam("task_id"))
    .with_for_update(of=Case)
)


def _locked(task_id: int, *, actor: Principal | None = None) -> _Head:
    """The task's case row locked, read as its chain head only, with the task's own columns (and
    `away`: whether `actor` is on an AB岗 absence now).

    Every change to a task takes its case's lock first (claims and completions alike), so changes
    to one case are serialized in one order and cannot deadlock each other.
    """
    params = {"task_id": task_id, "p_user": None, "p_now": None}
    if actor is not None:
        params |= {"p_user": actor.user_id, "p_now": clock.now()}
    row = run_core(_HEAD, params).first()
    if row is None:
        raise NotFound(f"任务 {task_id} 不存在 No such task.")
    return _Head(row.id, row.event_seq, row.last_hash, row)


# What each verb matches on the task row (besides its id), and the columns it sets.
_VERBS = {
    "task_claimed": ((TASKS.c.state == READY, TASKS.c.assignee.is_(None)), ("state", "assignee", "claimed_at")),
    "task_unclaimed": (
        (TASKS.c.state == CLAIMED, TASKS.c.assignee == bindparam("p_holder")),
        ("state", "assignee", "claimed_at"),
    ),
    "task_delegated": (
        (TASKS.c.state == CLAIMED, TASKS.c.assignee == bindparam("p_holder")),
        ("assignee", "claimed_at"),
    ),
    # Reassignment (a leader, or AB岗): a claimed task from its holder, or a ready one, to someone.
    "task_reassigned": (
        (TASKS.c.state == CLAIMED, TASKS.c.assignee == bindparam("p_holder")),
        ("assignee", "claimed_at"),
    ),
    "task_reassigned_ready": (
        (TASKS.c.state == READY, TASKS.c.assignee.is_(None)),
        ("state", "assignee", "claimed_at"),
    ),
}


@cache
def _statements(dialect: str, verb: str) -> tuple:
    """The statements of one verb, built once per process (values are bound per request; no bound
    name is a column name, or an INSERT/UPDATE inside would take it for a value to set).

    PostgreSQL: one statement of data-modifying CTEs (the task UPDATE ... RETURNING, the chain head's
    UPDATE if the task matched, the event's INSERT if the head moved; the task row comes back only
    if all three happened). Elsewhere: the task UPDATE ... RETURNING and the head's UPDATE.
    """
    where, columns = _VERBS[verb]
    task = (
        update(TASKS)
        .where(TASKS.c.id == bindparam("p_task_id"), *where)
        .values({c: bindparam(f"v_{c}", type_=TASKS.c[c].type) for c in columns})
        .returning(*TASKS.c)
    )
    head = (
        update(CASES)
        .where(CASES.c.id == bindparam("p_case_id"), CASES.c.event_seq == bindparam("p_seen"))
        .values(event_seq=bindparam("p_seq"), last_hash=bindparam("p_hash"), state_version=CASES.c.state_version + 1)
    )
    if dialect != "postgresql":
        return select(Task).from_statement(task).execution_options(populate_existing=True), head
    t = task.cte("t")
    c = head.where(select(t.c.id).exists()).returning(CASES.c.id).cte("c")
    values = [bindparam(f"e_{col.name}", type_=col.type).label(col.name) for col in EVENTS.c]
    e = insert(EVENTS).from_select([col.name for col in EVENTS.c], select(*values).where(select(c.c.id).exists()))
    # The task row comes back under the names the API reads (a Task's attribute names).
    named = [t.c[col.name].label(Task.__mapper__.get_property_by_column(col).key) for col in TASKS.c]
    return (select(*named).where(select(e.returning(EVENTS.c.seq).cte("e").c.seq).exists()),)


def _change(head: _Head, task_id: int, values: dict, event: str, *, actor: str, payload: dict, holder=None, verb=None):
    """The task's conditional UPDATE, its event and the case's chain head, all or nothing.

    `verb` names the UPDATE's match (default: the event). Returns the task when the UPDATE matched,
    None when someone else won (nothing is written then).
    """
    verb = verb or event
    seen = head.event_seq
    row = audit.chain(head, event, actor=actor, task_id=task_id, payload=payload, at=values.get("claimed_at"))
    params = {"p_task_id": task_id, "p_holder": holder, "p_case_id": head.id, "p_seen": seen}
    params |= {"p_seq": head.event_seq, "p_hash": head.last_hash} | {f"v_{k}": v for k, v in values.items()}
    dialect = db.engine.dialect.name
    if dialect == "postgresql":
        (fused,) = _statements(dialect, verb)
        return run_core(fused, params | {f"e_{k}": v for k, v in row.items()}).first()
    task, chain_head = _statements(dialect, verb)
    won = db.session.scalars(task, params).first()
    if won is not None:
        if db.session.execute(chain_head, params).rowcount != 1:  # impossible under the lock; never silently
            raise Conflict("办件已被同时修改，请重试 The case changed meanwhile; try again.")
        audit.append_all([row])
    return won


def claim(*, task_id: int, principal: Principal) -> Task:
    """Take a ready task of one's group: one conditional UPDATE; whoever comes second gets 409."""
    head = _locked(task_id, actor=principal)
    if not principal.in_group(head.task.group) and head.task.group not in standins.of(principal).groups:
        raise Forbidden("只有本岗位组成员可以认领 Only members of the task's group can claim it.")
    if head.task.away and head.task.group not in standins.of(principal).groups:
        raise Conflict("您在AB岗休假期间，本组任务由您的B岗办理 You are away (AB岗): your backup works these tasks.")
    won = _change(
        head,
        task_id,
        {"state": CLAIMED, "assignee": principal.username, "claimed_at": clock.now()},
        "task_claimed",
        actor=principal.username,
        payload={"name": head.task.name},
    )
    if won is None:
        raise Conflict("任务已被他人认领或已办结 The task is held by someone else or is done.")
    return won


def _holder_only(task: Task | Row, principal: Principal) -> None:
    if not (principal.in_group(task.group) or task.assignee == principal.username or principal.has_role(*OVERSEERS)):
        raise Forbidden("该任务不属于您所在的岗位组 The task belongs to another group.")
    if task.state == CLAIMED and task.assignee != principal.username:
        raise Forbidden("只有认领人可以操作该任务 Only the holder can do this.")


def unclaim(*, task_id: int, principal: Principal) -> Task:
    """Give a claimed task back to its group."""
    head = _locked(task_id)
    _holder_only(head.task, principal)
    released = _change(
        head,
        task_id,
        {"state": READY, "assignee": None, "claimed_at": None},
        "task_unclaimed",
        actor=principal.username,
        holder=principal.username,
        payload={"name": head.task.name},
    )
    if released is None:
        raise Conflict("任务未被您认领 The task is not claimed by you.")
    return released


def delegate(*, task_id: int, principal: Principal, to: str, reason: str) -> Task:
    """Hand a task one holds to a colleague of the same group, with a reason."""
    head = _locked(task_id)
    _holder_only(head.task, principal)
    colleague = get_user(username=to)
    if colleague is None or not colleague.active:
        raise Invalid("转交对象不存在 No such colleague.", errors={"to": ["用户不存在 unknown user"]})
    if head.task.group not in {g.code for g in colleague.groups}:
        raise Invalid(
            "转交对象不在该任务的岗位组 The colleague is not in the task's group.",
            errors={"to": ["不在岗位组 not in the task's group"]},
        )
    moved = _change(
        head,
        task_id,
        {"assignee": to, "claimed_at": clock.now()},
        "task_delegated",
        actor=principal.username,
        holder=principal.username,
        payload={"name": head.task.name, "to": to, "reason": reason},
    )
    if moved is None:
        raise Conflict("任务未被您认领 Claim the task before delegating it.")
    _tell(
        to,
        "task_delegated",
        f"{principal.display_name} 将办件 {head.task.case_number} 的「{head.task.title}」转交给您：{reason}",
        head.id,
        task_id,
    )
    return moved


def _tell(username: str, kind: str, title: str, case_id: int, task_id: int) -> None:
    """Notify the person a task was handed to (the outbox sends it after the commit)."""
    notify(usernames=[username], kind=kind, title=title, case_id=case_id, task_id=task_id)


def list_open(case_id: int) -> list[Task]:
    """The case's open task rows."""
    return list(db.session.scalars(select(Task).where(Task.case_id == case_id, Task.state.in_(OPEN_STATES))))


def lock_case(case_id: int) -> Case:
    """The case row, locked for this transaction (FOR UPDATE on PostgreSQL) and freshly read."""
    case = db.session.get(Case, case_id, with_for_update=True, populate_existing=True)
    if case is None:
        raise NotFound(f"办件 {case_id} 不存在 No such case.")
    return case
