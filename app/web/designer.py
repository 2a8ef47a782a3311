"""The designer's pages: `/designer` (processes, upload) and `/designer/<key>` (versions, the bpmn-js
modeler with its properties panel, save as draft with the report, dry run, publish, download, diff).

The modeler's page talks to JSON endpoints here (session and CSRF header, like every page request);
they call the same service functions as `/api/processes`.
"""

from __future__ import annotations

from flask import Response, abort, flash, jsonify, redirect, render_template, request, url_for

from app.engine.parser import DefinitionError
from app.errors import DomainError, Forbidden
from app.extensions import db
from app.identity.models import Group, User
from app.processes import service as processes
from app.processes import simulation
from app.processes.models import ProcessVersion
from app.tasks import forms
from app.web.blueprint import bp
from app.web.designer_diff import diff_versions
from app.web.support import attempt, attempt_or_flash, principal


def _designer():
    me = principal()
    if not me.has_role("designer"):
        raise Forbidden("只有流程设计人员可以使用流程设计 Only designers may use the designer.")
    return me


@bp.route("/designer")
def designer():
    """The process list with each key's versions (draft / published / retired), who uploaded them and when."""
    _designer()
    items, _ = processes.list_processes(per_page=200)
    versions = {p["key"]: processes.list_versions(key=p["key"], per_page=200)[0] for p in items}
    return render_template("web/designer_list.html", processes=items, versions=versions, users=_uploaders(versions))


@bp.route("/designer/upload", methods=["POST"])
def designer_upload():
    """Upload a BPMN file as a draft (the report is shown on the process's page)."""
    me = _designer()
    data = request.files["bpmn"].read() if "bpmn" in request.files else b""
    found, err = attempt(processes.create_draft, data=data, actor_id=me.user_id)
    if err is not None:
        flash(err.detail, "error")
        report = err.extra.get("report") or []
        return render_template("web/designer_list.html", processes=[], versions={}, users={}, report=report), 422
    version, _ = found
    flash(f"已保存草稿 v{version.version}", "success")
    return redirect(url_for("web.designer_process", key=version.key, version=version.version))


@bp.route("/designer/<key>")
def designer_process(key: str):
    """One process: versions, the modeler on the chosen version (the latest by default), report, publish."""
    _designer()
    versions, _ = processes.list_versions(key=key, per_page=200)
    if not versions:
        abort(404)
    chosen = request.args.get("version", type=int) or versions[0].version
    current = next((v for v in versions if v.version == chosen), versions[0])
    groups = [g.code for g in db.session.scalars(db.select(Group).order_by(Group.code))]
    return render_template(
        "web/designer_process.html",
        key=key,
        versions=versions,
        current=current,
        groups=groups,
        users=_uploaders({key: versions}),
        scenario=_default_scenario(current),
    )


@bp.route("/designer/<key>/versions/<int:version>.xml")
def designer_xml(key: str, version: int):
    """The exact stored file of a version (`?download=1` as an attachment)."""
    _designer()
    found = processes.get_or_raise(key=key, version=version)
    response = Response(found.xml, mimetype="application/xml")
    if request.args.get("download"):
        response.headers["Content-Disposition"] = f"attachment; filename={key}-v{version}.bpmn"
    return response


@bp.route("/designer/drafts", methods=["POST"])
def designer_save():
    """Save the modeler's XML as a draft: JSON {saved, key, version, report} or {saved: false, status, detail, report}.

    A refusal answers 200 with the API's status in the body: the page shows it, and the browser does not
    log a failed resource for what is an expected answer to a designer's mistake.
    """
    me = _designer()
    found, err = attempt(processes.create_draft, data=request.get_data(cache=False), actor_id=me.user_id)
    if err is not None:
        return jsonify(
            {"saved": False, "status": err.status, "detail": err.detail, "report": err.extra.get("report") or []}
        )
    version, report = found
    body = {"saved": True, "key": version.key, "version": version.version, "state": version.state}
    body["report"] = report.as_list()
    body["url"] = url_for("web.designer_process", key=version.key, version=version.version)
    return jsonify(body)


@bp.route("/designer/<key>/versions/<int:version>/simulate", methods=["POST"])
def designer_simulate(key: str, version: int):
    """A dry run from the page: JSON {ok: true, path, tasks, end} or {ok: false, status, detail, element, path}."""
    _designer()
    body = request.get_json(silent=True) or {}
    found, err = attempt(
        simulation.run_scenario, key=key, version=version, data=body.get("data") or {}, tasks=body.get("tasks") or {}
    )
    if err is not None:
        extra = {k: v for k, v in err.extra.items() if k in ("element", "path", "report")}
        return jsonify({"ok": False, "status": err.status, "detail": err.detail, "errors": err.errors, **extra})
    return jsonify({"ok": True, **found})


@bp.route("/designer/<key>/versions/<int:version>/publish", methods=["POST"])
def designer_publish(key: str, version: int):
    """Publish (or roll back to) a version after the page's confirmation."""
    me = _designer()
    done, err = attempt_or_flash(processes.publish, key=key, version=version, actor=me.username)
    if err is None:
        flash(f"已发布 v{done.version}：此后受理的新办件使用该版本，在办件仍按原版本办理", "success")
    return redirect(url_for("web.designer_process", key=key, version=version))


@bp.route("/designer/<key>/diff")
def designer_diff(key: str):
    """Two versions side by side: elements added, removed, changed (names, conditions, forms, properties)."""
    _designer()
    a = processes.get_or_raise(key=key, version=request.args.get("a", type=int) or 0)
    b = processes.get_or_raise(key=key, version=request.args.get("b", type=int) or 0)
    return render_template("web/designer_diff.html", key=key, a=a, b=b, diff=diff_versions(a.xml, b.xml))


def _uploaders(versions: dict[str, list[ProcessVersion]]) -> dict[int, str]:
    ids = {v.created_by for rows in versions.values() for v in rows if v.created_by}
    if not ids:
        return {}
    rows = db.session.scalars(db.select(User).where(User.id.in_(ids)))
    return {u.id: u.display_name or u.username for u in rows}


def _default_scenario(version: ProcessVersion) -> dict:
    """A scenario every human task of the version accepts (its form's defaults), for the dry-run box."""
    try:
        definition = processes.definition(version.id)
    except (DefinitionError, DomainError):
        return {"data": {}, "tasks": {}}
    tasks = {
        name: forms.default_submission(forms.fields_of(spec, spec.form))
        for name, spec in definition.human_tasks.items()
    }
    return {"data": {}, "tasks": tasks}
