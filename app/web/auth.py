"""Log in and out of the pages; every other page needs a session (a signed, HttpOnly, SameSite=Lax cookie)."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError

from app.errors import DomainError
from app.identity import login as logins
from app.identity import service as identity
from app.web.blueprint import bp
from app.web.support import safe_next, template_helpers

PUBLIC = frozenset({"web.login", "web.static", "web.vendor"})


@bp.before_request
def load_principal():
    """The session's user as a principal (the same one the API builds from a token), or off to /login."""
    if request.endpoint in PUBLIC:
        return None
    user_id = session.get("user_id")
    found = identity.session_principal(user_id=user_id) if isinstance(user_id, int) else None
    if found is None:
        session.clear()
        return redirect(url_for("web.login", next=request.full_path.rstrip("?")))
    g.principal = found
    return None


@bp.context_processor
def helpers() -> dict:
    """Labels, formats and the person logged in, for every page template."""
    return template_helpers()


@bp.route("/login", methods=["GET", "POST"])
def login():
    """登录: username and password; then back to where the person was going."""
    target = safe_next(request.values.get("next"))
    if request.method == "GET":
        return render_template("web/login.html", username="", next=target)
    username = request.form.get("username", "").strip()
    # The same lockout as the API; a refusal is shown, and its record committed with the request.
    result = logins.attempt(username=username, password=request.form.get("password", ""))
    if result.error is not None:
        flash(result.error.detail, "error")
        return render_template("web/login.html", username=username, next=target), result.error.status
    session.clear()  # a fresh session (and CSRF token) for the person who just logged in
    session["user_id"] = result.user.id
    session.permanent = True
    return redirect(target)


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    """退出: a POST ends the session (a GET asks first, so a link elsewhere cannot log anyone out)."""
    if request.method == "GET":
        return render_template("web/logout.html")
    session.clear()
    return redirect(url_for("web.login"))


def csrf_refused(err: CSRFError):
    """A state-changing request without a valid CSRF token: refused (400), nothing changed."""
    if request.path.startswith("/api/"):
        from app.errors import http_error_response

        return http_error_response(err)
    message = "页面已过期或请求来源不明，请刷新页面后重试。"
    return render_template("web/error.html", title="请求已过期", message=message), 400


TITLES = {401: "请先登录", 403: "无权访问", 404: "未找到", 409: "状态已变化"}


@bp.errorhandler(DomainError)
def refused(err: DomainError):
    """A page the person may not see, or that does not exist: the API's Chinese detail, on a page."""
    title = TITLES.get(err.status, "无法完成")
    return render_template("web/error.html", title=title, message=err.detail), err.status
