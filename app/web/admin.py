"""管理 `/admin` (admin): departments, groups (岗位组), people, absences and backups (AB岗), the
organisation log. Every form calls the organisation's own service functions."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from app.identity import org_log, organisation
from app.identity.models import ROLES
from app.identity.principal import require_role
from app.identity.service import get_user_or_raise
from app.tasks import backups
from app.tasks.models import CANCELLED
from app.web.blueprint import bp
from app.web.me import parse_local
from app.web.support import attempt_or_flash, principal

SECTIONS = ("people", "departments", "groups", "absences", "log")
ACTION_LABELS = {
    "department_created": "部门进驻",
    "department_saved": "部门变更",
    "group_created": "新建岗位组",
    "group_saved": "岗位组变更",
    "user_created": "新增人员",
    "user_saved": "人员变更",
    "absence_recorded": "请假登记",
    "absence_cancelled": "请假撤销",
    "absence_ended": "请假提前结束",
}


def _admin() -> str:
    """The admin's username (403 page for anyone else)."""
    return require_role("admin").username


def _page(section: str, status: int = 200, **extra):
    """The admin page at one section, with what it lists; `form` keeps what was typed after a refusal."""
    people, total = organisation.list_users(per_page=200)
    context = {
        "section": section,
        "sections": SECTIONS,
        "departments": organisation.list_departments(),
        "groups": organisation.list_groups(),
        "people": people,
        "people_total": total,
        "roles": ROLES,
        "absences": [backups.absence_view(a) for a in backups.list_absences(current_only=True)],
        "log": org_log.list_entries(per_page=50)[0] if section == "log" else [],
        "form": request.form,
        "action_labels": ACTION_LABELS,
    }
    return render_template("web/admin.html", **context | extra), status


@bp.route("/admin")
def admin():
    """The organisation at a glance, one section at a time (?section=people|departments|groups|absences|log)."""
    _admin()
    section = request.args.get("section", "people")
    return _page(section if section in SECTIONS else "people")


def _done(section: str, message: str, err, **anchor):
    if err is not None:
        return _page(section, err.status)
    flash(message, "success")
    return redirect(url_for("web.admin", section=section, **anchor))


@bp.route("/admin/departments", methods=["POST"])
def admin_department():
    """进驻: a department moves in."""
    f = request.form
    _, err = attempt_or_flash(
        organisation.create_department, actor=_admin(), code=f.get("code", "").strip(), name=f.get("name", "").strip()
    )
    return _done("departments", "部门已创建", err)


@bp.route("/admin/groups", methods=["POST"])
def admin_group():
    """A new post (岗位组) of a department."""
    f = request.form
    _, err = attempt_or_flash(
        organisation.create_group,
        actor=_admin(),
        code=f.get("code", "").strip(),
        name=f.get("name", "").strip(),
        department=f.get("department") or None,
    )
    return _done("groups", "岗位组已创建", err)


@bp.route("/admin/users", methods=["POST"])
def admin_user_create():
    """A new person with their department, groups, roles and default backup."""
    f = request.form
    _, err = attempt_or_flash(
        organisation.create_user,
        actor=_admin(),
        username=f.get("username", "").strip(),
        password=f.get("password", ""),
        **_person_fields(f),
    )
    return _done("people", "人员已创建", err)


def _person_fields(f) -> dict:
    return {
        "display_name": f.get("display_name", "").strip() or None,
        "department": f.get("department") or None,
        "groups": f.getlist("groups"),
        "roles": f.getlist("roles"),
        "backup": f.get("backup") or None,
    }


@bp.route("/admin/users/<username>", methods=["GET", "POST"])
def admin_user(username: str):
    """One person: groups, roles, backup, active; reset the password; deactivate."""
    actor = _admin()
    user = get_user_or_raise(username=username)
    if request.method == "POST":
        fields = _person_fields(request.form) | {"active": request.form.get("active") == "on"}
        _, err = attempt_or_flash(organisation.save_user, actor=actor, username=username, **fields)
        if err is None:
            flash("已保存", "success")
            return redirect(url_for("web.admin_user", username=username))
    view = organisation.user_view(user)
    people, _ = organisation.list_users(per_page=200)
    return render_template(
        "web/admin_user.html",
        person=view,
        groups=organisation.list_groups(),
        people=people,
        departments=organisation.list_departments(),
        roles=ROLES,
        absences=[backups.absence_view(a) for a in backups.list_absences(username=username)],
        log=org_log.list_entries(target=username, per_page=20)[0],
        action_labels=ACTION_LABELS,
    ), (200 if request.method == "GET" else 422)


@bp.route("/admin/users/<username>/password", methods=["POST"])
def admin_password(username: str):
    """重置密码: the admin sets a new password (the policy applies)."""
    _, err = attempt_or_flash(
        organisation.save_user, actor=_admin(), username=username, password=request.form.get("password", "")
    )
    if err is None:
        flash("密码已重置", "success")
    return redirect(url_for("web.admin_user", username=username))


@bp.route("/admin/users/<username>/deactivate", methods=["POST"])
def admin_deactivate(username: str):
    """停用: no more logins; their sessions and tokens stop at once."""
    _, err = attempt_or_flash(organisation.deactivate, actor=_admin(), username=username)
    if err is None:
        flash("已停用，该人员的登录已全部失效", "success")
    return redirect(url_for("web.admin_user", username=username))


@bp.route("/admin/users/<username>/absences/<int:absence_id>/end", methods=["POST"])
def admin_absence_end(username: str, absence_id: int):
    """撤销 (not begun) or 提前结束 (running) someone's absence."""
    _admin()
    absence, err = attempt_or_flash(
        backups.end_absence, principal=principal(), username=username, absence_id=absence_id
    )
    message = "请假已撤销" if err is None and absence.state == CANCELLED else "请假已提前结束"
    return _done("absences", message, err)


@bp.route("/admin/absences", methods=["POST"])
def admin_absence():
    """An absence recorded by the admin for anyone (the backup defaults to the person's own)."""
    f = request.form
    _admin()
    starts, ends = parse_local(f.get("from")), parse_local(f.get("to"))
    if starts is None or ends is None:
        flash("请填写开始和结束时间", "error")
        return _page("absences", 422)
    _, err = attempt_or_flash(
        backups.record_absence,
        principal=principal(),
        username=f.get("username", ""),
        starts_at=starts,
        ends_at=ends,
        reason=f.get("reason", "").strip() or "请假",
        backup=f.get("backup") or None,
    )
    return _done("absences", "请假已登记", err)
