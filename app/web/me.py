"""我的 `/me`: record one's own absence (AB岗) and read what the platform told me; the unread badge."""

from __future__ import annotations

from datetime import datetime

from flask import flash, g, redirect, render_template, request, url_for

from app.identity import organisation
from app.identity.service import get_user_or_raise
from app.notifications import service as notifications
from app.tasks import backups
from app.tasks.models import CANCELLED
from app.web.blueprint import bp
from app.web.support import attempt_or_flash, principal


@bp.app_context_processor
def unread_badge() -> dict:
    """`unread_count()` for the layout's badge (asked only where a page shows it)."""

    def unread_count() -> int:
        me = g.get("principal")
        return notifications.unread_count(user_id=me.user_id) if me is not None else 0

    return {"unread_count": unread_count}


@bp.route("/me")
def me():
    """My absences and backup, and my notifications, newest first."""
    return _page()


def _page(status: int = 200):
    me = principal()
    user = get_user_or_raise(username=me.username)
    items, total = notifications.list_for(user_id=me.user_id, per_page=50)
    colleagues, _ = organisation.list_users(department=me.department, per_page=200) if me.department else ([], 0)
    return render_template(
        "web/me.html",
        person=organisation.user_view(user),
        absences=[backups.absence_view(a) for a in backups.list_absences(username=me.username)],
        colleagues=[c for c in colleagues if c.username != me.username and c.active],
        notes=items,
        total=total,
        form=request.form,
    ), status


def parse_local(value: str | None) -> datetime | None:
    """A datetime-local field (read as Beijing time), or None when it is not one."""
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


@bp.route("/me/absences", methods=["POST"])
def my_absence():
    """请假登记: from, to, reason, backup (my default backup unless chosen)."""
    f = request.form
    starts, ends = parse_local(f.get("from")), parse_local(f.get("to"))
    if starts is None or ends is None:
        flash("请填写开始和结束时间", "error")
        return _page(422)
    _, err = attempt_or_flash(
        backups.record_absence,
        principal=principal(),
        username=principal().username,
        starts_at=starts,
        ends_at=ends,
        reason=f.get("reason", "").strip() or "请假",
        backup=f.get("backup") or None,
    )
    if err is not None:
        return _page(err.status)
    flash("已登记，B 岗将代为办理", "success")
    return redirect(url_for("web.me"))


@bp.route("/me/absences/<int:absence_id>/end", methods=["POST"])
def my_absence_end(absence_id: int):
    """撤销 (not begun) or 提前结束 (running) one of my absences."""
    absence, err = attempt_or_flash(
        backups.end_absence, principal=principal(), username=principal().username, absence_id=absence_id
    )
    if err is not None:
        return _page(err.status)
    flash("请假已撤销" if absence.state == CANCELLED else "请假已提前结束，您已在岗", "success")
    return redirect(url_for("web.me"))


@bp.route("/me/notifications/<int:notification_id>/read", methods=["POST"])
def read_notification(notification_id: int):
    """标为已读."""
    _, err = attempt_or_flash(notifications.mark_read, notification_id=notification_id, user_id=principal().user_id)
    return redirect(url_for("web.me"))
