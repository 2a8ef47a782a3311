from marshmallow import Schema, ValidationError, fields, validate, validates

from app.schemas import FREE_DICT, LocalDateTime


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
    key = fields.String()
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


class PublicationSchema(Schema):
    version = fields.Integer()
    previous_version = fields.Integer(allow_none=True)
    rollback = fields.Boolean()
    published_by = fields.String()
    published_at = LocalDateTime()


class PublicationListSchema(Schema):
    items = fields.List(fields.Nested(PublicationSchema))
    total = fields.Integer()


class ProcessSchema(Schema):
    key = fields.String()
    name = fields.String()
    latest_version = fields.Integer()
    published_version = fields.Integer(allow_none=True)


class ProcessListSchema(Schema):
    items = fields.List(fields.Nested(ProcessSchema))
    total = fields.Integer()


class ScenarioSchema(Schema):
    """A dry run: start data, and per user task (element id) a submission or a list of them."""

    data = fields.Dict(keys=fields.String(), load_default=dict, metadata=FREE_DICT)
    tasks = fields.Dict(keys=fields.String(), values=fields.Raw(), load_default=dict, metadata=FREE_DICT)
    max_steps = fields.Integer(load_default=None, validate=validate.Range(min=1, max=1000))

    @validates("tasks")
    def _submissions_are_objects(self, value, **kwargs):
        for name, entry in value.items():
            items = entry if isinstance(entry, list) else [entry]
            if not all(isinstance(item, dict) for item in items):
                raise ValidationError(
                    f"{name}: 提交数据须为对象或对象列表 a submission is an object or a list of objects"
                )


class SimulatedTaskSchema(Schema):
    name = fields.String()
    title = fields.String()
    group = fields.String(allow_none=True)
    instance = fields.String(allow_none=True)
    data = fields.Dict()


class SimulationSchema(Schema):
    key = fields.String()
    version = fields.Integer()
    path = fields.List(fields.String())
    tasks = fields.List(fields.Nested(SimulatedTaskSchema))
    end = fields.String(allow_none=True)
    result = fields.String(allow_none=True)
    unused = fields.List(fields.String())
