"""Login safety: every login, failure and lockout recorded; 5 wrong passwords in 15 minutes lock the
name for 15 minutes (unknown names alike, so that names cannot be probed).

A refused login still writes its record: the refusal is returned, not raised, so the request's one
transaction commits what was counted (the caller turns the refusal into its answer).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from app import clock
from app.errors import DomainError, TooManyRequests, Unauthorized
from app.extensions import db
from app.identity.models import LOGIN_FAILED, LOGIN_LOCKED, LOGIN_SUCCEEDED, LoginEvent, User
from app.identity.service import authenticate, issue_token

log = logging.getLogger("onewindow.auth")

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
LOCK = timedelta(minutes=15)


@dataclass
class LoginResult:
    """A login's outcome: the user, or the refusal to answer with (401 or 429)."""

    user: User | None = None
    error: DomainError | None = None


def attempt(*, username: str, password: str) -> LoginResult:
    """Check a login against the lockout and the password, recording the outcome."""
    now = clock.now()
    recent = db.session.execute(
        select(LoginEvent.outcome, LoginEvent.at)
        .where(LoginEvent.username == username, LoginEvent.at > now - max(WINDOW, LOCK))
        .order_by(LoginEvent.at.desc(), LoginEvent.id.desc())
    ).all()
    locked_until = _locked_until(recent, now)
    if locked_until is not None:
        log.warning("login refused (locked) for %r until %s", username, locked_until.isoformat())
        return LoginResult(error=_locked(locked_until, now))
    try:
        user = authenticate(username=username, password=password)
    except Unauthorized as err:
        return _failed(username, recent, now, err)
    _write(username, LOGIN_SUCCEEDED, now)
    log.info("login %r", username)
    return LoginResult(user=user)


def token_for(*, username: str, password: str) -> tuple[tuple[str, datetime] | None, DomainError | None]:
    """A login through the API: ((token, expires_at), None), or (None, the refusal)."""
    result = attempt(username=username, password=password)
    if result.error is not None:
        return None, result.error
    return issue_token(user=result.user), None


def _failed(username: str, recent: list, now: datetime, err: DomainError) -> LoginResult:
    """Count a wrong password; the fifth within the window locks the name."""
    _write(username, LOGIN_FAILED, now)
    failures = 1
    for outcome, at in recent:
        if outcome != LOGIN_FAILED or at <= now - WINDOW:
            break  # a success or a lockout starts the count afresh
        failures += 1
    if failures < MAX_FAILURES:
        log.info("login failed for %r (%d of %d)", username, failures, MAX_FAILURES)
        return LoginResult(error=err)
    _write(username, LOGIN_LOCKED, now)
    log.warning("login locked for %r after %d wrong passwords", username, failures)
    return LoginResult(error=_locked(now + LOCK, now))


def _locked_until(recent: list, now: datetime) -> datetime | None:
    for outcome, at in recent:
        if outcome == LOGIN_LOCKED and at + LOCK > now:
            return at + LOCK
    return None


def _locked(until: datetime, now: datetime) -> TooManyRequests:
    seconds = max(1, math.ceil((until - now).total_seconds()))
    minutes = math.ceil(seconds / 60)
    return TooManyRequests(
        f"密码错误次数过多，账号已锁定，请 {minutes} 分钟后再试 Too many wrong passwords; try again later.",
        retry_after=seconds,
    )


def _write(username: str, outcome: str, at: datetime) -> None:
    db.session.add(LoginEvent(username=username[:60], outcome=outcome, at=at))
    db.session.flush()
