"""Documents for people: a case's numbered documents (`/documents/<id>`, `.pdf`) and a matter's
一次性告知单 (`/matters/<code>/guide`), the same bytes as the API serves, with the session's principal.

A document carries its own print style sheet inline (its bytes are frozen whole), so these answers
get a policy of their own: no script at all, inline styles and data: images (the seal) only. They may
be framed by the platform's own pages (the receipt page prints the issued 受理通知书 in a frame), by
no one else.
"""

from __future__ import annotations

from flask import Response

from app.cases import service as cases
from app.documents import service as documents
from app.matters import service as matters
from app.web.blueprint import bp
from app.web.support import principal

DOCUMENT_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'"


def _answer(body: bytes, content_type: str) -> Response:
    headers = {"Content-Security-Policy": DOCUMENT_POLICY, "X-Frame-Options": "SAMEORIGIN"}
    return Response(body, content_type=content_type, headers=headers)


def _visible(document_id: int):
    document = documents.get_or_raise(document_id=document_id)
    cases.get_visible(case_id=document.case_id, principal=principal())
    return document


@bp.route("/documents/<int:document_id>")
def document(document_id: int):
    """One issued document, printable (the bytes whose SHA-256 the case's audit chain holds)."""
    return _answer(_visible(document_id).html, "text/html; charset=utf-8")


@bp.route("/documents/<int:document_id>.pdf")
def document_pdf(document_id: int):
    """One issued document as PDF (rendered once, the same bytes every time)."""
    return _answer(documents.pdf_of(_visible(document_id)), "application/pdf")


@bp.route("/matters/<string:code>/guide")
def guide(code: str):
    """The matter's 一次性告知单, printable."""
    return _answer(matters.guide(code=code), "text/html; charset=utf-8")
