"""电子监察 and 好差评."""

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.cases import service as cases
from app.cases.schemas import CaseListSchema, CaseSchema
from app.identity.principal import current
from app.schemas import LocalDateTime, PageArgs
from app.supervision import service

blp = Blueprint("supervision", __name__, url_prefix="/api", description="电子监察 Supervision")


class SummaryArgs(Schema):
    since = fields.AwareDateTime(default_timezone=None)


class LevelsSchema(Schema):
    ok = fields.Integer()
    warning = fields.Integer()
    overdue = fields.Integer()
    breach = fields.Integer()


class FigureSchema(Schema):
    key = fields.String()
    open = fields.Integer()
    completed = fields.Integer()
    withdrawn = fields.Integer()
    on_time = fields.Integer()
    on_time_rate = fields.Float(allow_none=True)
    levels = fields.Nested(LevelsSchema)
    avg_days_used = fields.Float(allow_none=True)
    avg_promised_days = fields.Float(allow_none=True)
    avg_statutory_days = fields.Float(allow_none=True)


class SummarySchema(Schema):
    by_department = fields.List(fields.Nested(FigureSchema))
    by_matter = fields.List(fields.Nested(FigureSchema))
    generated_at = LocalDateTime()


class EvaluationSchema(Schema):
    level = fields.String(required=True, validate=validate.OneOf(list(service.EVALUATIONS)))
    comment = fields.String(validate=validate.Length(max=1000), load_default=None)


@blp.route("/supervision/summary")
class Summary(MethodView):
    @blp.arguments(SummaryArgs, location="query")
    @blp.response(200, SummarySchema)
    def get(self, args):
        """Per department and matter: open/completed, on-time rate, warning levels, working days used."""
        return service.summary(principal=current(), **args)


@blp.route("/supervision/overdue")
class Overdue(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, CaseListSchema)
    def get(self, args):
        """Running cases past their promised or statutory limit."""
        principal = current()
        rows, total = service.overdue(principal=principal, **args)
        return cases.page(rows, total, principal)


@blp.route("/cases/<int:case_id>/evaluation")
class Evaluation(MethodView):
    @blp.arguments(EvaluationSchema)
    @blp.response(200, CaseSchema)
    def post(self, body, case_id):
        """好差评: the applicant's rating, once per completed case (a bad one opens a follow-up task)."""
        principal = current()
        case = service.evaluate(case_id=case_id, principal=principal, **body)
        return cases.view(case, principal, cases.open_tasks([case.id])[case.id])
