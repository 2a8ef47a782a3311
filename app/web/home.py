"""The start page `/`: each person lands where their day starts."""

from __future__ import annotations

from flask import redirect, render_template, url_for

from app.identity.service import get_department
from app.processes import service as processes
from app.supervision import service as supervision
from app.web.blueprint import bp
from app.web.inbox import matter_names
from app.web.support import principal

WORKERS = ("window", "reviewer", "leader")


@bp.route("/")
def home():
    """Clerks, reviewers, leaders: the inbox; supervisors: figures; auditors: case search; designers: processes."""
    me = principal()
    if me.groups or me.has_role(*WORKERS):
        return redirect(url_for("web.inbox"))
    if me.has_role("supervisor"):
        figures = supervision.summary(principal=me)
        departments = {row["key"]: get_department(code=row["key"]) for row in figures["by_department"]}
        names = {code: dept.name for code, dept in departments.items() if dept is not None} | matter_names()
        return render_template("web/home_supervisor.html", figures=figures, names=names)
    if me.has_role("designer"):
        items, total = processes.list_processes(per_page=200)
        return render_template("web/home_designer.html", processes=items, total=total)
    return redirect(url_for("web.cases"))
