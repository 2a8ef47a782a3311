from marshmallow import Schema, fields


class MaterialSchema(Schema):
    name = fields.String()
    required = fields.Boolean()
    deferrable = fields.Boolean()


class MatterSchema(Schema):
    code = fields.String()
    name = fields.String()
    department = fields.String()
    kind = fields.String()
    mode = fields.String()
    statutory_days = fields.Integer()
    promised_days = fields.Integer()
    process_key = fields.String()
    warning_days = fields.Integer(allow_none=True)
    materials = fields.List(fields.Nested(MaterialSchema))


class MatterListSchema(Schema):
    items = fields.List(fields.Nested(MatterSchema))
    total = fields.Integer()
