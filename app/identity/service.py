"""Users, departments, groups and bearer tokens."""

from __future__ import annotations

import hashlib
import secrets
import time
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, select
from werkzeug.security import check_password_hash, generate_password_hash

from app import clock
from app.errors import NotFound, Unauthorized
from app.extensions import db
from app.identity.models import ApiToken, Department, Group, User, user_group
from app.identity.principal import Principal

# token hash -> (principal, token expiry, cache expiry in monotonic seconds)
_principal_cache: dict[bytes, tuple[Principal, datetime, float]] = {}
_DUMMY_HASH = generate_password_hash("timing-equaliser", method="pbkdf2:sha256:1000")


def get_user(*, username: str) -> User | None:
    """The user with this username, or None."""
    return db.session.scalar(select(User).where(User.username == username))


def get_user_or_raise(*, username: str) -> User:
    """The user with this username (NotFound otherwise)."""
    user = get_user(username=username)
    if user is None:
        raise NotFound(f"用户 {username} 不存在 No such user.")
    return user


def get_department(*, code: str) -> Department | None:
    """The department with this code, or None."""
    return db.session.scalar(select(Department).where(Department.code == code))


def get_group(*, code: str) -> Group | None:
    """The group with this code, or None."""
    return db.session.scalar(select(Group).where(Group.code == code))


def department_codes() -> set[str]:
    """Every department code that exists."""
    return set(db.session.scalars(select(Department.code)))


def group_codes() -> set[str]:
    """Every group code that exists."""
    return set(db.session.scalars(select(Group.code)))


def authenticate(*, username: str, password: str) -> User:
    """The active user with this username and password (401 on any mismatch, same work either way)."""
    user = get_user(username=username)
    if user is None or not user.active:
        check_password_hash(_DUMMY_HASH, password)  # same work either way: no username probing by timing
        raise Unauthorized("用户名或密码错误 Wrong username or password.")
    if not check_password_hash(user.password_hash, password):
        raise Unauthorized("用户名或密码错误 Wrong username or password.")
    return user


def issue_token(*, user: User) -> tuple[str, datetime]:
    """Hand out a new bearer token for an authenticated user, with its expiry."""
    token = secrets.token_urlsafe(32)
    now = clock.now()
    expires_at = now + timedelta(hours=current_app.config["TOKEN_TTL_HOURS"])
    db.session.add(ApiToken(token_hash=_hash(token), user_id=user.id, created_at=now, expires_at=expires_at))
    db.session.flush()
    return token, expires_at


def session_principal(*, user_id: int) -> Principal | None:
    """The principal of a page session's user (None when the user is gone or deactivated).

    Read on every page request, like a token's principal, so a deactivated user is out at once.
    """
    user = db.session.get(User, user_id)
    return to_principal(user) if user is not None and user.active else None


def resolve_token(token: str) -> Principal:
    """The principal a bearer token stands for (401 when unknown or expired).

    Resolved principals are cached per process for TOKEN_CACHE_SECONDS: every request needs one,
    and a user's groups change rarely. A token still expires on time.
    """
    key = _hash(token)
    now = clock.now()
    cached = _principal_cache.get(key)
    if cached is not None and cached[2] > time.monotonic() and cached[1] > now:
        return cached[0]
    row = db.session.execute(
        select(ApiToken.expires_at, User).join(User, User.id == ApiToken.user_id).where(ApiToken.token_hash == key)
    ).first()
    if row is None or row.expires_at <= now or not row.User.active:
        _principal_cache.pop(key, None)
        raise Unauthorized("访问令牌无效或已过期 The token is invalid or expired.")
    principal = to_principal(row.User)
    ttl = current_app.config["TOKEN_CACHE_SECONDS"]
    if ttl > 0:
        if len(_principal_cache) > 10_000:
            _principal_cache.clear()
        _principal_cache[key] = (principal, row.expires_at, time.monotonic() + ttl)
    return principal


def to_principal(user: User) -> Principal:
    """The immutable view of a user that requests carry."""
    return Principal(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        department=user.department.code if user.department else None,
        groups=frozenset(g.code for g in user.groups),
        roles=frozenset(user.roles.split()),
    )


def describe(principal: Principal) -> dict:
    """The /api/me view of a principal."""
    return {
        "username": principal.username,
        "display_name": principal.display_name,
        "department": principal.department,
        "groups": sorted(principal.groups),
        "roles": sorted(principal.roles),
    }


def _hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def group_members(*, group: str) -> list[User]:
    """The active members of a group, by display name (whom a task can be handed to)."""
    return list(
        db.session.scalars(
            select(User)
            .join(user_group, user_group.c.user_id == User.id)
            .join(Group, Group.id == user_group.c.group_id)
            .where(Group.code == group, User.active.is_(True))
            .order_by(User.display_name)
        )
    )


def revoke_token(token: str) -> None:
    """Log out: the token stops working at once (its row is deleted, its cache entry dropped)."""
    key = _hash(token)
    _principal_cache.pop(key, None)
    db.session.execute(delete(ApiToken).where(ApiToken.token_hash == key))


def revoke_tokens(*, user_id: int) -> None:
    """Every token of a user stops working at once (deactivation): rows deleted, cache entries dropped.

    Another app process may still hold a cached principal for at most TOKEN_CACHE_SECONDS."""
    for key in [k for k, v in _principal_cache.items() if v[0].user_id == user_id]:
        _principal_cache.pop(key, None)
    db.session.execute(delete(ApiToken).where(ApiToken.user_id == user_id))
