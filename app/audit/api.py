"""Audit: a case's events, its replay and its history; the verification of every hash chain.

Everything here only reads. Auditors (and supervisors) see every case; others see what
GET /api/cases/{id} lets them see.
"""

from flask import Response, render_template
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from app.audit import history, replay, service
from app.audit.verify import verify
from app.cases import service as cases
from app.extensions import Blueprint
from app.identity.principal import current, require_role
from app.schemas import MAX_ID, Id, LocalDateTime

blp = Blueprint("audit", __name__, url_prefix="/api", description="审计 Audit", template_folder="templates")

VERIFIERS = ("auditor", "supervisor")


class EventSchema(Schema):
    seq = fields.Integer()
    at = LocalDateTime()
    actor = fields.String()
    type = fields.String()
    task_id = Id(allow_none=True)
    payload = fields.Dict()
    hash = fields.String()
    prev_hash = fields.String()


class EventListSchema(Schema):
    items = fields.List(fields.Nested(EventSchema))
    total = fields.Integer()


class ReplayArgs(Schema):
    upto = fields.Integer(validate=validate.Range(min=1, max=MAX_ID), metadata={"description": "state after event N"})


class DivergenceSchema(Schema):
    seq = fields.Integer()
    expected = fields.Raw(allow_none=True)
    actual = fields.Raw(allow_none=True)
    message = fields.String()


class ReplaySchema(Schema):
    case_id = fields.String()
    consistent = fields.Boolean()
    steps = fields.Integer()
    divergence = fields.Nested(DivergenceSchema, allow_none=True)
    state = fields.Dict(metadata={"description": "with ?upto=N: open_tasks, data, deadlines, status"})


class VerifyArgs(Schema):
    case_id = fields.Integer(validate=validate.Range(min=1, max=MAX_ID))


class BrokenLinkSchema(Schema):
    case_id = fields.String()
    seq = fields.Integer()
    reason = fields.String()


class VerifySchema(Schema):
    intact = fields.Boolean()
    events_checked = fields.Integer()
    cases_checked = fields.Integer()
    first_broken = fields.Nested(BrokenLinkSchema, allow_none=True)
    broken_cases = fields.Integer()
    broken = fields.List(fields.Nested(BrokenLinkSchema))


class HistoryEntrySchema(Schema):
    seq = fields.Integer()
    at = LocalDateTime()
    type = fields.String()
    task_id = fields.String(allow_none=True)
    actor = fields.String()
    actor_name = fields.String()
    department = fields.String(allow_none=True)
    step = fields.String()
    action = fields.String()
    opinion = fields.String(allow_none=True)
    deadline_status = fields.String()


class HistorySchema(Schema):
    case_id = fields.String()
    number = fields.String(allow_none=True)
    items = fields.List(fields.Nested(HistoryEntrySchema))
    total = fields.Integer()


@blp.route("/cases/<int:case_id>/events")
class CaseEvents(MethodView):
    @blp.response(200, EventListSchema)
    def get(self, case_id):
        """The case's audit events, in order, with their hash chain."""
        cases.get_visible(case_id=case_id, principal=current())
        items = service.list_events(case_id=case_id)
        return {"items": items, "total": len(items)}


@blp.route("/cases/<int:case_id>/replay")
class CaseReplay(MethodView):
    @blp.arguments(ReplayArgs, location="query")
    @blp.response(200, ReplaySchema)
    def get(self, args, case_id):
        """Re-run the case from its events on its pinned process version: consistent or the first divergence."""
        case = cases.get_visible(case_id=case_id, principal=current())
        return replay.replay_case(case=case, upto=args.get("upto")).as_dict(case_id=case.id)


@blp.route("/audit/verify")
class Verify(MethodView):
    @blp.arguments(VerifyArgs, location="query")
    @blp.response(200, VerifySchema)
    def get(self, args):
        """Check every case's hash chain (or one case's): intact, or the first broken link."""
        require_role(*VERIFIERS)
        return verify(case_id=args.get("case_id")).as_dict()


@blp.route("/cases/<int:case_id>/history")
class CaseHistory(MethodView):
    @blp.response(200, HistorySchema)
    def get(self, case_id):
        """The case's history for people, in Chinese: step, person, department, time, opinion, deadline status."""
        case = cases.get_visible(case_id=case_id, principal=current())
        items = history.timeline(case=case)
        return {"case_id": str(case.id), "number": case.number, "items": items, "total": len(items)}


@blp.route("/cases/<int:case_id>/history.html")
class CaseHistoryDocument(MethodView):
    @blp.response(200, content_type="text/html")
    def get(self, case_id):
        """The same history as a printable document (HTML, print CSS) with the chain's head and checks."""
        principal = current()
        case = cases.get_visible(case_id=case_id, principal=principal)
        context = history.document(case=case, principal=principal)
        page = render_template("audit/history.html", local=history.local, **context)
        return Response(
            page,
            mimetype="text/html",
            headers={"Content-Disposition": f'inline; filename="history-{case.number}.html"'},
        )
