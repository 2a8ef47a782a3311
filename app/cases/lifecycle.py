"""What happens to a case besides its tasks: suspension (补正/特别程序), resumption, extension, withdrawal."""

from __future__ import annotations

from app import clock
from app.audit import service as audit
from app.cases import papers, runtime
from app.cases.models import AWAITING_CORRECTION, COMPLETED, IN_PROGRESS, SUSPENDED, WITHDRAWN, Case
from app.cases.service import get_visible
from app.deadlines import service as deadlines
from app.errors import Conflict, Forbidden
from app.identity.principal import Principal
from app.matters.service import get_or_raise as get_matter
from app.tasks import service as tasks

EXTENSION_DAYS = {"parallel": 15}  # joint handling +15; everything else +10 (行政许可法 art. 42)
DEFAULT_EXTENSION_DAYS = 10
STAFF = ("window", "reviewer", "leader")


def _lock_for(case_id: int, principal: Principal, roles: tuple[str, ...]) -> Case:
    get_visible(case_id=case_id, principal=principal)
    if not principal.has_role(*roles):
        raise Forbidden(f"需要以下角色之一：{', '.join(roles)} One of these roles is required.")
    return tasks.lock_case(case_id)


def suspend(*, case_id: int, principal: Principal, kind: str, reason: str) -> Case:
    """Stop both clocks for a correction (补正) or a special procedure; tasks wait until resumed."""
    case = _lock_for(case_id, principal, STAFF)
    if case.status != IN_PROGRESS:
        raise Conflict(f"办件状态为 {case.status}，不能挂起 Only a case in progress can be suspended.")
    deadlines.stop_clock(case, kind=kind, reason=reason, actor=principal.username)
    case.status = SUSPENDED
    return case


def resume(*, case_id: int, principal: Principal, note: str | None) -> Case:
    """Restart the clocks; the working days spent suspended are added to both due dates."""
    case = _lock_for(case_id, principal, STAFF)
    manual = [s for s in deadlines.open_suspensions(case.id) if s.task_id is None]
    if case.status != SUSPENDED or not manual:
        raise Conflict("办件未挂起 The case is not suspended.")
    added = 0
    for suspension in manual:
        added += deadlines.start_clock(
            case, suspension, actor=principal.username, note=note, warning_days=deadlines.warning_days_for(case)
        )
    case.status = IN_PROGRESS
    if added:
        _reschedule(case, principal)
    return case


def _reschedule(case: Case, principal: Principal) -> None:
    """Date timers on the case's deadlines (e.g. a 督办 at promised_due()) follow the new dates."""
    runtime.reschedule(case, actor=principal.username, now=clock.now())


def extend(*, case_id: int, principal: Principal, reason: str) -> Case:
    """Extend the statutory limit once (+10 working days, +15 for joint handling), by a leader."""
    case = _lock_for(case_id, principal, ("leader",))
    if case.status not in (IN_PROGRESS, SUSPENDED):
        raise Conflict("办件已办结或撤回，不能延期 A closed case cannot be extended.")
    if case.extended_days:
        raise Conflict("法定时限只能延长一次 The statutory limit can be extended only once.")
    days = EXTENSION_DAYS.get(get_matter(code=case.matter_code).mode, DEFAULT_EXTENSION_DAYS)
    case.extended_days, case.extension_reason = days, reason
    deadlines.recompute(case, warning_days=deadlines.warning_days_for(case))
    audit.record(
        case,
        "case_extended",
        actor=principal.username,
        payload={"reason": reason, "days": days, "statutory_due": case.statutory_due.isoformat()},
    )
    _reschedule(case, principal)
    papers.extension_notice(case, actor=principal.username, reason=reason, days=days)
    return case


def withdraw(*, case_id: int, principal: Principal, reason: str) -> Case:
    """The applicant withdraws (撤回): the workflow is cancelled and every open task with it."""
    case = _lock_for(case_id, principal, ("window",))
    if case.status in (COMPLETED, WITHDRAWN):
        raise Conflict(f"办件状态为 {case.status}，不能撤回 The case is already closed.")
    now = clock.now()
    if case.status != AWAITING_CORRECTION:  # a case awaiting correction has no workflow yet
        runtime.withdraw(case, actor=principal.username, now=now)
    for suspension in deadlines.open_suspensions(case.id):
        suspension.ended_at, suspension.ended_by, suspension.note = now, principal.username, "撤回"
    case.status, case.completed_at, case.clock_stopped_since, case.next_timer_at = WITHDRAWN, now, None, None
    audit.record(case, "case_withdrawn", actor=principal.username, at=now, payload={"reason": reason})
    return case
