from marshmallow import Schema, fields

from app.schemas import LocalDateTime


class ProblemSchema(Schema):
    severity = fields.String()
    element = fields.String(allow_none=True)
    line = fields.Integer(allow_none=True)
    message = fields.String()


class UploadResultSchema(Schema):
    key = fields.String()
    version = fields.Integer()
    state = fields.String()
    hash = fields.String()
    report = fields.List(fields.Nested(ProblemSchema))


class VersionSchema(Schema):
    version = fields.Integer()
    name = fields.String()
    state = fields.String()
    hash = fields.String()
    created_at = LocalDateTime()
    published_at = LocalDateTime(allow_none=True)
    report = fields.List(fields.Nested(ProblemSchema))


class VersionListSchema(Schema):
    items = fields.List(fields.Nested(VersionSchema))
    total = fields.Integer()


class ProcessSchema(Schema):
    key = fields.String()
    name = fields.String()
    latest_version = fields.Integer()
    published_version = fields.Integer(allow_none=True)


class ProcessListSchema(Schema):
    items = fields.List(fields.Nested(ProcessSchema))
    total = fields.Integer()
