"""A case's audit events."""

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from app.audit import service
from app.cases import service as cases
from app.identity.principal import current
from app.schemas import LocalDateTime

blp = Blueprint("audit", __name__, url_prefix="/api", description="审计 Audit")


class EventSchema(Schema):
    seq = fields.Integer()
    at = LocalDateTime()
    actor = fields.String()
    type = fields.String()
    task_id = fields.String(allow_none=True)
    payload = fields.Dict()
    hash = fields.String()
    prev_hash = fields.String()


class EventListSchema(Schema):
    items = fields.List(fields.Nested(EventSchema))
    total = fields.Integer()


@blp.route("/cases/<int:case_id>/events")
class CaseEvents(MethodView):
    @blp.response(200, EventListSchema)
    def get(self, case_id):
        """The case's audit events, in order, with their hash chain."""
        cases.get_visible(case_id=case_id, principal=current())
        items = service.list_events(case_id=case_id)
        return {"items": items, "total": len(items)}
