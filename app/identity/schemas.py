from marshmallow import Schema, fields, validate

from app.schemas import NAME, LocalDateTime, PageArgs, Pattern


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


_LOWER = "小写字母开头，仅含小写字母、数字和 . _ - lower-case code"
CODE = Pattern(r"^[a-z][a-z0-9_.-]{0,39}$", error=_LOWER)
GROUP_CODE = Pattern(r"^[a-z][a-z0-9_.-]{0,79}$", error=_LOWER)
USERNAME = Pattern(r"^[A-Za-z][A-Za-z0-9_.-]{0,59}$", error="字母开头，仅含字母、数字和 . _ - a plain username")
ROLE_NAMES = validate.OneOf(["window", "reviewer", "leader", "designer", "supervisor", "auditor", "admin"])


class DepartmentSchema(Schema):
    code = fields.String(required=True, validate=CODE)
    name = fields.String(required=True, validate=[validate.Length(min=1, max=100), NAME])


class GroupSchema(Schema):
    code = fields.String(required=True, validate=GROUP_CODE)
    name = fields.String(required=True, validate=[validate.Length(min=1, max=100), NAME])
    department = fields.String(required=True, validate=validate.Length(min=1, max=40))


class GroupArgs(Schema):
    department = fields.String(validate=validate.Length(min=1, max=40))


class UserSchema(Schema):
    username = fields.String()
    display_name = fields.String()
    department = fields.String(allow_none=True)
    groups = fields.List(fields.String())
    roles = fields.List(fields.String())
    active = fields.Boolean()
    backup = fields.String(allow_none=True)


class UserChangeSchema(Schema):
    display_name = fields.String(validate=[validate.Length(min=1, max=100), NAME])
    department = fields.String(allow_none=True, validate=validate.Length(min=1, max=40))
    groups = fields.List(fields.String(validate=validate.Length(min=1, max=80)), validate=validate.Length(max=50))
    roles = fields.List(fields.String(validate=ROLE_NAMES), validate=validate.Length(max=10))
    active = fields.Boolean()
    backup = fields.String(allow_none=True, validate=validate.Length(min=1, max=60))
    password = fields.String(load_only=True, validate=validate.Length(min=1, max=200))


class UserCreateSchema(UserChangeSchema):
    username = fields.String(required=True, validate=USERNAME)
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=200))


class UserArgs(PageArgs):
    department = fields.String(validate=validate.Length(min=1, max=40))
    group = fields.String(validate=validate.Length(min=1, max=80))


class UserListSchema(Schema):
    items = fields.List(fields.Nested(UserSchema))
    total = fields.Integer()


class LogArgs(PageArgs):
    target = fields.String(validate=validate.Length(min=1, max=120))


class LogEntrySchema(Schema):
    seq = fields.Integer()
    at = LocalDateTime()
    actor = fields.String()
    action = fields.String()
    target = fields.String()
    before = fields.Dict(allow_none=True)
    after = fields.Dict(allow_none=True)
    hash = fields.String()
    prev_hash = fields.String()


class LogListSchema(Schema):
    items = fields.List(fields.Nested(LogEntrySchema))
    total = fields.Integer()


class LogVerifySchema(Schema):
    intact = fields.Boolean()
    entries_checked = fields.Integer()
    first_broken = fields.Integer(allow_none=True)
