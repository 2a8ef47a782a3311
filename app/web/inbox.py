"""待办 `/inbox`: claimable and mine, filtered and sorted as GET /api/tasks; claim and unclaim in place (htmx)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from marshmallow import ValidationError

from app.matters import service as matters
from app.tasks import service as tasks
from app.tasks.schemas import TaskScopeArgs
from app.web.blueprint import bp
from app.web.support import attempt, principal

PER_PAGE = 20
FILTERS = ("scope", "matter_code", "warning", "q", "sort", "page")


def _args() -> dict:
    """The inbox's query, checked by the API's own schema (a bad value falls back to the defaults)."""
    raw = {k: v.strip() for k, v in request.args.items() if k in FILTERS and v.strip()}
    raw.setdefault("scope", "claimable")
    try:
        return TaskScopeArgs().load({**raw, "per_page": PER_PAGE})
    except ValidationError:
        flash("筛选条件有误，已显示全部待办", "error")
        return TaskScopeArgs().load({"scope": raw["scope"] if raw["scope"] in ("mine", "claimable") else "claimable"})


def matter_names() -> dict[str, str]:
    """Matter code -> name, for lists."""
    catalog, _ = matters.list_matters(per_page=200)
    return {m.code: m.name for m in catalog}


@bp.route("/inbox")
def inbox():
    """可认领 / 我的: a page of tasks with due time and warning colour, filters, search and paging."""
    args = _args()
    rows, total = tasks.list_tasks(principal=principal(), **args)
    pages = max(1, -(-total // PER_PAGE))
    query = {k: v for k, v in args.items() if k in FILTERS and k != "page"}
    return render_template(
        "web/inbox.html", rows=rows, total=total, args=args, pages=pages, query=query, names=matter_names()
    )


def _row_answer(task_id: int, message: str | None, kind: str):
    """htmx: the task's row again, with the outcome in it; a plain form post: back to the inbox."""
    if request.headers.get("HX-Request"):
        task = tasks.get_or_raise(task_id=task_id)
        return render_template("web/_task_row.html", task=task, names=matter_names(), message=message, kind=kind)
    if message:
        flash(message, kind)
    return redirect(request.referrer if (request.referrer or "").startswith(request.host_url) else url_for("web.inbox"))


@bp.route("/tasks/<int:task_id>/claim", methods=["POST"])
def claim(task_id: int):
    """认领: the same conditional claim as the API; a lost race says so (已被他人认领)."""
    _, err = attempt(tasks.claim, task_id=task_id, principal=principal())
    return _row_answer(task_id, err.detail if err else "已认领，可开始办理", "error" if err else "success")


@bp.route("/tasks/<int:task_id>/unclaim", methods=["POST"])
def unclaim(task_id: int):
    """退回: give the task back to its group."""
    _, err = attempt(tasks.unclaim, task_id=task_id, principal=principal())
    return _row_answer(task_id, err.detail if err else "已退回岗位组", "error" if err else "success")
