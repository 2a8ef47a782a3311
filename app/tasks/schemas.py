from marshmallow import Schema, fields, validate

from app.schemas import FREE_DICT, FlatRows, Id, LocalDateTime, PageArgs

# A submission's fields are the task's form, which each process version declares in its BPMN:
# GET /api/tasks/{id} lists them (names, types, choices, limits).
SUBMISSION = {
    **FREE_DICT,
    "description": "the fields of the task's form, as GET /api/tasks/{id} lists them (names, types, choices, "
    "limits); " + FREE_DICT["description"],
}


WARNINGS = ("ok", "warning", "overdue", "breach")
SORTS = ("due", "-due", "created")


class TaskScopeArgs(PageArgs):
    scope = fields.String(load_default="mine", validate=validate.OneOf(["mine", "claimable"]))
    matter_code = fields.String(validate=validate.Length(min=1, max=40))
    warning = fields.String(validate=validate.OneOf(WARNINGS))
    # A whole case number or a whole applicant name.
    q = fields.String(validate=validate.Length(min=1, max=100))
    sort = fields.String(load_default="due", validate=validate.OneOf(SORTS))


class TaskSchema(Schema):
    id = Id()
    case_id = Id()
    name = fields.String()
    title = fields.String()
    form = fields.String()
    group = fields.String(allow_none=True)
    assignee = fields.String(allow_none=True)
    state = fields.String()
    created_at = LocalDateTime()
    due_at = LocalDateTime(allow_none=True)
    warning = fields.String()
    case_number = fields.String(allow_none=True)
    matter_code = fields.String(allow_none=True)
    applicant_name = fields.String(allow_none=True)
    # AB岗: set on a claimable row the principal sees only as someone's backup ("代 X 办理").
    on_behalf_of = fields.String(allow_none=True)


class TaskListSchema(Schema):
    items = FlatRows(TaskSchema)
    total = fields.Integer()


class ChoiceSchema(Schema):
    value = fields.String()
    label = fields.String()


class FormFieldSchema(Schema):
    name = fields.String()
    label = fields.String()
    type = fields.String()
    required = fields.Boolean()
    choices = fields.List(fields.Nested(ChoiceSchema))
    max_length = fields.Integer()
    required_if = fields.String()
    default = fields.String()


class CaseSummarySchema(Schema):
    id = Id()
    number = fields.String()
    matter_code = fields.String()
    status = fields.String()
    accepted_at = LocalDateTime()
    promised_due = LocalDateTime(allow_none=True)
    statutory_due = LocalDateTime(allow_none=True)
    warning = fields.String()


class TaskDetailSchema(TaskSchema):
    fields_ = fields.List(fields.Nested(FormFieldSchema), data_key="fields")
    case = fields.Nested(CaseSummarySchema)


class DelegateSchema(Schema):
    to = fields.String(required=True, validate=validate.Length(min=1, max=60))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class CompleteSchema(Schema):
    # Documented as one of the task forms (components registered by app/routes.py); the task's own
    # `form` decides which one the server holds the submission to.
    data = fields.Dict(keys=fields.String(), required=True, metadata=SUBMISSION)


class CaseProgressSchema(Schema):
    id = Id()
    status = fields.String()
    result = fields.String(allow_none=True)
    open_tasks = fields.List(fields.Nested(TaskSchema))


class CompletedTaskSchema(TaskSchema):
    """The completed task, and where its case went: the next open tasks (saves the client a GET)."""

    case = fields.Nested(CaseProgressSchema)


class ReassignSchema(Schema):
    to = fields.String(required=True, validate=validate.Length(min=1, max=60))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class AbsenceCreateSchema(Schema):
    starts_at = fields.AwareDateTime(required=True, data_key="from", default_timezone=None)
    ends_at = fields.AwareDateTime(required=True, data_key="to", default_timezone=None)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=200))
    backup = fields.String(validate=validate.Length(min=1, max=60))


class AbsenceSchema(Schema):
    id = Id()
    username = fields.String()
    backup = fields.String()
    from_ = LocalDateTime(data_key="from", attribute="from")
    to = LocalDateTime()
    reason = fields.String()
    state = fields.String(metadata={"description": "scheduled | active | ended | cancelled"})
    recorded_by = fields.String()


class AbsenceArgs(Schema):
    current = fields.Boolean(load_default=False)
