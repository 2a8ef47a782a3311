"""办件 `/cases` (search) and `/cases/<id>`: status, deadlines, timeline, diagram, the actions a role allows."""

from __future__ import annotations

import json

from flask import Response, flash, redirect, render_template, request, url_for
from marshmallow import Schema, ValidationError

from app.audit import history
from app.audit import service as audit
from app.cases import lifecycle
from app.cases import service as cases
from app.cases.models import Case
from app.cases.schemas import STATUSES, WARNINGS, ReasonSchema, ResumeSchema, SuspendSchema
from app.documents import service as documents
from app.errors import Invalid
from app.extensions import db
from app.matters import service as matters
from app.processes.models import ProcessVersion
from app.supervision import service as supervision
from app.supervision.api import EvaluationSchema
from app.web.blueprint import bp
from app.web.support import attempt_or_flash, field_errors, principal

PER_PAGE = 20
SEARCH = ("number", "applicant_name", "matter_code", "status", "warning")
STAFF = lifecycle.STAFF
# action -> (service, the API's schema of its body, roles allowed, case statuses it applies to, required fields)
ACTIONS: dict[str, tuple] = {
    "suspend": (lifecycle.suspend, SuspendSchema, STAFF, ("in_progress",), ("kind", "reason")),
    "resume": (lifecycle.resume, ResumeSchema, STAFF, ("suspended",), ()),
    "extend": (lifecycle.extend, ReasonSchema, ("leader",), ("in_progress", "suspended"), ("reason",)),
    "withdraw": (lifecycle.withdraw, ReasonSchema, STAFF, ("in_progress", "suspended"), ("reason",)),
    "evaluation": (supervision.evaluate, EvaluationSchema, ("window",), ("completed",), ("level",)),
}


def diagram_context(case: Case) -> dict:
    """What the diagram needs: where its XML is, the steps taken and the current ones (BPMN element ids)."""
    events = audit.chain_events(case_id=case.id)
    done = [(e.payload or {}).get("name") for e in events if e.type == "task_completed"]
    if case.end_event:
        done.append(case.end_event)
    current = [t.name for t in cases.open_tasks([case.id])[case.id]]
    return {
        "diagram_url": url_for("web.diagram", case_id=case.id),
        "diagram_done": json.dumps(sorted({d for d in done if d}), ensure_ascii=False),
        "diagram_current": json.dumps(current, ensure_ascii=False),
    }


@bp.route("/cases", endpoint="cases")
def cases_list():
    """Search the cases one may see: by number, applicant, matter, status, warning; the desk also by the
    applicant's id number (an applicant asking at the window with their card)."""
    me = principal()
    keys = (*SEARCH, "applicant_id_number") if me.has_role(*cases.SEE_ID_NUMBER) else SEARCH
    raw = {k: request.args.get(k, "").strip() for k in keys}
    filters = {k: v for k, v in raw.items() if v}
    if filters.get("status") not in (None, *STATUSES) or filters.get("warning") not in (None, *WARNINGS):
        flash("筛选条件有误", "error")
        filters = {}
    page = max(1, int(request.args["page"])) if request.args.get("page", "").isdigit() else 1
    rows, total = cases.list_cases(principal=me, page=page, per_page=PER_PAGE, **filters)
    catalog, _ = matters.list_matters(per_page=200)
    return render_template(
        "web/cases.html",
        rows=rows,
        total=total,
        raw=raw,
        page=page,
        pages=max(1, -(-total // PER_PAGE)),
        names={m.code: m.name for m in catalog},
    )


def _render(case_id: int, *, action: str | None = None, values=None, errors=None, status: int = 200):
    me = principal()
    case = cases.get_visible(case_id=case_id, principal=me)
    entries = history.timeline(case=case)
    matter = matters.get(code=case.matter_code)
    allowed = [name for name, (_, _, roles, when, _) in ACTIONS.items() if me.has_role(*roles) and case.status in when]
    page = render_template(
        "web/case.html",
        case=cases.view(case, me, cases.open_tasks([case.id])[case.id]),
        row=case,
        matter_name=matter.name if matter else case.matter_code,
        entries=entries,
        actions=allowed,
        failed=action,
        values=values or {},
        errors=errors or {},
        evaluations=supervision.EVALUATIONS,
        papers=documents.list_for_case(case_id=case.id),
        matter=matter,
        **diagram_context(case),
    )
    return page, status


@bp.route("/cases/<int:case_id>")
def case(case_id: int):
    """One case (the API's visibility rule: front desk, supervisors and auditors all; others their department)."""
    return _render(case_id)


def _load(schema: type[Schema], required: tuple[str, ...]) -> dict:
    """The action's body from the form, checked by the API's own schema; Chinese messages for blanks."""
    form = {k: v.strip() for k, v in request.form.items() if k != "csrf_token"}
    blank = {name: ["请填写此项"] for name in required if not form.get(name)}
    if blank:
        raise Invalid("请填写标出的项目", errors=blank)
    try:
        return schema().load({k: v for k, v in form.items() if v})
    except ValidationError as exc:
        raise Invalid("提交的数据不符合要求", errors=exc.messages) from exc


@bp.route("/cases/<int:case_id>/<any(suspend, resume, extend, withdraw, evaluation):action>", methods=["POST"])
def case_action(case_id: int, action: str):
    """挂起 / 恢复 / 延期 / 撤回 / 好差评: the same services as the API, each with its reason."""
    call, schema, _, _, required = ACTIONS[action]
    try:
        body = _load(schema, required)
    except Invalid as err:
        flash(err.detail, "error")
        return _render(case_id, action=action, values=request.form, errors=field_errors(err), status=422)
    _, err = attempt_or_flash(call, case_id=case_id, principal=principal(), **body)
    if err is not None:
        return _render(case_id, action=action, values=request.form, errors=field_errors(err), status=err.status)
    flash(ACTION_DONE[action], "success")
    return redirect(url_for("web.case", case_id=case_id))


ACTION_DONE = {
    "suspend": "已挂起，办理时限暂停计算",
    "resume": "已恢复计时",
    "extend": "已延长法定办理时限",
    "withdraw": "已撤回申请",
    "evaluation": "已录入评价",
}


@bp.route("/cases/<int:case_id>/diagram.xml")
def diagram(case_id: int):
    """The BPMN of the process version the case is pinned to (for the viewer; the same visibility as the case)."""
    found = cases.get_visible(case_id=case_id, principal=principal())
    version = db.session.get(ProcessVersion, found.process_version_id)
    return Response(version.xml, mimetype="application/xml", headers={"Cache-Control": "private, max-age=3600"})
