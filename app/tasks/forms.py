"""What each kind of human task accepts (the `form` property of a BPMN user task)."""

from __future__ import annotations

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from app.errors import Invalid

OPINION = fields.String(validate=validate.Length(max=2000))


class _Form(Schema):
    class Meta:
        unknown = RAISE


class OpinionForm(_Form):
    opinion = OPINION


class DecisionForm(_Form):
    approved = fields.Boolean(required=True, truthy={True}, falsy={False})
    opinion = OPINION

    @validates_schema
    def _rejection_needs_opinion(self, data, **kwargs):
        if data.get("approved") is False and not (data.get("opinion") or "").strip():
            raise ValidationError("不予许可必须填写理由 A rejection needs an opinion.", field_name="opinion")


class CertificateForm(_Form):
    certificate_no = fields.String(validate=validate.Length(max=60))
    opinion = OPINION


class DeliveryForm(_Form):
    method = fields.String(validate=validate.OneOf(["window", "mail", "electronic"]))
    opinion = OPINION


FORMS: dict[str, Schema] = {
    "opinion": OpinionForm(),
    "decision": DecisionForm(),
    "certificate": CertificateForm(),
    "delivery": DeliveryForm(),
}


def validate_submission(form: str, data: dict) -> dict:
    """The cleaned submission for a task of kind `form` (Invalid with field messages otherwise)."""
    schema = FORMS.get(form, FORMS["opinion"])
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise Invalid("提交的办理数据不符合要求 The submitted data is invalid.", errors=exc.messages) from exc


def describe(form: str) -> list[dict]:
    """The fields of a form, for a client that draws it."""
    schema = FORMS.get(form, FORMS["opinion"])
    return [
        {"name": name, "type": type(field).__name__.lower(), "required": field.required}
        for name, field in schema.fields.items()
    ]
