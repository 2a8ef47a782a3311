"""The matter catalog for designers: `/matters` (list), `/matters/<code>` (edit with validation, revisions).

The edit form is drawn from MatterWriteSchema's fields (the API's own PUT schema), so a field added to
the matter shows up here without a change; the post is loaded by that schema and saved by
`matters.service.put`, like PUT /api/matters/{code}.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from marshmallow import ValidationError, fields

from app.errors import Forbidden, Invalid
from app.matters import service as matters
from app.matters.models import KINDS, MODES
from app.matters.schemas import MatterSchema, MatterWriteSchema
from app.web.blueprint import bp
from app.web.support import attempt_or_flash, field_errors, principal

LABELS = {
    "name": "事项名称",
    "department": "实施部门",
    "kind": "办件类型",
    "mode": "审批方式",
    "statutory_days": "法定时限（工作日）",
    "promised_days": "承诺时限（工作日）",
    "process_key": "流程标识",
    "warning_days": "预警提前（工作日）",
    "materials": "申请材料",
    "conditions": "受理条件",
    "legal_basis": "设定依据",
    "fees": "收费标准",
    "place": "办理地点",
}
CHOICES = {"kind": KINDS, "mode": MODES}
CHOICE_LABELS = {
    "immediate": "即办件",
    "promised": "承诺件",
    "serial": "串联",
    "parallel": "并联",
    "commitment": "告知承诺",
}


def _designer():
    me = principal()
    if not me.has_role("designer"):
        raise Forbidden("只有流程设计人员或管理员可以维护事项目录 Only designers and admins edit the catalog.")
    return me


@bp.route("/matters")
def matters_list():
    """The catalog with limits and process, each linking to its edit page."""
    _designer()
    new = request.args.get("code", "").strip()
    if new:
        return redirect(url_for("web.matter_edit", code=new))
    rows, total = matters.list_matters(per_page=500)
    return render_template("web/matters.html", matters=rows, total=total, labels=CHOICE_LABELS)


@bp.route("/matters/<code>", methods=["GET", "POST"])
def matter_edit(code: str):
    """Edit (or create) a matter; errors beside their fields, the form as typed; its revisions below."""
    me = _designer()
    found = matters.get(code=code)
    values = MatterSchema().dump(found) if found else {"materials": []}
    errors: dict = {}
    status = 200
    if request.method == "POST":
        values = _read(request.form)
        done, err = attempt_or_flash(_save, code=code, values=values, actor=me.username)
        if err is None:
            flash(f"已保存事项 {code}：新受理的办件按新信息办理，在办件不受影响", "success")
            return redirect(url_for("web.matter_edit", code=code))
        errors, status = field_errors(err), err.status
    revisions = matters.list_revisions(code=code)[0] if found else []
    inputs = _inputs()
    page = render_template(
        "web/matter_edit.html",
        code=code,
        inputs=inputs,
        values=values,
        errors=errors,
        revisions=revisions,
        labels=LABELS,
    )
    return page, status


def _save(*, code: str, values: dict[str, Any], actor: str):
    try:
        loaded = MatterWriteSchema().load(values)
    except ValidationError as exc:
        raise Invalid("事项信息不符合要求 The matter is invalid.", errors=exc.messages) from exc
    return matters.put(code=code, values=loaded, actor=actor)


def _inputs() -> list[dict[str, Any]]:
    """One input per field of the PUT schema: selects for kind and mode, numbers, the materials' lines, text."""
    out = []
    for name, field in MatterWriteSchema().fields.items():
        item = {"name": name, "label": LABELS.get(name, name), "required": field.required}
        if name in CHOICES:
            item["widget"], item["options"] = "select", [(v, CHOICE_LABELS.get(v, v)) for v in CHOICES[name]]
        elif name == "materials":
            item["widget"] = "materials"
        elif isinstance(field, fields.Integer):
            item["widget"] = "number"
        elif name in ("name", "department", "process_key"):
            item["widget"] = "text"
        else:
            item["widget"] = "textarea"
        out.append(item)
    return out


def _read(form) -> dict[str, Any]:
    """The PUT body from a page post: numbers as numbers, blank optional numbers left out, materials by line."""
    values: dict[str, Any] = {}
    for item in _inputs():
        name, raw = item["name"], form.get(item["name"], "").strip()
        if item["widget"] == "materials":
            values[name] = [_material(line) for line in raw.splitlines() if line.strip()]
        elif item["widget"] == "number":
            if raw:
                values[name] = int(raw) if raw.lstrip("-").isdigit() else raw
        elif raw or item["required"]:
            values[name] = raw
    return values


def _material(line: str) -> dict[str, Any]:
    """`名称；选交；可容缺`: required unless marked 选交, deferrable when marked 可容缺."""
    parts = [p.strip() for p in line.replace(";", "；").split("；")]
    return {"name": parts[0], "required": "选交" not in parts[1:], "deferrable": "可容缺" in parts[1:]}
