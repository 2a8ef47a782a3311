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


class ReviewForm(_Form):
    """承办人审查: an opinion, and whether an on-site inspection (a special procedure) is needed."""

    opinion = OPINION
    needs_inspection = fields.Boolean(load_default=False, truthy={True}, falsy={False})


class PledgeForm(_Form):
    """告知承诺: the written notice was given and the applicant signed the pledge."""

    notice_given = fields.Boolean(required=True, truthy={True}, falsy={False}, validate=validate.Equal(True))
    pledge_signed = fields.Boolean(required=True, truthy={True}, falsy={False}, validate=validate.Equal(True))
    opinion = OPINION


class VerificationForm(_Form):
    """核查: was the pledge true? A false pledge needs the findings."""

    pledge_true = fields.Boolean(required=True, truthy={True}, falsy={False})
    opinion = OPINION

    @validates_schema
    def _false_needs_findings(self, data, **kwargs):
        if data.get("pledge_true") is False and not (data.get("opinion") or "").strip():
            raise ValidationError("承诺不实须写明核查情况 A false pledge needs the findings.", field_name="opinion")


class SupplementForm(_Form):
    """补齐容缺材料: the deferred materials received (every one of them, checked against the case)."""

    materials = fields.List(
        fields.String(validate=validate.Length(min=1, max=200)), required=True, validate=validate.Length(min=1, max=100)
    )
    opinion = OPINION


class ReasonForm(_Form):
    """A step whose whole point is its written reason (撤销, 不予受理...)."""

    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


FORMS: dict[str, Schema] = {
    "opinion": OpinionForm(),
    "decision": DecisionForm(),
    "certificate": CertificateForm(),
    "delivery": DeliveryForm(),
    "review": ReviewForm(),
    "pledge": PledgeForm(),
    "verification": VerificationForm(),
    "supplement": SupplementForm(),
    "reason": ReasonForm(),
}


def validate_submission(form: str, data: dict, *, case_data: dict | None = None) -> dict:
    """The cleaned submission for a task of kind `form` (Invalid with field messages otherwise).

    `case_data` (the workflow data the task sees) lets a form check against the case: a supplement
    must cover every deferred material.
    """
    schema = FORMS.get(form, FORMS["opinion"])
    try:
        cleaned = schema.load(data)
    except ValidationError as exc:
        raise Invalid("提交的办理数据不符合要求 The submitted data is invalid.", errors=exc.messages) from exc
    if form == "supplement" and case_data is not None:
        missing = [m for m in case_data.get("materials_deferred", []) if m not in cleaned["materials"]]
        if missing:
            raise Invalid(
                f"仍缺少容缺材料：{'、'.join(missing)} Deferred materials still missing.",
                errors={"materials": [f"缺少 {m}" for m in missing]},
            )
    return cleaned


def describe(form: str) -> list[dict]:
    """The fields of a form, for a client that draws it."""
    schema = FORMS.get(form, FORMS["opinion"])
    return [
        {"name": name, "type": type(field).__name__.lower(), "required": field.required}
        for name, field in schema.fields.items()
    ]
