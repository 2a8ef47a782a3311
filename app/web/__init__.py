"""Pages for people (server-rendered, Chinese): sessions, CSRF, the Content-Security-Policy, one blueprint.

The JSON API under /api keeps its bearer tokens and is exempt from CSRF (no cookie authenticates it);
every other state-changing request must carry the session's CSRF token (Flask-WTF's CSRFProtect).
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Blueprint, Flask, Response, request
from flask_wtf.csrf import CSRFError, CSRFProtect

from app.web.blueprint import bp

csrf = CSRFProtect()

# Only the platform's own scripts, styles, images and fonts; no inline script, no framing, forms post home.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def register(app: Flask, api_blueprints: Iterable[Blueprint]) -> None:
    """Register the pages, CSRF protection (the bearer-token API exempt) and the security headers."""
    from app.web import (  # noqa: F401 (their routes)
        admin,
        assets,
        audit,
        auth,
        cases,
        designer,
        documents,
        home,
        inbox,
        matters,
        me,
        supervision,
        tasks,
        window,
    )

    csrf.init_app(app)
    for blueprint in api_blueprints:
        csrf.exempt(blueprint)
    app.register_blueprint(bp)
    app.after_request(_security_headers)
    app.register_error_handler(CSRFError, auth.csrf_refused)


def _security_headers(response: Response) -> Response:
    """Pages get the CSP and friends; the API's answers are left exactly as they were."""
    if request.path.startswith("/api/"):
        return response
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response
