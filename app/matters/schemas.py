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
    # The 一次性告知单's texts.
    conditions = fields.String(allow_none=True)
    legal_basis = fields.String(allow_none=True)
    fees = fields.String(allow_none=True)
    place = fields.String(allow_none=True)


class MatterListSchema(Schema):
    items = fields.List(fields.Nested(MatterSchema))
    total = fields.Integer()
