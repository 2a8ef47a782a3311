"""What a human task accepts: a marshmallow schema generated from the task's declared form.

A form is a tuple of `FormField`s parsed from the BPMN (`camunda:formData`, app/engine/parser.py).
Versions made before forms lived in the BPMN name a kind in the `form` property instead; those kinds
are kept below as data (the same `FormField`s), so cases running on such versions still complete.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from app.engine import expressions
from app.engine.parser import FormField, HumanTaskSpec
from app.errors import Invalid

TYPES = ("string", "text", "boolean", "long", "date", "enum", "materials")
CONSTRAINTS = ("required", "minlength", "maxlength", "min", "max", "required_if", "equals", "readonly")
DEFAULT_MAX_LENGTH = {"string": 200, "text": 2000}
REQUIRED = "此项必填"


def _field(name: str, label: str, type_: str, *constraints: tuple, choices=(), default=None, message=None) -> FormField:
    properties = (("message", message),) if message else ()
    constraints, choices = tuple(constraints), tuple(choices)
    return FormField(name, label, type_, default, choices, constraints, properties=properties)


_OPINION = _field("opinion", "办理意见", "text", ("maxlength", "2000"))
_REQ = ("required", None)
# The kinds of the `form` property of versions made before issue 12 (read-only: new files declare forms).
LEGACY: dict[str, tuple[FormField, ...]] = {
    "opinion": (_OPINION,),
    "decision": (
        _field("approved", "审批决定", "boolean", _REQ),
        _field(
            "opinion",
            "办理意见",
            "text",
            ("maxlength", "2000"),
            ("required_if", "approved == False"),
            message="不予许可必须填写理由",
        ),
    ),
    "certificate": (_field("certificate_no", "证书编号", "string", ("maxlength", "60")), _OPINION),
    "delivery": (
        _field(
            "method",
            "送达方式",
            "enum",
            choices=(("window", "窗口领取"), ("mail", "邮寄送达"), ("electronic", "电子送达")),
        ),
        _OPINION,
    ),
    "review": (_OPINION, _field("needs_inspection", "是否需要现场核查", "boolean", default="false")),
    "pledge": (
        _field("notice_given", "已书面告知承诺内容", "boolean", _REQ, ("equals", "true")),
        _field("pledge_signed", "申请人已签署承诺书", "boolean", _REQ, ("equals", "true")),
        _OPINION,
    ),
    "verification": (
        _field("pledge_true", "核查结论", "boolean", _REQ),
        _field(
            "opinion",
            "办理意见",
            "text",
            ("maxlength", "2000"),
            ("required_if", "pledge_true == False"),
            message="承诺不实须写明核查情况",
        ),
    ),
    "supplement": (_field("materials", "已补齐的容缺材料", "materials", _REQ), _OPINION),
    "reason": (_field("reason", "理由", "text", _REQ, ("minlength", "1"), ("maxlength", "2000")),),
}


def fields_of(spec: HumanTaskSpec | None, kind: str) -> tuple[FormField, ...]:
    """The form of a task: declared in its process version, else its legacy kind (opinion if unknown)."""
    if spec is not None and spec.fields is not None:
        return spec.fields
    return LEGACY.get(kind, LEGACY["opinion"])


def validate_submission(form: tuple[FormField, ...], data: dict, *, case_data: dict | None = None) -> dict:
    """The cleaned submission for a form (Invalid naming each refused field otherwise).

    `case_data` (the workflow data the task sees) gives a `materials` field its choices: the case's
    deferred materials, every one of which a required supplement must bring.
    """
    try:
        cleaned = form_schema(form).load(data)
    except ValidationError as exc:
        raise Invalid("提交的办理数据不符合要求 The submitted data is invalid.", errors=exc.messages) from exc
    # Workflow data and audit payloads hold JSON values: a date goes in as its ISO text.
    cleaned = {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in cleaned.items()}
    errors = _materials_errors(form, cleaned, (case_data or {}).get("materials_deferred"))
    if errors:
        raise Invalid("提交的办理数据不符合要求 The submitted data is invalid.", errors=errors)
    return cleaned


def _materials_errors(form: tuple[FormField, ...], cleaned: dict, deferred: list | None) -> dict[str, list[str]]:
    if deferred is None:
        return {}
    errors: dict[str, list[str]] = {}
    for f in form:
        if f.type != "materials" or f.name not in cleaned:
            continue
        given = cleaned[f.name]
        unknown = [m for m in given if m not in deferred]
        missing = [m for m in deferred if m not in given] if f.required else []
        messages = [f"不是本件的容缺材料：{m}" for m in unknown] + [f"缺少 {m}" for m in missing]
        if messages:
            errors[f.name] = messages
    return errors


def describe(form: tuple[FormField, ...], *, materials: list[str] | None = None) -> list[dict[str, Any]]:
    """The fields of a form as api.md shapes them: name, label, type, required, choices, max_length."""
    out = []
    for f in form:
        item: dict[str, Any] = {"name": f.name, "label": f.label, "type": f.type, "required": f.required}
        if f.type == "enum":
            item["choices"] = [{"value": v, "label": label} for v, label in f.choices]
        elif f.type == "materials":
            item["choices"] = [{"value": m, "label": m} for m in materials or []]
        if f.type in DEFAULT_MAX_LENGTH:
            item["max_length"] = _int(f.constraint("maxlength")) or DEFAULT_MAX_LENGTH[f.type]
        if f.constraint("required_if"):
            item["required_if"] = f.constraint("required_if")
        if f.default is not None:
            item["default"] = f.default
        out.append(item)
    return out


@lru_cache(maxsize=512)
def form_schema(form: tuple[FormField, ...]) -> Schema:
    """The form's schema, made once (a schema holds no state between loads)."""
    return schema_for(form)()


