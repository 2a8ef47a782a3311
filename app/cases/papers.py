"""The papers a case hands over (文书): what each one shows, frozen at the moment it is issued.

The intake, the case runtime and the lifecycle call these at the legal act they document; each
builds the plain data of its document and asks app/documents to number, render and audit it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import bindparam, select

from app import clock
from app.cases.models import Case
from app.documents import service as documents
from app.documents.models import Document
from app.identity.models import Department, User
from app.matters.models import Matter

DEFAULT_CORRECTION_LAPSE_DAYS = 30
DELIVERY_METHODS = {"window": "窗口直接送达", "mail": "邮寄送达", "electronic": "电子送达"}


def day(at: datetime | None) -> str:
    """A date as documents print it: 2026年12月1日 (Beijing time)."""
    if at is None:
        return ""
    local = at.astimezone(clock.SHANGHAI)
    return f"{local.year}年{local.month}月{local.day}日"


def lapse_days() -> int:
    """Calendar days after a correction notice within which the applicant must correct."""
    return int(current_app.config.get("CORRECTION_LAPSE_DAYS") or DEFAULT_CORRECTION_LAPSE_DAYS)


def _common(case: Case, actor: str, at: datetime, names, matter: Matter | None = None) -> dict:
    place = matter.place if matter is not None else names.place
    return {
        "issuer": names.issuer or case.department,
        "case_number": case.number,
        "matter_name": (matter.name if matter is not None else names.matter_name) or case.matter_code,
        "place": (place or "政务服务中心受理窗口").splitlines()[0],
        "applicant_name": case.applicant.get("name", ""),
        "clerk": names.clerk or actor,
        "issued_on": day(at),
        "received_on": day(case.accepted_at),
        "accepted_on": day(case.accepted_at),
    }


def _scalar(column, where):
    return select(column).where(where).scalar_subquery().label(column.key)


# The issuing department's, the clerk's and (unless known) the matter's names, read with the document's
# number in one statement (documents.draw). Built once: a statement built per call costs more CPU than
# the read itself.
_NAMES_NO_MATTER = (
    _scalar(Department.name, Department.code == bindparam("p_department")).label("issuer"),
    _scalar(User.display_name, User.username == bindparam("p_actor")).label("clerk"),
)
_NAMES = (
    *_NAMES_NO_MATTER,
    _scalar(Matter.name, Matter.code == bindparam("p_matter")).label("matter_name"),
    _scalar(Matter.place, Matter.code == bindparam("p_matter")).label("place"),
)


def _issue(
    case: Case, kind: str, actor: str, at: datetime | None, matter: Matter | None = None, **extra: Any
) -> Document:
    at = at or clock.now()
    params = {"p_department": case.department, "p_actor": actor, "p_matter": case.matter_code}
    names = _NAMES if matter is None else _NAMES_NO_MATTER
    drawn = documents.draw(case=case, kind=kind, at=at, extra=names, params=params)
    context = _common(case, actor, at, drawn.row, matter) | extra
    return documents.issue(case=case, kind=kind, actor=actor, at=at, context=context, drawn=drawn)


def accepted(
    case: Case, *, actor: str, deferred: list[str], supplement_due: datetime | None, matter: Matter | None = None
) -> list[Document]:
    """受理通知书, and 容缺受理告知书 when materials were deferred."""
    received = [m["name"] for m in case.materials if m.get("provided")]
    due = {
        "statutory_days": case.statutory_days,
        "promised_days": case.promised_days,
        "statutory_due": day(case.statutory_due),
        "promised_due": day(case.promised_due),
        "provisional": case.provisional,
    }
    issued = [_issue(case, "receipt", actor, case.accepted_at, matter, received=received, deferred=deferred, **due)]
    if deferred:
        until = day(supplement_due or case.promised_due)
        items = [{"name": name, "due": until} for name in deferred]
        issued.append(_issue(case, "deferral_notice", actor, case.accepted_at, matter, items=items))
    return issued


def correction_notice(case: Case, *, actor: str, corrections: list[str]) -> Document:
    """补正材料通知书: every item to correct, told at once."""
    return _issue(case, "correction_notice", actor, None, corrections=corrections, lapse_days=lapse_days())


def refusal_notice(case: Case, *, actor: str, reason: str) -> Document:
    """不予受理决定书: the reason and the applicant's remedies."""
    return _issue(case, "refusal_notice", actor, None, reason=reason)


def extension_notice(case: Case, *, actor: str, reason: str, days: int) -> Document:
    """延期告知书: the extension, its reason and the new statutory due date."""
    return _issue(
        case, "extension_notice", actor, None, reason=reason, days=days, statutory_due=day(case.statutory_due)
    )


# Versions made before forms were declared in the BPMN named the document by their form kind.
LEGACY_DOCUMENTS = {"decision": "decision", "delivery": "delivery_receipt"}


def document_of(properties: dict, form: str | None) -> str | None:
    """The document a step issues: its `document` property, else what its legacy form kind implies."""
    return properties.get("document") or LEGACY_DOCUMENTS.get(form or "")


def after_step(case: Case, *, document: str | None, submitted: dict, actor: str, at: datetime) -> Document | None:
    """The document a finished step issues: a decision (准予/不予) or a delivery's 送达回证; else None."""
    if document == "decision" and "approved" in submitted:
        approved = bool(submitted["approved"])
        title = "准予行政许可决定书" if approved else "不予行政许可决定书"
        reasons = (submitted.get("opinion") or "").strip()
        return _issue(case, "decision", actor, at, title=title, approved=approved, reasons=reasons)
    if document == "delivery_receipt":
        method = DELIVERY_METHODS.get(submitted.get("method") or "window", "窗口直接送达")
        delivered = [f"{title}（{number}）" for title, number in documents.numbered(case_id=case.id, kind="decision")]
        note = (submitted.get("opinion") or "").strip()
        return _issue(
            case, "delivery_receipt", actor, at, method=method, delivered=delivered, delivered_at=day(at), note=note
        )
    return None
