"""How a task's form (app/tasks/forms.describe) is drawn for people and read back from a page post."""

from __future__ import annotations

from typing import Any

from werkzeug.datastructures import MultiDict

LABELS = {
    "opinion": "办理意见",
    "approved": "审批决定",
    "certificate_no": "证书编号",
    "method": "送达方式",
    "needs_inspection": "是否需要现场核查",
    "notice_given": "已书面告知承诺内容",
    "pledge_signed": "申请人已签署承诺书",
    "pledge_true": "核查结论",
    "materials": "已补齐的容缺材料",
    "reason": "理由",
}
# A yes/no field as two clear choices: (label of true, label of false).
BOOLEAN_CHOICES = {
    "approved": ("准予", "不予"),
    "needs_inspection": ("需要现场核查", "无需现场核查"),
    "pledge_true": ("承诺属实", "承诺不实"),
}
CHOICES = {"method": {"window": "窗口领取", "mail": "邮寄送达", "electronic": "电子送达"}}
LONG_TEXT = frozenset({"opinion", "reason"})


def widgets(fields: list[dict], *, deferred: list[str]) -> list[dict[str, Any]]:
    """The inputs of a task's form: one per field, named by its key, with a Chinese label."""
    out = []
    for field in fields:
        name, kind = field["name"], field["type"]
        widget: dict[str, Any] = {**field, "label": LABELS.get(name, name)}
        if kind == "boolean":
            widget["widget"] = "choice"
            yes, no = BOOLEAN_CHOICES.get(name, ("是", "否"))
            widget["options"] = [("true", yes), ("false", no)]
        elif kind == "list":
            widget["widget"] = "checkboxes"
            widget["options"] = [(m, m) for m in deferred]
        elif name in CHOICES:
            widget["widget"] = "select"
            widget["options"] = list(CHOICES[name].items())
        else:
            widget["widget"] = "textarea" if name in LONG_TEXT else "text"
        out.append(widget)
    return out


def submission(fields: list[dict], form: MultiDict) -> dict[str, Any]:
    """The `data` of POST /api/tasks/{id}/complete from a page post (blank optional inputs left out)."""
    data: dict[str, Any] = {}
    for field in fields:
        name, kind = field["name"], field["type"]
        if kind == "list":
            data[name] = form.getlist(name)
            continue
        value = form.get(name, "").strip()
        if not value:
            continue
        data[name] = {"true": True, "false": False}.get(value, value) if kind == "boolean" else value
    return data
