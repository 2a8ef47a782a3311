"""否定报备: every refusal, rejection and revocation is filed with its reason, and supervisors review it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from app import clock
from app.audit import service as audit
from app.audit.models import Event
from app.cases.models import Case
from app.documents.models import Document
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.extensions import db
from app.identity.principal import Principal
from app.supervision import cards
from app.supervision.models import ACCEPTED, FILING_KINDS, PENDING, QUESTIONED, Filing

KIND_OF_RESULT = {"rejected": "rejection", "revoked": "revocation"}
KIND_LABELS = {"refusal": "不予受理", "rejection": "不予许可", "revocation": "撤销许可"}
QUESTION_ANSWER_DAYS = 3


def file_refusal(case: Case, *, reason: str, actor: str) -> Filing:
    """File the window's refusal (不予受理) with its reason and the refusal notice issued."""
    return file(case, "refusal", reason, actor=actor, at=case.completed_at, documents=_documents_of(case))


def file(
    case: Case | None,
    kind: str,
    reason: str,
    *,
    actor: str,
    documents: list[dict] | None = None,
    at: datetime | None = None,
    department: str | None = None,
    matter_code: str | None = None,
    applicant_name: str | None = None,
) -> Filing:
    """File a negative outcome (the caller holds the case row, when there is one); a reason is required."""
    if kind not in FILING_KINDS:
        raise Invalid(f"未知的报备类型 {kind} Unknown filing kind.")
    if not (reason or "").strip():
        raise Invalid("否定报备必须写明理由 A filing needs a reason.", errors={"reason": ["必填 Required."]})
    at = at or clock.now()
    filing = Filing(
        case_id=case.id if case is not None else None,
        kind=kind,
        reason=reason.strip()[:2000],
        documents=list(documents or []),
        department=case.department if case is not None else department,
        matter_code=case.matter_code if case is not None else matter_code,
        applicant_name=(case.applicant or {}).get("name") if case is not None else applicant_name,
        filed_by=actor,
        filed_at=at,
        state=PENDING,
    )
    db.session.add(filing)  # flushed with the caller's step (the case runtime writes its step at the end)
    if case is not None:
        payload = {"kind": kind, "label": KIND_LABELS[kind], "reason": filing.reason}
        audit.record(case, "case_filed", actor=actor, at=at, payload=payload)
    return filing


def file_outcome(*, case: Case, result: str | None, actor: str, now: datetime) -> Filing | None:
    """The case runtime's hook at close: a rejected or revoked case is filed with the decision's opinion."""
    kind = KIND_OF_RESULT.get(result or "")
    if kind is None:
        return None
    reason = _last_opinion(case) or f"流程结束，结果为{KIND_LABELS[kind]}（未填写意见）"
    return file(case, kind, reason, actor=actor, at=now, documents=_documents_of(case))


def _last_opinion(case: Case) -> str | None:
    """The reason of the case's negative outcome: the latest decision that said no (its opinion), else
    the latest stated reason (a revocation's), else the latest opinion; pending events first."""
    pending = sorted(
        (e for e in db.session.new if isinstance(e, Event) and e.case_id == case.id and e.type == "task_completed"),
        key=lambda e: e.seq,
        reverse=True,
    )
    with db.session.no_autoflush:
        stored = db.session.scalars(
            select(Event.payload)
            .where(Event.case_id == case.id, Event.type == "task_completed")
            .order_by(Event.seq.desc())
            .limit(30)
        ).all()
    data = [(e.payload or {}).get("data") or {} for e in pending] + [(p or {}).get("data") or {} for p in stored]
    for pick in (_refusing_opinion, _reason, _opinion):
        found = next((v for v in map(pick, data) if v), None)
        if found:
            return found
    return None


def _text(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _refusing_opinion(data: dict) -> str | None:
    return _text(data.get("opinion")) if data.get("approved") is False else None


def _reason(data: dict) -> str | None:
    return _text(data.get("reason"))


def _opinion(data: dict) -> str | None:
    return _text(data.get("opinion"))


def _documents_of(case: Case) -> list[dict]:
    """References to the case's numbered documents, those issued in this transaction included."""
    pending = [d for d in db.session.new if isinstance(d, Document) and d.case_id == case.id]
    with db.session.no_autoflush:  # the step's writes go out together, later
        stored = db.session.scalars(select(Document).where(Document.case_id == case.id)).all()
    issued = sorted({*stored, *pending}, key=lambda d: d.number)
    return [{"id": d.id, "kind": d.kind, "number": d.number} for d in issued]


def _require_supervisor(principal: Principal) -> None:
    if not principal.has_role("supervisor"):
        raise Forbidden("需要电子监察角色 Supervisor role required.")


def list_filings(
    *, principal: Principal, state: str | None = None, page: int = 1, per_page: int = 50
) -> tuple[list[Filing], int]:
    """Filings for supervisors (auditors read them too), newest first, and the total."""
    if not principal.has_role("supervisor", "auditor"):
        raise Forbidden("需要电子监察或审计角色 Supervisor or auditor role required.")
    where = [Filing.state == state] if state else []
    total = db.session.scalar(select(func.count()).select_from(Filing).where(*where))
    rows = db.session.scalars(
        select(Filing).where(*where).order_by(Filing.id.desc()).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return list(rows), total


def review(*, principal: Principal, filing_id: int, verdict: str, note: str | None) -> Filing:
    """A supervisor accepts or questions a filing once; a questioned one opens a card to the department."""
    _require_supervisor(principal)
    filing = db.session.get(Filing, filing_id, with_for_update=True, populate_existing=True)
    if filing is None:
        raise NotFound(f"报备 {filing_id} 不存在 No such filing.")
    if filing.state != PENDING:
        raise Conflict("该报备已审查 The filing has already been reviewed.")
    if verdict not in (ACCEPTED, QUESTIONED):
        raise Invalid("审查结论须为 accepted 或 questioned", errors={"verdict": ["accepted | questioned"]})
    if verdict == QUESTIONED and not (note or "").strip():
        raise Invalid("质疑须写明意见 A questioned filing needs a note.", errors={"note": ["必填 Required."]})
    now = clock.now()
    filing.state, filing.review_note, filing.reviewed_by, filing.reviewed_at = verdict, note, principal.username, now
    if verdict == QUESTIONED and filing.case_id is not None:
        reason = f"否定报备（{KIND_LABELS[filing.kind]}）被质疑：{note.strip()}"
        card = cards.issue(
            principal=principal,
            case_id=filing.case_id,
            task_id=None,
            color="yellow",
            reason=reason,
            answer_days=QUESTION_ANSWER_DAYS,
            kind="filing",
        )
        filing.card_id = card.id
    db.session.flush()
    return filing
