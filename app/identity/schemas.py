from marshmallow import Schema, fields, validate

from app.schemas import LocalDateTime


class TokenRequestSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=60))
    password = fields.String(required=True, validate=validate.Length(min=1, max=200), load_only=True)


class TokenSchema(Schema):
    token = fields.String()
    expires_at = LocalDateTime()


class MeSchema(Schema):
    username = fields.String()
    display_name = fields.String()
    department = fields.String(allow_none=True)
    groups = fields.List(fields.String())
    roles = fields.List(fields.String())
