"""Schemas shared by every domain's API."""

import re

from marshmallow import Schema, ValidationError, fields, missing, validate

from app.clock import DISPLAY_ZONE

MAX_ID = 2**31 - 1  # ids are PostgreSQL integers
# OpenAPI for a free JSON object (a case's `data`, a dry run's): the input rules with their defaults
# (config.py INPUT_*, app/hygiene.py) that JSON Schema can state.
FREE_DICT = {
    "maxProperties": 500,
    "description": "free JSON: at most 8 levels, 500 keys per object, strings of 10,000 characters, "
    "numbers within ±2**53",
}


# A name (of a person, a department, a group, an applicant) is one line of printable text with at least
# one visible character: names are printed on documents, listed, exported to spreadsheets and read by
# people. No C0/C1 control character (tab and line feeds included), no line or paragraph separator.
_NOT_IN_A_NAME = r"\x00-\x1f\x7f-\x9f\u2028\u2029"
NAME_PATTERN = rf"^[^{_NOT_IN_A_NAME}]*[^\s{_NOT_IN_A_NAME}][^{_NOT_IN_A_NAME}]*$"
_NAME = re.compile(NAME_PATTERN)
NAME_MESSAGE = "须为一行可见文字，不得包含控制字符或换行 One line of visible text, no control characters."


def name_problem(value: str, max_length: int = 100) -> str | None:
    """What is wrong with `value` as a name, else None: NAME's rule and the names' columns' length, for
    callers without a schema (the pages call services directly). fullmatch: Python's `$` also matches
    before a final line feed."""
    if _NAME.fullmatch(value) is None:
        return NAME_MESSAGE
    if len(value) > max_length:
        return f"至多 {max_length} 个字符 At most {max_length} characters."
    return None


class Pattern(validate.Regexp):
    """validate.Regexp matched whole: Python's `$` also matches before a final line feed, so
    `^[a-z]+$` took "abc\n" with re.match. The OpenAPI document shows the same pattern, which JSON
    Schema's (ECMA 262) `$` already reads this way."""

    def __call__(self, value: str) -> str:
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


NAME = Pattern(NAME_PATTERN, error=NAME_MESSAGE)


_ABSENT = object()
_NOT_FLAT = (fields.Nested, fields.List, fields.Tuple, fields.Dict, fields.Method, fields.Function, fields.Pluck)


class FlatRows(fields.List):
    """`List(Nested(schema))` for a list page of a flat schema (no nested fields, no dump hooks), dumped
    through each field's own formatting but without marshmallow's machinery around every value (it cost
    about a millisecond of CPU for an inbox page of 50 tasks, 750 values). The same output as
    List(Nested(schema)), the same OpenAPI document; tests/test_per_request.py compares the two."""

    def __init__(self, schema: type[Schema], **kwargs) -> None:
        super().__init__(fields.Nested(schema), **kwargs)
        self._plan: tuple | None = None

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        plan = self._plan or self._build()
        out = []
        for row in value:
            item = {}
            for key, name, field in plan:
                v = row.get(name, _ABSENT) if isinstance(row, dict) else getattr(row, name, _ABSENT)
                if v is not _ABSENT:  # as marshmallow: an attribute the row lacks is left out
                    item[key] = field._serialize(v, name, row)
            out.append(item)
        return out

    def _build(self) -> tuple:
        schema = self.inner.schema
        if any(schema._hooks.get(tag) for tag in ("pre_dump", "post_dump")):
            raise TypeError(f"{type(schema).__name__} has dump hooks: not a flat schema")
        plan = []
        for name, field in schema.dump_fields.items():
            attribute = field.attribute or name
            if isinstance(field, _NOT_FLAT) or "." in attribute or field.dump_default is not missing:
                raise TypeError(f"{type(schema).__name__}.{name} is not a flat field")
            plan.append((field.data_key or name, attribute, field))
        self._plan = tuple(plan)
        return self._plan


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class Id(fields.String):
    """Ids are opaque strings on the wire (integers inside)."""

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else str(value)


class IdRef(fields.Field):
    """An id in a request body: the string other answers give it as ("14"), or the plain integer.

    Exactly what the OpenAPI document states, no more (no " 14", "+14", "1_4" or "014", which Python's
    int() would take): an integer 1..2**31-1, or a string of 1 to 9 digits without a leading zero."""

    DIGITS = "[1-9][0-9]{0,8}"
    PATTERN = re.compile(DIGITS)
    OPENAPI = {
        "anyOf": [
            {"type": "integer", "minimum": 1, "maximum": MAX_ID},
            {"type": "string", "pattern": f"^{DIGITS}$"},
        ]
    }

    def __init__(self, **kwargs):
        super().__init__(metadata={**self.OPENAPI, **kwargs.pop("metadata", {})}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and self.PATTERN.fullmatch(value):
            return int(value)
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID:
            return value
        raise ValidationError("不是有效的编号 Not a valid id (1..2147483647, or its digits as a string).")


class LocalDateTime(fields.DateTime):
    """Times on the wire: ISO 8601 at +08:00 (Beijing time), always that offset (see clock.DISPLAY_ZONE)."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return value.astimezone(DISPLAY_ZONE).isoformat()
