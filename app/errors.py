"""The error hierarchy and the one place that turns errors into problem+json responses.

Services raise DomainError subclasses; they never know about HTTP. The attributes are data
(status, title, errors) so the handler below is the only mapping to the wire.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, json
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    status = 400
    title = "请求有误 Bad Request"

    def __init__(self, detail: str, *, errors: dict | None = None, **extra) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.extra = extra


class Unauthorized(DomainError):
    status = 401
    title = "未登录或令牌无效 Unauthorized"


class Forbidden(DomainError):
    status = 403
    title = "无权操作 Forbidden"


class NotFound(DomainError):
    status = 404
    title = "未找到 Not Found"


class Conflict(DomainError):
    status = 409
    title = "状态冲突 Conflict"


class CaseIncident(Conflict):
    """The process itself could not go on (a design fault or a budget met at run time); nothing was
    changed. `element` names where; `case_id`, when the case exists, lets the incident be recorded."""


class TooLarge(DomainError):
    status = 413
    title = "内容过大 Payload Too Large"


class TooManyRequests(DomainError):
    """Refused for now (e.g. an account locked after wrong passwords); `retry_after` seconds to wait."""

    status = 429
    title = "尝试次数过多 Too Many Requests"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.retry_after = retry_after


class Invalid(DomainError):
    status = 422
    title = "数据校验未通过 Unprocessable Entity"


class Unavailable(DomainError):
    status = 503
    title = "服务不可用 Service Unavailable"


def problem(status: int, title: str, detail: str, **fields) -> Response:
    """Build an application/problem+json response."""
    body = {"type": "about:blank", "status": status, "title": title, "detail": detail}
    # `errors` only when there are some; every other field as given (a null is an answer too).
    body.update({k: v for k, v in fields.items() if k != "errors" or v is not None})
    return Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)


def domain_error_response(err: DomainError) -> Response:
    """The problem+json for a DomainError (a 429 carries Retry-After)."""
    response = problem(err.status, err.title, err.detail, errors=err.errors, **err.extra)
    if isinstance(err, TooManyRequests):
        response.headers["Retry-After"] = str(err.retry_after)
    return response


def http_error_response(err: HTTPException) -> Response:
    """The problem+json for a werkzeug HTTPException, keeping its code and headers."""
    data = getattr(err, "data", None) or {}
    errors = data.get("messages")
    if isinstance(errors, dict) and len(errors) == 1:
        # webargs nests messages by location ("json", "query"...); one location is the common case.
        errors = next(iter(errors.values()))
    detail = err.description or err.name
    if errors is not None and err.code == 422:
        detail = "请求数据不符合要求 The request data is invalid."
    if err.code == 413:
        detail = "请求体超过允许的大小 The request body is too large."
    response = err.get_response()
    out = problem(err.code or 500, f"{err.name}", detail, errors=errors)
    for key, value in response.headers.items():
        if key.lower() not in {"content-type", "content-length"}:
            out.headers[key] = value
    return out


def register_error_handlers(app: Flask) -> None:
    """Install the handlers: domain errors, HTTP errors, races lost, and the last-resort 500."""

    @app.errorhandler(DomainError)
    def _domain(err: DomainError):
        return domain_error_response(err)

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        return http_error_response(err)

    @app.errorhandler(StaleDataError)
    def _stale(err: StaleDataError):
        return problem(409, Conflict.title, "该办件已被他人同时修改，请刷新后重试 The case changed concurrently.")

    @app.errorhandler(IntegrityError)
    def _integrity(err: IntegrityError):
        log.info("integrity error: %s", err.orig)
        return problem(409, Conflict.title, "数据冲突，请刷新后重试 The change conflicts with existing data.")

    @app.errorhandler(OperationalError)
    def _operational(err: OperationalError):
        log.warning("database operational error: %s", err.orig)
        if "could not obtain lock" in str(err.orig) or "database is locked" in str(err.orig):
            return problem(409, Conflict.title, "该办件正被他人处理，请稍后重试 The case is busy.")
        return problem(503, Unavailable.title, "数据库暂不可用 The database is unavailable.")

    @app.errorhandler(DBAPIError)
    def _disconnected(err: DBAPIError):
        # A connection lost mid-request (the driver may call it anything but OperationalError).
        if not err.connection_invalidated:
            return _unexpected(err)
        log.warning("database connection lost: %s", err.orig)
        return problem(503, Unavailable.title, "数据库连接中断，请重试 The database connection was lost.")

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        log.exception("unhandled error")
        return problem(500, "服务器内部错误 Internal Server Error", "An unexpected error occurred.")
