from marshmallow import Schema, fields

from app.schemas import Id, LocalDateTime, PageArgs


class NotificationArgs(PageArgs):
    unread = fields.Boolean(load_default=False)


class NotificationSchema(Schema):
    id = Id()
    kind = fields.String()
    title = fields.String()
    case_id = Id(allow_none=True)
    task_id = Id(allow_none=True)
    created_at = LocalDateTime()
    read_at = LocalDateTime(allow_none=True)


class NotificationListSchema(Schema):
    items = fields.List(fields.Nested(NotificationSchema))
    total = fields.Integer()
    unread = fields.Integer()