@lru_cache(maxsize=512)
def schema_for(form: tuple[FormField, ...]) -> type[Schema]:
    """The marshmallow schema of a form (cached per form: a process version's forms never change)."""
    attrs: dict[str, Any] = {f.name: _marshmallow_field(f) for f in form}
    conditional = tuple(
        (f.name, f.constraint("required_if"), dict(f.properties).get("message") or REQUIRED)
        for f in form
        if f.constraint("required_if")
    )
    names = tuple(f.name for f in form)

    @validates_schema
    def _required_if(self, data, **kwargs):
        values = {name: data.get(name) for name in names}
        for name, condition, message in conditional:
            if _blank(data.get(name)) and _holds(condition, values):
                raise ValidationError(message, field_name=name)

    attrs["_required_if"] = _required_if
    attrs["Meta"] = type("Meta", (), {"unknown": RAISE, "register": False})
    attrs["error_messages"] = {"unknown": "表单中没有此字段", "type": "提交数据须为对象"}
    return type("TaskForm", (Schema,), attrs)


def _marshmallow_field(f: FormField) -> fields.Field:
    messages = {"required": REQUIRED, "null": REQUIRED, "invalid": _INVALID.get(f.type, "格式不正确")}
    kwargs: dict[str, Any] = {"required": f.required, "error_messages": messages}
    checks: list = []
    if f.type in ("string", "text"):
        low, high = _int(f.constraint("minlength")), _int(f.constraint("maxlength")) or DEFAULT_MAX_LENGTH[f.type]
        checks.append(validate.Length(min=low, max=high, error=f"长度须在 {low or 0} 到 {high} 字之间"))
        field: fields.Field = fields.String
    elif f.type == "boolean":
        field, kwargs["truthy"], kwargs["falsy"] = fields.Boolean, {True}, {False}
    elif f.type == "long":
        low, high = _int(f.constraint("min")), _int(f.constraint("max"))
        if low is not None or high is not None:
            checks.append(validate.Range(min=low, max=high, error=_range_message(low, high)))
        field, kwargs["strict"] = fields.Integer, True
    elif f.type == "date":
        low, high = _date(f.constraint("min")), _date(f.constraint("max"))
        if low is not None or high is not None:
            checks.append(validate.Range(min=low, max=high, error=_range_message(low, high)))
        field = fields.Date
    elif f.type == "enum":
        checks.append(validate.OneOf([v for v, _ in f.choices], error="须为给定选项之一"))
        field = fields.String
    else:  # materials
        item = fields.String(validate=validate.Length(min=1, max=200), error_messages=messages)
        checks.append(validate.Length(min=1 if f.required else 0, max=100, error="须选择 1 到 100 项"))
        return fields.List(item, validate=checks, **kwargs)
    if f.default is not None and not f.required:
        kwargs["load_default"] = _typed(f, f.default)
    if f.constraint("equals") is not None:
        expected = _typed(f, f.constraint("equals"))
        checks.append(validate.Equal(expected, error=f"须为 {f.constraint('equals')}"))
    return field(validate=checks, **kwargs)


_INVALID = {
    "boolean": "须为 true 或 false",
    "long": "须为整数",
    "date": "须为日期（YYYY-MM-DD）",
    "materials": "须为材料名称的列表",
}


def _range_message(low: Any, high: Any) -> str:
    if low is not None and high is not None:
        return f"须在 {low} 到 {high} 之间"
    return f"须不小于 {low}" if low is not None else f"须不大于 {high}"


def _typed(f: FormField, text: str) -> Any:
    if f.type == "boolean":
        return text.strip().lower() == "true"
    if f.type == "long":
        return _int(text)
    if f.type == "date":
        return _date(text)
    return text


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text not in (None, "") else None
    except ValueError:
        return None


def _date(text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _blank(value: Any) -> bool:
    if isinstance(value, str):
        return not value.strip()
    return value is None or value == []


def _holds(condition: str, values: dict) -> bool:
    """A `required_if` condition over the submission, in the engine's safe evaluator (false if it fails)."""
    try:
        return bool(expressions.evaluate(condition, values))
    except expressions.ExpressionRefused:  # a condition that cannot be evaluated requires nothing
        return False


def default_submission(form: tuple[FormField, ...]) -> dict[str, Any]:
    """A submission that passes the form, as a clerk who agrees would fill it (the designer's dry-run default)."""
    data: dict[str, Any] = {}
    for f in form:
        if f.default is not None:
            data[f.name] = _typed(f, f.default)
        elif f.type == "boolean":
            data[f.name] = True
        elif f.type == "enum" and f.choices:
            data[f.name] = f.choices[0][0]
        elif f.type == "long":
            data[f.name] = _int(f.constraint("min")) or 1
        elif f.type == "date":
            data[f.name] = f.constraint("min") or "2026-01-05"
        elif f.type == "materials":
            data[f.name] = []
        elif f.required or f.constraint("minlength"):
            data[f.name] = "同意".ljust(_int(f.constraint("minlength")) or 2, "。")
    if isinstance(data.get("approved"), bool) and not data.get("opinion") and any(f.name == "opinion" for f in form):
        data["opinion"] = "同意"
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in data.items()}
