"""Departments, groups (a BPMN lane names a group), users and their bearer tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, LargeBinary, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.types import UTCDateTime

ROLES = ("window", "reviewer", "leader", "designer", "supervisor", "auditor", "admin")

user_group = Table(
    "user_groups",
    db.metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", Integer, ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True),
)


class Department(db.Model):
    __tablename__ = "departments"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))


class Group(db.Model):
    __tablename__ = "groups"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    department: Mapped[Department | None] = relationship(lazy="joined")


class User(db.Model):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(255))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    # Space-separated role names from ROLES; a handful per user, read on every request.
    roles: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(default=True)
    # The colleague who stands in by default when this person is away (AB岗).
    backup_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", name="fk_users_backup_id_users"))
    department: Mapped[Department | None] = relationship(lazy="joined")
    groups: Mapped[list[Group]] = relationship(secondary=user_group, lazy="selectin")
    backup: Mapped[User | None] = relationship(remote_side=[id], lazy="select")


class ApiToken(db.Model):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    # SHA-256 of the token: a stolen database does not hand out sessions.
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


LOGIN_SUCCEEDED, LOGIN_FAILED, LOGIN_LOCKED = "succeeded", "failed", "locked"


class LoginEvent(db.Model):
    """One login outcome for one username (known or not): what the lockout counts, and the login log."""

    __tablename__ = "login_events"
    __table_args__ = (Index("ix_login_events_username_at", "username", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(10))  # succeeded, failed, locked


class OrgLogEntry(db.Model):
    """One change of the organisation: who changed what, before and after; one hash chain, append-only."""

    __tablename__ = "org_log"
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(40))  # department_created, user_updated, absence_recorded, ...
    target: Mapped[str] = mapped_column(String(120))  # the department/group code, the username, ...
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))
