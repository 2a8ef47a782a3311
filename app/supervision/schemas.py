"""Wire shapes of cards, filings and period statistics (api.md)."""

from marshmallow import Schema, fields, validate

from app.schemas import Id, IdRef, LocalDateTime, PageArgs
from app.supervision.models import COLORS, FILING_KINDS
from app.supervision.stats import BY


class CardSchema(Schema):
    id = Id()
    case_id = Id()
    task_id = Id(allow_none=True)
    color = fields.String()
    kind = fields.String()
    reason = fields.String()
    department = fields.String()
    holder = fields.String(allow_none=True)
    opened_by = fields.String()
    opened_at = LocalDateTime()
    answer_due = LocalDateTime()
    answer = fields.String(allow_none=True)
    answered_by = fields.String(allow_none=True)
    answered_at = LocalDateTime(allow_none=True)
    state = fields.String()
    closed_at = LocalDateTime(allow_none=True)
    note = fields.String(allow_none=True)
    escalated_to = Id(allow_none=True)
    parent_id = Id(allow_none=True)


class CardListSchema(Schema):
    items = fields.List(fields.Nested(CardSchema))
    total = fields.Integer()


class CardArgs(PageArgs):
    state = fields.String(validate=validate.OneOf(("open", "answered", "closed")))
    color = fields.String(validate=validate.OneOf(COLORS))
    department = fields.String(validate=validate.Length(max=40))


class NewCardSchema(Schema):
    # Ids are opaque strings on the wire: "4" (as other answers give it) and 4 both load.
    case_id = IdRef(required=True)
    task_id = IdRef(load_default=None, allow_none=True)
    color = fields.String(required=True, validate=validate.OneOf(COLORS))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    answer_days = fields.Integer(load_default=3, validate=validate.Range(min=1, max=60))


class AnswerSchema(Schema):
    answer = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class NoteSchema(Schema):
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))


class FilingSchema(Schema):
    id = Id()
    case_id = Id(allow_none=True)
    kind = fields.String(validate=validate.OneOf(FILING_KINDS))
    reason = fields.String()
    documents = fields.List(fields.Dict())
    department = fields.String()
    matter_code = fields.String()
    applicant_name = fields.String(allow_none=True)
    filed_by = fields.String()
    filed_at = LocalDateTime()
    state = fields.String()
    review_note = fields.String(allow_none=True)
    reviewed_by = fields.String(allow_none=True)
    reviewed_at = LocalDateTime(allow_none=True)
    card_id = Id(allow_none=True)


class FilingListSchema(Schema):
    items = fields.List(fields.Nested(FilingSchema))
    total = fields.Integer()


class FilingArgs(PageArgs):
    state = fields.String(validate=validate.OneOf(("pending", "accepted", "questioned")))


class ReviewSchema(Schema):
    verdict = fields.String(required=True, validate=validate.OneOf(("accepted", "questioned")))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))


class StatsArgs(Schema):
    start = fields.Date(required=True, data_key="from")
    end = fields.Date(required=True, data_key="to")
    by = fields.String(load_default="department", validate=validate.OneOf(BY))
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv", "xlsx")))


class StatsRowSchema(Schema):
    key = fields.String(allow_none=True)
    label = fields.String(allow_none=True)
    accepted = fields.Integer()
    completed = fields.Integer()
    on_time = fields.Integer()
    on_time_rate = fields.Float(allow_none=True)
    immediate_rate = fields.Float(allow_none=True)
    overdue = fields.Integer()
    breach = fields.Integer()
    not_accepted = fields.Integer()
    avg_working_days = fields.Float(allow_none=True)
    evaluations = fields.Integer()
    satisfaction_rate = fields.Float(allow_none=True)
    bad_followed_up_rate = fields.Float(allow_none=True)


class StatsSchema(Schema):
    start = fields.Date(attribute="from", data_key="from")
    end = fields.Date(attribute="to", data_key="to")
    by = fields.String()
    rows = fields.List(fields.Nested(StatsRowSchema))
    total = fields.Nested(StatsRowSchema)
