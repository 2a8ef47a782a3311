"""AB岗: absences and their backups. While a person is away their claimed tasks move to the backup
(one `task_reassigned` event each, reason "AB岗") and their groups' new tasks are offered to the
backup (app/tasks/standins.py); when the absence ends the backup keeps what they started.

An absence already begun takes effect in the request that records it; the scheduler applies those
that start or end while nobody acts (`apply_due`). Both go through one conditional UPDATE of the
absence's state, so each start and end is applied exactly once.

Whoever may record an absence may also end it (`end_absence`): one not yet begun is cancelled
(撤销; it never takes effect), one running ends now (提前结束; the person is back at once, and the
backup keeps what was moved to them, as at a planned end). Either is one conditional UPDATE, so it
cannot cross the scheduler starting or ending the same absence.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select, update

from app import clock
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.extensions import db
from app.identity import org_log
from app.identity.models import User
from app.identity.principal import Principal
from app.identity.service import get_user, get_user_or_raise
from app.notifications.service import notify
from app.tasks import handover
from app.tasks.models import ACTIVE, CANCELLED, CLAIMED, ENDED, SCHEDULED, Absence, Task

REASON = "AB岗"
BATCH = 100
SCHEDULER = "scheduler"


def absence_view(absence: Absence) -> dict:
    """An absence as the API shows it (and `ending`, for the pages: how it can be ended now, "cancel"
    before it begins, "end" while it runs, None once it is over)."""
    now = clock.now()
    running = absence.state in (SCHEDULED, ACTIVE) and absence.ends_at > now
    return {
        "ending": None if not running else ("end" if absence.starts_at <= now else "cancel"),
        "id": absence.id,
        "username": db.session.get(User, absence.user_id).username,
        "backup": db.session.get(User, absence.backup_id).username,
        "from": absence.starts_at,
        "to": absence.ends_at,
        "reason": absence.reason,
        "state": absence.state,
        "recorded_by": absence.recorded_by,
    }


def list_absences(*, username: str | None = None, current_only: bool = False) -> list[Absence]:
    """Absences, newest first (one person's when given; only those not yet ended when asked)."""
    query = select(Absence).order_by(Absence.starts_at.desc(), Absence.id.desc())
    if username:
        query = query.where(Absence.user_id == get_user_or_raise(username=username).id)
    if current_only:
        query = query.where(Absence.ends_at > clock.now(), Absence.state != CANCELLED)
    return list(db.session.scalars(query.limit(200)))


def record_absence(
    *,
    principal: Principal,
    username: str,
    starts_at: datetime,
    ends_at: datetime,
    reason: str,
    backup: str | None = None,
) -> Absence:
    """Record an absence (the person, their department's leader, or an admin); begun already: applied now."""
    user = get_user_or_raise(username=username)
    _may_record(principal, user)
    stand_in = _backup_or_invalid(user, backup)
    starts_at, ends_at = _aware(starts_at), _aware(ends_at)
    now = clock.now()
    if ends_at <= starts_at or ends_at <= now:
        raise Invalid(
            "结束时间须晚于开始时间和当前时间 The absence must end after it starts, in the future.",
            errors={"to": ["须晚于开始时间和当前时间 must be later"]},
        )
    absence = Absence(
        user_id=user.id,
        backup_id=stand_in.id,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=reason,
        recorded_by=principal.username,
        created_at=now,
        state=SCHEDULED,
    )
    db.session.add(absence)
    db.session.flush()
    _announce(absence, actor=principal.username, user=user, stand_in=stand_in)
    if starts_at <= now:
        start(absence, actor=principal.username)
    return absence


def end_absence(*, principal: Principal, username: str, absence_id: int) -> Absence:
    """End a person's absence now: cancelled if it has not begun, ended early if it runs (409 when it is
    over or cancelled already; the person, their department's leader or an admin)."""
    user = get_user_or_raise(username=username)
    _may_record(principal, user)
    absence = db.session.get(Absence, absence_id)
    if absence is None or absence.user_id != user.id:
        raise NotFound(f"请假记录 {absence_id} 不存在 No such absence of {username}.")
    before = _logged(absence)
    now = clock.now()
    begun = absence.starts_at <= now
    open_now = Absence.id == absence.id, Absence.state.in_((SCHEDULED, ACTIVE)), Absence.ends_at > now
    if begun:
        change = update(Absence).where(*open_now).values(state=ENDED, ends_at=now)
    else:  # not begun: the scheduler cannot start it meanwhile (it starts only what has begun)
        change = update(Absence).where(*open_now, Absence.starts_at > now).values(state=CANCELLED)
    if db.session.execute(change).rowcount != 1:
        raise Conflict("该请假已结束或已撤销 The absence is over or cancelled already.")
    db.session.refresh(absence)
    action = "absence_ended" if begun else "absence_cancelled"
    org_log.record(actor=principal.username, action=action, target=user.username, before=before, after=_logged(absence))
    name, reason = user.display_name, absence.reason
    if begun:
        title = f"AB岗：{name} 的请假（{reason}）提前结束，{name} 已在岗"
    else:
        title = f"AB岗：{name} {_local(absence.starts_at)} 起的请假（{reason}）已撤销，无需代办"
    notify(usernames=[db.session.get(User, absence.backup_id).username], kind="absence_backup", title=title)
    return absence


def _logged(absence: Absence) -> dict:
    """An absence as the organisation log keeps it (times as ISO 8601 text; not the pages' `ending`)."""
    view = absence_view(absence)
    del view["ending"]
    return {**view, "from": view["from"].isoformat(), "to": view["to"].isoformat()}


def _announce(absence: Absence, *, actor: str, user: User, stand_in: User) -> None:
    """The organisation log's entry, and the backup told when and for whom."""
    org_log.record(actor=actor, action="absence_recorded", target=user.username, before=None, after=_logged(absence))
    when = f"{_local(absence.starts_at)} 至 {_local(absence.ends_at)}"
    notify(
        usernames=[stand_in.username],
        kind="absence_backup",
        title=f"AB岗：{when} {user.display_name} 不在岗，由您代为办理（{absence.reason}）",
    )


def start(absence: Absence, *, actor: str) -> int:
    """Apply an absence's start once: its holder's claimed tasks move to the backup; the number moved."""
    won = db.session.execute(
        update(Absence).where(Absence.id == absence.id, Absence.state == SCHEDULED).values(state=ACTIVE)
    ).rowcount
    if won != 1:
        return 0
    holder = db.session.get(User, absence.user_id).username
    backup = db.session.get(User, absence.backup_id).username
    task_ids = db.session.scalars(
        select(Task.id).where(Task.state == CLAIMED, Task.assignee == holder).order_by(Task.id)
    ).all()
    moved = 0
    for task_id in task_ids:
        if handover.move_claimed(task_id=task_id, holder=holder, to=backup, actor=actor, reason=REASON) is not None:
            moved += 1
    db.session.refresh(absence)
    return moved


def apply_due() -> tuple[int, int]:
    """Scheduler job: start the absences whose time has come and end those that are over; (examined, changed).

    Rows are taken SKIP LOCKED and changed by a conditional UPDATE, so two runners never apply one twice."""
    now = clock.now()
    due = db.session.scalars(
        select(Absence)
        .where(
            or_(
                and_(Absence.state == SCHEDULED, Absence.starts_at <= now),
                and_(Absence.state == ACTIVE, Absence.ends_at <= now),
            )
        )
        .order_by(Absence.id)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    ).all()
    changed = 0
    for absence in due:
        if absence.state == SCHEDULED and absence.ends_at > now:
            start(absence, actor=SCHEDULER)
            changed += 1
        else:
            changed += _end(absence)
    db.session.flush()
    return len(due), changed


def _end(absence: Absence) -> int:
    """The absence is over: nothing moves back (the backup keeps what they started)."""
    return db.session.execute(
        update(Absence).where(Absence.id == absence.id, Absence.state != ENDED).values(state=ENDED)
    ).rowcount


def _may_record(principal: Principal, user: User) -> None:
    department = user.department.code if user.department else None
    leader_here = "leader" in principal.roles and department is not None and principal.department == department
    if not (principal.username == user.username or principal.has_role("admin") or leader_here):
        raise Forbidden("只有本人、本部门领导或管理员可以登记请假 Only the person, their leader or an admin.")


def _backup_or_invalid(user: User, backup: str | None) -> User:
    stand_in = get_user(username=backup) if backup else user.backup
    if stand_in is None or not stand_in.active or stand_in.id == user.id:
        raise Invalid(
            "请指定在岗的 B 岗人员 A backup colleague is required.", errors={"backup": ["无有效 B 岗 no backup"]}
        )
    return stand_in


def _aware(at: datetime) -> datetime:
    return at.replace(tzinfo=clock.SHANGHAI) if at.tzinfo is None else at


def _local(at: datetime) -> str:
    return at.astimezone(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M")
