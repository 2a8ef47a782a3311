from marshmallow import Schema, fields, validate

from app.matters.models import KINDS, MODES
from app.schemas import LocalDateTime


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


class MaterialWriteSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    required = fields.Boolean(load_default=True)
    deferrable = fields.Boolean(load_default=False)


class MatterWriteSchema(MatterSchema):
    """PUT /api/matters/{code}: every field of a matter (MatterSchema's, whatever they grow to) but the code.

    The fields below are the ones with rules; any other field of MatterSchema is taken as it is declared
    there (the 一次性告知单's texts), so a field added to the matter is editable without a change here.
    """

    class Meta:
        exclude = ("code",)

    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    department = fields.String(required=True, validate=validate.Length(min=1, max=40))
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    mode = fields.String(required=True, validate=validate.OneOf(MODES))
    statutory_days = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=365))
    promised_days = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=365))
    process_key = fields.String(required=True, validate=validate.Length(min=1, max=100))
    warning_days = fields.Integer(allow_none=True, strict=True, validate=validate.Range(min=0, max=365))
    materials = fields.List(fields.Nested(MaterialWriteSchema), load_default=list, validate=validate.Length(max=100))


class RevisionSchema(Schema):
    revision = fields.Integer()
    changed_by = fields.String()
    changed_at = LocalDateTime()
    changes = fields.Dict()
    snapshot = fields.Dict()


class RevisionListSchema(Schema):
    items = fields.List(fields.Nested(RevisionSchema))
    total = fields.Integer()
