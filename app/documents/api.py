"""Documents: a case's numbered documents, and one document's exact bytes (HTML or PDF).

Whoever may see the case (GET /api/cases/{id}) may see its documents.
"""

from flask import Response
from flask.views import MethodView
from marshmallow import Schema, fields

from app.cases import service as cases
from app.documents import service
from app.documents.models import Document
from app.extensions import Blueprint
from app.identity.principal import current
from app.schemas import Id, LocalDateTime

blp = Blueprint("documents", __name__, url_prefix="/api", description="文书 Documents")


class DocumentSchema(Schema):
    id = Id()
    case_id = Id()
    kind = fields.String()
    number = fields.String()
    title = fields.String()
    created_at = LocalDateTime()
    created_by = fields.String()
    sha256 = fields.String()
    pdf_sha256 = fields.String(allow_none=True)


class DocumentListSchema(Schema):
    items = fields.List(fields.Nested(DocumentSchema))
    total = fields.Integer()


def _visible(document_id: int) -> Document:
    document = service.get_or_raise(document_id=document_id)
    cases.get_visible(case_id=document.case_id, principal=current())
    return document


@blp.route("/cases/<int:case_id>/documents")
class CaseDocuments(MethodView):
    @blp.response(200, DocumentListSchema)
    def get(self, case_id):
        """The numbered documents of a case, in the order they were issued."""
        cases.get_visible(case_id=case_id, principal=current())
        rows = [service.view(d) for d in service.list_for_case(case_id=case_id)]
        return {"items": rows, "total": len(rows)}


@blp.route("/documents/<int:document_id>")
class DocumentHtml(MethodView):
    @blp.response(200, content_type="text/html")
    def get(self, document_id):
        """The document as issued: printable A4 HTML, the bytes whose SHA-256 the audit chain holds."""
        document = _visible(document_id)
        return _bytes(document, document.html, "text/html; charset=utf-8", "html")


@blp.route("/documents/<int:document_id>.pdf")
class DocumentPdf(MethodView):
    @blp.response(200, content_type="application/pdf")
    def get(self, document_id):
        """The document as PDF: rendered once from the issued HTML, then the same bytes every time."""
        document = _visible(document_id)
        return _bytes(document, service.pdf_of(document), "application/pdf", "pdf")


def _bytes(document: Document, body: bytes, content_type: str, ext: str) -> Response:
    headers = {
        "Content-Disposition": f'inline; filename="document-{document.id}.{ext}"',
        "Cache-Control": "private, max-age=0",
    }
    return Response(body, content_type=content_type, headers=headers)
