from marshmallow import Schema, fields, validate

from app.deadlines.workdays import FIRST_DATE, FIRST_YEAR, LAST_DATE, LAST_YEAR
from app.schemas import LocalDateTime

# OpenAPI 3.0 has no date bounds: the years FIRST_YEAR..LAST_YEAR as a pattern (beside x-minimum/x-maximum).
DATE_PATTERN = r"^(199\d|20\d\d|2100)-"


class DaySchema(Schema):
    date = fields.Date(required=True)
    workday = fields.Boolean(required=True, truthy={True}, falsy={False})
    name = fields.String(load_default="", validate=validate.Length(max=60))


class CalendarYearSchema(Schema):
    year = fields.Integer(required=True, validate=validate.Range(min=FIRST_YEAR, max=LAST_YEAR))
    source = fields.String(required=True, validate=validate.Length(min=1, max=200))
    days = fields.List(fields.Nested(DaySchema), required=True, validate=validate.Length(max=366))


class CalendarYearOutSchema(CalendarYearSchema):
    source = fields.String(allow_none=True)
    loaded = fields.Boolean()
    recomputed_cases = fields.Integer()


class DueArgs(Schema):
    from_ = fields.Date(
        required=True,
        data_key="from",
        validate=validate.Range(min=FIRST_DATE, max=LAST_DATE),
        metadata={"pattern": DATE_PATTERN},
    )
    days = fields.Integer(required=True, validate=validate.Range(min=0, max=1000))


class DueSchema(Schema):
    from_ = fields.Date(data_key="from")
    days = fields.Integer()
    due_date = fields.Date()
    due_at = LocalDateTime()
    provisional = fields.Boolean()
