"""What every page module shares: the principal, one service call in a savepoint, labels and formats."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import current_app, flash, g

from app import clock
from app.cases import incidents
from app.errors import CaseIncident, DomainError
from app.extensions import db
from app.identity.principal import Principal

T = TypeVar("T")

WARNING_LABELS = {"ok": "正常", "warning": "即将到期", "overdue": "已超期", "breach": "超法定时限"}
STATUS_LABELS = {
    "awaiting_correction": "待补正",
    "in_progress": "办理中",
    "suspended": "已挂起",
    "completed": "已办结",
    "withdrawn": "已撤回",
}
RESULT_LABELS = {
    "approved": "准予许可",
    "rejected": "不予许可",
    "revoked": "已撤销",
    "not_accepted": "不予受理",
}
ROLE_LABELS = {
    "window": "综合窗口",
    "reviewer": "审查",
    "leader": "领导",
    "designer": "流程设计",
    "supervisor": "电子监察",
    "auditor": "审计",
    "admin": "管理员",
}


def principal() -> Principal:
    """The person logged in to this page request (set by app.web.auth before every page)."""
    return g.principal


def attempt(call: Callable[..., T], /, **kwargs: Any) -> tuple[T | None, DomainError | None]:
    """Run one service call in a savepoint: (result, None), or (None, error) with its changes undone.

    The request's one transaction (app/__init__.py) still commits or rolls back at its end; a page that
    shows a refused action as a message must not commit what the service had flushed before refusing.
    """
    try:
        with db.session.begin_nested():
            return call(**kwargs), None
    except DomainError as err:
        if isinstance(err, CaseIncident):  # the step was undone; its incident is recorded on the case
            incidents.record_error(err, actor=principal().username)
        return None, err


def attempt_or_flash(call: Callable[..., T], /, **kwargs: Any) -> tuple[T | None, DomainError | None]:
    """`attempt`, and a refusal flashed with the API's own Chinese detail."""
    result, err = attempt(call, **kwargs)
    if err is not None:
        flash(err.detail, "error")
    return result, err


def field_errors(err: DomainError | None) -> dict[str, list[str]]:
    """An error's messages per field (what the API's problem+json carries in `errors`)."""
    if err is None or not isinstance(err.errors, dict):
        return {}
    return {name: messages if isinstance(messages, list) else [str(messages)] for name, messages in err.errors.items()}


def local(at: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A time as people read it in the center (Asia/Shanghai); a dash when there is none."""
    return at.astimezone(clock.SHANGHAI).strftime(fmt) if at else "—"


def local_date(at: datetime | None) -> str:
    """A date as printed on notices: 2026年12月01日."""
    return local(at, "%Y年%m月%d日")


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this site only (never another host)."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def template_helpers() -> dict[str, Any]:
    """Names every page template can use."""
    return {
        "local": local,
        "local_date": local_date,
        "warning_labels": WARNING_LABELS,
        "status_labels": STATUS_LABELS,
        "result_labels": RESULT_LABELS,
        "role_labels": ROLE_LABELS,
        "state_labels": {"draft": "草稿", "published": "已发布", "retired": "已停用"},
        "absence_labels": {"scheduled": "未开始", "active": "进行中", "ended": "已结束", "cancelled": "已撤销"},
        "me": g.get("principal"),
        "center_name": current_app.config.get("CENTER_NAME", "政务服务中心"),
    }
