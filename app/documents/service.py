"""Issuing documents: number, render once, store the bytes, record their SHA-256 in the case's chain.

Callers (the case runtime and the intake) pass the case row, already locked for its step, and the
plain data the document shows, frozen at that moment; nothing here reads the case package back.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, select, update

from app import clock
from app.audit import service as audit
from app.documents import numbering, render
from app.documents.models import Document
from app.errors import NotFound
from app.extensions import db, insert_now, unit_of_work

TITLES = {
    "receipt": "受理通知书",
    "deferral_notice": "容缺受理告知书",
    "correction_notice": "补正材料通知书",
    "refusal_notice": "不予受理决定书",
    "decision": "行政许可决定书",
    "extension_notice": "延期告知书",
    "delivery_receipt": "送达回证",
}
KINDS = tuple(TITLES)
DOCUMENTS = Document.__table__


def draw(*, case: Any, kind: str, at: datetime, extra: tuple = (), params: dict | None = None) -> numbering.Drawn:
    """The number (and on PostgreSQL the id) of the next document of `kind` for `case`, with `extra`
    columns read in the same statement (the names the document prints)."""
    return numbering.draw(department=case.department, kind=kind, at=at, extra=extra, params=params)


def issue(
    *,
    case: Any,
    kind: str,
    actor: str,
    context: dict,
    at: datetime | None = None,
    drawn: numbering.Drawn | None = None,
) -> Document:
    """Number and render a document of `kind` for `case` now; store its bytes and audit their hash.

    `context` holds what the document shows (plain values, frozen now); `context["title"]` may
    name the document more precisely (准予行政许可决定书). `drawn`: its number, drawn already.
    """
    at = at or clock.now()
    title = context.get("title") or TITLES[kind]
    drawn = drawn or draw(case=case, kind=kind, at=at)
    number = drawn.number
    body = render.html(kind, {**context, "title": title, "number": number, "seal": render.seal(case.department)})
    digest = hashlib.sha256(body).hexdigest()
    document = Document(
        id=drawn.document_id,
        case_id=case.id,
        kind=kind,
        number=number,
        title=title,
        department=case.department,
        created_at=at,
        created_by=actor,
        sha256=digest,
        html=body,
    )
    if drawn.document_id is None:
        insert_now([document])  # its id, for the event; the case row is written by its step
    else:
        db.session.add(document)  # its id drawn with its number: written with its step (cases/writeback.py)
    payload = {"document_id": document.id, "kind": kind, "number": number, "title": title, "sha256": digest}
    audit.record(case, "document_issued", actor=actor, at=at, payload=payload)
    return document


def get(*, document_id: int) -> Document | None:
    """The document with this id, or None."""
    return db.session.get(Document, document_id)


def get_or_raise(*, document_id: int) -> Document:
    """The document with this id (NotFound otherwise)."""
    document = get(document_id=document_id)
    if document is None:
        raise NotFound(f"文书 {document_id} 不存在 No such document.")
    return document


def list_for_case(*, case_id: int) -> list[Document]:
    """The case's documents in the order they were issued."""
    return list(db.session.scalars(select(Document).where(Document.case_id == case_id).order_by(Document.id)))


_NUMBERED = (  # built once
    select(Document.title, Document.number)
    .where(Document.case_id == bindparam("p_case"), Document.kind == bindparam("p_kind"))
    .order_by(Document.id)
)


def numbered(*, case_id: int, kind: str) -> list[tuple[str, str]]:
    """(title, number) of the case's documents of `kind`, in the order they were issued."""
    return [tuple(row) for row in db.session.execute(_NUMBERED, {"p_case": case_id, "p_kind": kind})]


_LATEST = (  # built once
    select(Document.id, Document.title, Document.number)
    .where(Document.case_id == bindparam("p_case"), Document.kind == bindparam("p_kind"))
    .order_by(Document.id.desc())
    .limit(1)
)


def latest(*, case_id: int, kind: str) -> Row | None:
    """The case's last document of `kind` as a row of (id, title, number), without its bytes; None if none."""
    return db.session.execute(_LATEST, {"p_case": case_id, "p_kind": kind}).first()


def view(document: Document) -> dict:
    """The api.md shape of a document."""
    return {
        "id": str(document.id),
        "case_id": str(document.case_id),
        "kind": document.kind,
        "number": document.number,
        "title": document.title,
        "created_at": document.created_at,
        "created_by": document.created_by,
        "sha256": document.sha256,
        "pdf_sha256": document.pdf_sha256,
    }


def pdf_of(document: Document) -> bytes:
    """The document's PDF: rendered once from its stored HTML, stored, and the same bytes ever after.

    The first download renders it and stores it in a transaction of its own (a conditional UPDATE:
    when two first downloads race, the first stored wins and both serve what was stored).
    """
    if document.pdf is not None:
        return document.pdf
    rendered = render.pdf(document.html)
    with unit_of_work():
        db.session.execute(
            update(DOCUMENTS)
            .where(DOCUMENTS.c.id == document.id, DOCUMENTS.c.pdf.is_(None))
            .values(pdf=rendered, pdf_sha256=hashlib.sha256(rendered).hexdigest())
        )
    db.session.refresh(document)
    return document.pdf
