"""Schemas shared by every domain's API."""

from marshmallow import Schema, fields, validate

from app.clock import SHANGHAI


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class Id(fields.String):
    """Ids are opaque strings on the wire (integers inside)."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else str(value)


class LocalDateTime(fields.DateTime):
    """Times on the wire: ISO 8601 in Asia/Shanghai (+08:00), the zone the center works in."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return value.astimezone(SHANGHAI).isoformat()
