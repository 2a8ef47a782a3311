"""How a task's form (the fields GET /api/tasks/{id} serves) is drawn for people and read back from a post."""

from __future__ import annotations

from typing import Any

from werkzeug.datastructures import MultiDict

# A yes/no field as two clear choices: (label of true, label of false); other booleans read 是 / 否.
BOOLEAN_CHOICES = {
    "approved": ("准予", "不予"),
    "needs_inspection": ("需要现场核查", "无需现场核查"),
    "pledge_true": ("承诺属实", "承诺不实"),
}
INPUT_TYPES = {"long": "number", "date": "date", "string": "text"}


def widgets(fields: list[dict]) -> list[dict[str, Any]]:
    """The inputs of a task's form: one per field, named by its key, with its Chinese label."""
    out = []
    for field in fields:
        name, kind = field["name"], field["type"]
        widget: dict[str, Any] = {**field, "label": field.get("label") or name}
        if kind == "boolean":
            widget["widget"] = "choice"
            yes, no = BOOLEAN_CHOICES.get(name, ("是", "否"))
            widget["options"] = [("true", yes), ("false", no)]
        elif kind == "materials":
            widget["widget"] = "checkboxes"
            widget["options"] = [(c["value"], c["label"]) for c in field.get("choices", [])]
        elif kind == "enum":
            widget["widget"] = "select"
            widget["options"] = [(c["value"], c["label"]) for c in field.get("choices", [])]
        elif kind == "text":
            widget["widget"] = "textarea"
        else:
            widget["widget"], widget["input_type"] = "text", INPUT_TYPES.get(kind, "text")
        out.append(widget)
    return out


def submission(fields: list[dict], form: MultiDict) -> dict[str, Any]:
    """The `data` of POST /api/tasks/{id}/complete from a page post (blank optional inputs left out)."""
    data: dict[str, Any] = {}
    for field in fields:
        name, kind = field["name"], field["type"]
        if kind == "materials":
            data[name] = form.getlist(name)
            continue
        value = form.get(name, "").strip()
        if not value:
            continue
        if kind == "boolean":
            data[name] = {"true": True, "false": False}.get(value, value)
        elif kind == "long":
            data[name] = int(value) if value.lstrip("-").isdigit() else value
        else:
            data[name] = value
    return data
