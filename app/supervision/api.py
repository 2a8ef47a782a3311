"""电子监察 and 好差评: figures, the overdue list, evaluations, cards and 督办, 否定报备 filings, period statistics."""

from flask import Response
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from app.cases import service as cases
from app.cases.schemas import CaseListSchema, CaseSchema
from app.extensions import Blueprint
from app.identity.principal import current
from app.schemas import LocalDateTime, PageArgs
from app.supervision import cards, exports, filings, service, stats
from app.supervision.schemas import (
    AnswerSchema,
    CardArgs,
    CardListSchema,
    CardSchema,
    FilingArgs,
    FilingListSchema,
    FilingSchema,
    NewCardSchema,
    NoteSchema,
    ReviewSchema,
    StatsArgs,
    StatsSchema,
)

blp = Blueprint("supervision", __name__, url_prefix="/api", description="电子监察 Supervision")
MIME = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


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


@blp.route("/supervision/cards")
class Cards(MethodView):
    @blp.arguments(CardArgs, location="query")
    @blp.response(200, CardListSchema)
    def get(self, args):
        """红黄蓝牌 and 督办 (supervisors all; staff their department's), newest first."""
        rows, total = cards.list_cards(principal=current(), **args)
        return {"items": rows, "total": total}

    @blp.arguments(NewCardSchema)
    @blp.response(201, CardSchema)
    def post(self, body):
        """A supervisor issues a card or 督办 by hand, with a reason and an answer limit in working days."""
        return cards.issue(principal=current(), **body)


@blp.route("/supervision/cards/<int:card_id>/answer")
class CardAnswer(MethodView):
    @blp.arguments(AnswerSchema)
    @blp.response(200, CardSchema)
    def post(self, body, card_id):
        """The card's department explains in writing."""
        return cards.answer(principal=current(), card_id=card_id, **body)


@blp.route("/supervision/cards/<int:card_id>/close")
class CardClose(MethodView):
    @blp.arguments(NoteSchema, required=False)  # the note is optional, so is the body
    @blp.response(200, CardSchema)
    def post(self, body, card_id):
        """The supervisor closes the card."""
        return cards.close(principal=current(), card_id=card_id, **body)


@blp.route("/supervision/cards/<int:card_id>/send-back")
class CardSendBack(MethodView):
    @blp.arguments(NoteSchema, required=False)  # the note is optional, so is the body
    @blp.response(200, CardSchema)
    def post(self, body, card_id):
        """The supervisor sends an answer back: the card is open again."""
        return cards.send_back(principal=current(), card_id=card_id, **body)


@blp.route("/filings")
class Filings(MethodView):
    @blp.arguments(FilingArgs, location="query")
    @blp.response(200, FilingListSchema)
    def get(self, args):
        """否定报备: every refusal, rejection and revocation with its reason."""
        rows, total = filings.list_filings(principal=current(), **args)
        return {"items": rows, "total": total}


@blp.route("/filings/<int:filing_id>/review")
class FilingReview(MethodView):
    @blp.arguments(ReviewSchema)
    @blp.response(200, FilingSchema)
    def post(self, body, filing_id):
        """A supervisor accepts or questions a filing; a questioned one opens a card to the department."""
        return filings.review(principal=current(), filing_id=filing_id, **body)


@blp.route("/supervision/stats")
class Stats(MethodView):
    @blp.arguments(StatsArgs, location="query")
    @blp.response(200, StatsSchema)
    @blp.doc(
        responses={
            "200": {
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Stats"}},
                    **{MIME[kind]: {"schema": {"type": "string", "format": "binary"}} for kind in ("csv", "xlsx")},
                }
            }
        }
    )
    def get(self, args):
        """Figures for a period by department, matter, clerk or month; format=csv|xlsx exports them."""
        fmt = args.pop("format")
        result = stats.figures(principal=current(), **args)
        if fmt == "json":
            return result
        body = exports.to_csv(result) if fmt == "csv" else exports.to_xlsx(result)
        name = exports.filename(result, fmt)
        return Response(body, mimetype=MIME[fmt], headers={"Content-Disposition": f"attachment; filename={name}"})
