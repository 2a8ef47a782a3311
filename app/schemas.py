"""Schemas shared by every domain's API."""

from marshmallow import Schema, fields, validate

from app.clock import DISPLAY_ZONE

MAX_ID = 2**31 - 1  # ids are PostgreSQL integers


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
