"""The window's three written answers to an application (行政许可法 art. 32), and what follows them.

    accept   -> in_progress, 受理通知书 (+ 容缺受理告知书 when materials are deferred)
    correct  -> awaiting_correction, no clock, 补正材料通知书; accept_corrected() starts the clocks
    refuse   -> completed / not_accepted, 不予受理决定书

A case awaiting correction that is never corrected is closed by the scheduler (close_lapsed) after
CORRECTION_LAPSE_DAYS calendar days: the application is deemed abandoned (status withdrawn).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app import clock
from app.audit import service as audit
from app.cases import papers, runtime
from app.cases import service as cases
from app.cases.models import AWAITING_CORRECTION, COMPLETED, NOT_ACCEPTED, WITHDRAWN, Case
from app.errors import Conflict, Forbidden, Invalid
from app.extensions import db
from app.identity.principal import Principal
from app.matters import service as matters
from app.supervision import filings
from app.tasks import service as tasks

ACCEPT, CORRECT, REFUSE = "accept", "correct", "refuse"
BATCH = 200


def receive(
    *,
    principal: Principal,
    matter_code: str,
    applicant: dict,
    materials: list[dict],
    data: dict,
    intake: str = ACCEPT,
    corrections: list[str] | None = None,
    reason: str | None = None,
) -> Case:
    """Answer an application: accept it, ask for corrections at once, or refuse it with a reason."""
    if intake == ACCEPT:
        return runtime.accept(
            principal=principal, matter_code=matter_code, applicant=applicant, materials=materials, data=data
        )
    if not principal.has_role("window"):
        raise Forbidden("只有窗口人员可以受理 Only front-desk staff can answer applications.")
    if intake == CORRECT and not [c for c in corrections or [] if c.strip()]:
        raise Invalid("一次性告知须列明补正内容 List every correction.", errors={"corrections": ["必填 Required."]})
    if intake == REFUSE and not (reason or "").strip():
        raise Invalid("不予受理须说明理由 A refusal needs a reason.", errors={"reason": ["必填 Required."]})
    matter = matters.get_or_raise(code=matter_code)
    case = _registered(principal, matter, applicant, materials)
    if intake == CORRECT:
        items = [c.strip() for c in corrections if c.strip()]
        case.status = AWAITING_CORRECTION
        payload = {"number": case.number, "matter_code": matter.code, "corrections": items, "data": data}
        audit.record(case, "correction_requested", actor=principal.username, at=case.accepted_at, payload=payload)
        papers.correction_notice(case, actor=principal.username, corrections=items)
        return case
    case.status, case.result, case.completed_at = COMPLETED, NOT_ACCEPTED, case.accepted_at
    payload = {"number": case.number, "matter_code": matter.code, "reason": reason.strip()}
    audit.record(case, "application_refused", actor=principal.username, at=case.accepted_at, payload=payload)
    papers.refusal_notice(case, actor=principal.username, reason=reason.strip())
    filings.file_refusal(case, reason=reason.strip(), actor=principal.username)
    return case


def _registered(principal: Principal, matter, applicant: dict, materials: list[dict]) -> Case:
    """The application registered (登记) with a number but no clock: the row a written answer needs."""
    known = {m["name"] for m in matter.materials}
    unknown = sorted({m["name"] for m in materials} - known)
    if unknown:
        raise Invalid("存在目录外的材料 Unknown materials.", errors={"materials": [f"未知材料 {n}" for n in unknown]})
    now = clock.now()
    case = Case(
        matter_code=matter.code,
        department=matter.department,
        process_version_id=runtime.published_version(matter).id,
        applicant=applicant,
        materials=materials,
        accepted_at=now,
        accepted_by=principal.username,
        statutory_days=matter.statutory_days,
        promised_days=matter.promised_days,
    )
    db.session.add(case)
    db.session.flush()
    case.number = runtime.number(case.id, now)
    return case


def accept_corrected(*, case_id: int, principal: Principal, materials: list[dict], data: dict) -> Case:
    """受理 a corrected application: the case awaiting correction starts its workflow; the clocks run from now."""
    if not principal.has_role("window"):
        raise Forbidden("只有窗口人员可以受理 Only front-desk staff can accept applications.")
    cases.get_visible(case_id=case_id, principal=principal)
    case = tasks.lock_case(case_id)
    if case.status != AWAITING_CORRECTION:
        raise Conflict(f"办件状态为 {case.status}，不在待补正状态 The case is not awaiting correction.")
    runtime.accept(
        principal=principal,
        matter_code=case.matter_code,
        applicant=dict(case.applicant),
        materials=materials,
        data=data,
        pending=case,
    )
    return case


def close_lapsed() -> tuple[int, int]:
    """Scheduler job: close the cases left awaiting correction past CORRECTION_LAPSE_DAYS; (examined, changed)."""
    now = clock.now()
    days = papers.lapse_days()
    rows = db.session.scalars(
        select(Case)
        .where(Case.status == AWAITING_CORRECTION, Case.accepted_at <= now - timedelta(days=days))
        .order_by(Case.id)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    ).all()
    for case in rows:
        case.status, case.completed_at = WITHDRAWN, now
        payload = {"days": days, "reason": f"自补正告知之日起{days}日内未补正，视为放弃申请"}
        audit.record(case, "correction_lapsed", actor="system", at=now, payload=payload)
    return len(rows), len(rows)
