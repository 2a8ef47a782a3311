"""Schemas shared by every domain's API."""

from marshmallow import Schema, fields, validate

from app.clock import DISPLAY_ZONE

MAX_ID = 2**31 - 1  # ids are PostgreSQL integers
# OpenAPI for a free JSON object (a case's `data`, a dry run's): the input rules with their defaults
# (config.py INPUT_*, app/hygiene.py) that JSON Schema can state.
FREE_DICT = {
    "maxProperties": 500,
    "description": "free JSON: at most 8 levels, 500 keys per object, strings of 10,000 characters, "
    "numbers within ±2**53",
}


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class Id(fields.String):
    """Ids are opaque strings on the wire (integers inside)."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else str(value)


class LocalDateTime(fields.DateTime):
    """Times on the wire: ISO 8601 at +08:00 (Beijing time), always that offset (see clock.DISPLAY_ZONE)."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return value.astimezone(DISPLAY_ZONE).isoformat()
