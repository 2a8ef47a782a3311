"""One task `/tasks/<id>`: the case, its materials, earlier opinions, the form, delegate, complete, the diagram."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from app.audit import history
from app.cases import runtime
from app.cases import service as cases
from app.cases.models import Case
from app.extensions import db
from app.identity.service import group_members
from app.matters import service as matters
from app.tasks import form_lookup
from app.tasks import service as tasks
from app.web.blueprint import bp
from app.web.cases import diagram_context
from app.web.forms import submission, widgets
from app.web.support import attempt_or_flash, field_errors, principal


def _render(task, *, values: dict | None = None, errors: dict | None = None, status: int = 200):
    me = principal()
    case = cases.get_visible(case_id=task.case_id, principal=me)
    entries = history.timeline(case=case)
    matter = matters.get(code=case.matter_code)
    page = render_template(
        "web/task.html",
        task=task,
        case=cases.view(case, me, cases.open_tasks([case.id])[case.id]),
        matter_name=matter.name if matter else case.matter_code,
        opinions=[e for e in entries if e["type"] == "task_completed"],
        inputs=widgets(form_lookup.fields_for(task, case)),
        values=values or {},
        errors=errors or {},
        colleagues=[u for u in group_members(group=task.group or "") if u.username != me.username],
        **diagram_context(case),
    )
    return page, status


@bp.route("/tasks/<int:task_id>")
def task(task_id: int):
    """The task page (its group, its holder, supervisors and auditors: the API's rule)."""
    return _render(tasks.get_visible(task_id=task_id, principal=principal()))


@bp.route("/tasks/<int:task_id>/complete", methods=["POST"])
def complete(task_id: int):
    """办结 the step with the same service as POST /api/tasks/{id}/complete; errors beside their fields."""
    found = tasks.get_visible(task_id=task_id, principal=principal())
    case = db.session.get(Case, found.case_id)
    data = submission(form_lookup.fields_for(found, case), request.form)
    done, err = attempt_or_flash(runtime.complete, task_id=task_id, principal=principal(), data=data)
    if err is not None:
        values = {k: request.form.getlist(k) if k == "materials" else request.form.get(k, "") for k in request.form}
        return _render(tasks.get_or_raise(task_id=task_id), values=values, errors=field_errors(err), status=err.status)
    flash(f"已办结：{done[0].title}（{done[0].case_number}）", "success")
    return redirect(url_for("web.inbox", scope="mine"))


@bp.route("/tasks/<int:task_id>/delegate", methods=["POST"])
def delegate(task_id: int):
    """转交 the task to a colleague of its group, with a reason."""
    to, reason = request.form.get("to", "").strip(), request.form.get("reason", "").strip()
    if not reason:
        flash("请填写转交理由", "error")
        found = tasks.get_visible(task_id=task_id, principal=principal())
        return _render(found, values={"to": to}, errors={"reason": ["请填写转交理由"]}, status=422)
    moved, err = attempt_or_flash(tasks.delegate, task_id=task_id, principal=principal(), to=to, reason=reason)
    if err is not None:
        found = tasks.get_or_raise(task_id=task_id)
        return _render(found, values={"to": to, "reason": reason}, errors=field_errors(err), status=err.status)
    flash(f"已转交给 {moved.assignee}", "success")
    return redirect(url_for("web.inbox", scope="mine"))
