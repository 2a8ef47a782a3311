from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from app.identity.idnumber import credit_code_problem, id_number_problem
from app.schemas import FREE_DICT, NAME, Id, LocalDateTime, PageArgs, Pattern

ID_CHECKS = {"id_card": id_number_problem, "credit_code": credit_code_problem}
ID_TYPES = tuple(ID_CHECKS)
STATUSES = ("awaiting_correction", "in_progress", "suspended", "completed", "withdrawn")
WARNINGS = ("ok", "warning", "overdue", "breach")


class ApplicantSchema(Schema):
    name = fields.String(required=True, validate=[validate.Length(min=1, max=100), NAME])
    id_number = fields.String(validate=validate.Length(max=40))
    # A person's 居民身份证 (id_card) or an organisation's 统一社会信用代码 (credit_code); absent: not
    # said, and the number is taken as given (clients from before id_type).
    id_type = fields.String(validate=validate.OneOf(ID_TYPES))
    phone = fields.String(validate=validate.Length(max=30))

    @validates_schema
    def _number_of_its_type(self, data: dict, **_) -> None:
        """With id_type, the number must be one of that type (its check character), as at the desk."""
        check = ID_CHECKS.get(data.get("id_type"))
        if check is not None:
            problem = check(data.get("id_number", ""))
            if problem:
                raise ValidationError(problem, "id_number")

    @post_load
    def _number_written_as_checked(self, data: dict, **_) -> dict:
        if data.get("id_type") in ID_CHECKS and "id_number" in data:
            data["id_number"] = data["id_number"].strip().upper()
        return data


class MaterialInSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    provided = fields.Boolean(required=True, truthy={True}, falsy={False})


class CaseCreateSchema(Schema):
    matter_code = fields.String(required=True, validate=validate.Length(min=1, max=40))
    applicant = fields.Nested(ApplicantSchema, required=True)
    materials = fields.List(fields.Nested(MaterialInSchema), load_default=list, validate=validate.Length(max=100))
    data = fields.Dict(
        keys=fields.String(validate=Pattern(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")),
        load_default=dict,
        metadata=FREE_DICT,
    )
    # The window's answer (行政许可法 art. 32): accept, ask for corrections at once, or refuse.
    intake = fields.String(load_default="accept", validate=validate.OneOf(["accept", "correct", "refuse"]))
    corrections = fields.List(
        fields.String(validate=validate.Length(min=1, max=500)), load_default=None, validate=validate.Length(max=50)
    )
    reason = fields.String(load_default=None, validate=validate.Length(max=2000))


class CaseAcceptSchema(Schema):
    """受理 a corrected application: the materials as now provided."""

    materials = fields.List(fields.Nested(MaterialInSchema), required=True, validate=validate.Length(max=100))
    data = fields.Dict(
        keys=fields.String(validate=Pattern(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")),
        load_default=dict,
        metadata=FREE_DICT,
    )


class CaseFilterArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(STATUSES))
    matter_code = fields.String(validate=validate.Length(max=40))
    warning = fields.String(validate=validate.OneOf(WARNINGS))
    department = fields.String(validate=validate.Length(max=40))
    number = fields.String(validate=validate.Length(max=40), metadata={"description": "the whole 受理编号"})
    applicant_name = fields.String(validate=validate.Length(max=100), metadata={"description": "the whole name"})
    applicant_id_number = fields.String(
        validate=validate.Length(min=1, max=40),
        metadata={"description": "the whole 证件号码 (any letter case); roles that see id numbers only, else 403"},
    )


class DeadlinesSchema(Schema):
    statutory_due = LocalDateTime(allow_none=True)
    promised_due = LocalDateTime(allow_none=True)
    suspended_days = fields.Integer()
    extended_days = fields.Integer()
    provisional = fields.Boolean()


class OpenTaskSchema(Schema):
    id = Id()
    name = fields.String()
    title = fields.String()
    group = fields.String(allow_none=True)
    assignee = fields.String(allow_none=True)
    state = fields.String()


class DocumentRefSchema(Schema):
    """A document the answer issued (print it from GET /api/documents/{id})."""

    id = Id()
    kind = fields.String()
    number = fields.String()
    title = fields.String()
    sha256 = fields.String()


class CaseSchema(Schema):
    id = Id()
    number = fields.String()
    matter_code = fields.String()
    department = fields.String()
    status = fields.String()
    result = fields.String(allow_none=True)
    accepted_at = LocalDateTime()
    completed_at = LocalDateTime(allow_none=True)
    applicant = fields.Dict()
    materials = fields.List(fields.Dict())
    deadlines = fields.Nested(DeadlinesSchema)
    warning = fields.String()
    evaluation = fields.String(allow_none=True)
    incident = fields.String(allow_none=True)
    open_tasks = fields.List(fields.Nested(OpenTaskSchema))
    documents = fields.List(fields.Nested(DocumentRefSchema))


class CaseListSchema(Schema):
    items = fields.List(fields.Nested(CaseSchema))
    total = fields.Integer()


class SuspendSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(["correction", "special_procedure"]))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class ResumeSchema(Schema):
    note = fields.String(validate=validate.Length(max=500), load_default=None)


class ReasonSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))
