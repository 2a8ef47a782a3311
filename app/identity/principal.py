"""Who is asking: the authenticated principal of a request and the permission checks on it."""

from __future__ import annotations

from dataclasses import dataclass

from flask import g

from app.errors import Forbidden, Unauthorized


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    display_name: str
    department: str | None
    groups: frozenset[str]
    roles: frozenset[str]

    def has_role(self, *roles: str) -> bool:
        """True when the principal holds any of `roles` (admin holds every role)."""
        return "admin" in self.roles or any(r in self.roles for r in roles)

    def in_group(self, group: str | None) -> bool:
        """True when the principal is a member of `group`."""
        return group is not None and group in self.groups


def current() -> Principal:
    """The principal of the current request (401 when there is none)."""
    principal = g.get("principal")
    if principal is None:
        raise Unauthorized("缺少有效的访问令牌 A valid bearer token is required.")
    return principal


def require_role(*roles: str) -> Principal:
    """The current principal, if it holds one of `roles`; 403 otherwise."""
    principal = current()
    if not principal.has_role(*roles):
        raise Forbidden(f"需要以下角色之一：{', '.join(roles)} One of these roles is required.")
    return principal
