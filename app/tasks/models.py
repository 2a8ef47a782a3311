"""Human work items: one row per human task the engine made READY, kept in step with the engine."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.types import UTCDateTime

READY, CLAIMED, COMPLETED, CANCELLED = "ready", "claimed", "completed", "cancelled"
OPEN_STATES = (READY, CLAIMED)
LAG_DUE = "state IN ('ready', 'claimed') AND warning <> 'overdue'"
LAG_WARNING = "state IN ('ready', 'claimed') AND warning = 'ok'"
OPEN_WHERE = "state IN ('ready', 'claimed')"
READY_WHERE = "state = 'ready'"
CLAIMED_WHERE = "state = 'claimed'"


# What an inbox row is filtered on, carried in its indexes (PostgreSQL INCLUDE) for index-only scans.
INBOX_INCLUDE = ["matter_code", "warning", "case_number", "applicant_name"]


def _partial(name: str, *columns: str, where: str, include: list[str] | None = None) -> Index:
    """An index over the rows `where` selects (the same on PostgreSQL and SQLite; INCLUDE on PostgreSQL only)."""
    return Index(
        name, *columns, postgresql_where=text(where), sqlite_where=text(where), postgresql_include=include or []
    )


class Task(db.Model):
    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_case", "case_id", "state"),
        # The inbox: claimable by group, mine by assignee, in each sort order; only open rows are indexed.
        # A page is found by an index-only scan (the filters are included), then its rows are read.
        _partial("ix_tasks_inbox_group_due", "group_code", "due_at", "id", where=READY_WHERE, include=INBOX_INCLUDE),
        _partial(
            "ix_tasks_inbox_group_created", "group_code", "created_at", "id", where=READY_WHERE, include=INBOX_INCLUDE
        ),
        _partial("ix_tasks_inbox_assignee_due", "assignee", "due_at", "id", where=CLAIMED_WHERE, include=INBOX_INCLUDE),
        _partial(
            "ix_tasks_inbox_assignee_created",
            "assignee",
            "created_at",
            "id",
            where=CLAIMED_WHERE,
            include=INBOX_INCLUDE,
        ),
        # The inbox's search by a whole case number or applicant name.
        _partial("ix_tasks_open_case_number", "case_number", where=OPEN_WHERE),
        _partial("ix_tasks_open_applicant", "applicant_name", where=OPEN_WHERE),
        # The step-warning sweep: open steps whose level can still rise.
        Index("ix_tasks_lag_due", "due_at", postgresql_where=text(LAG_DUE), sqlite_where=text(LAG_DUE)),
        Index("ix_tasks_lag_warning", "warning_at", postgresql_where=text(LAG_WARNING), sqlite_where=text(LAG_WARNING)),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    engine_task_id: Mapped[str] = mapped_column(String(36), unique=True)
    name: Mapped[str] = mapped_column(String(100))  # BPMN element id
    title: Mapped[str] = mapped_column(String(200))  # BPMN name
    form: Mapped[str] = mapped_column(String(30), default="opinion")
    group: Mapped[str | None] = mapped_column("group_code", String(80))
    assignee: Mapped[str | None] = mapped_column(String(60))
    state: Mapped[str] = mapped_column(String(10), default=READY)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_by: Mapped[str | None] = mapped_column(String(60))
    # A step's own limit (working days, from its time_limit property) and the working days its
    # case's clocks stood still since it opened: due_at is recomputed from these.
    limit_days: Mapped[int | None]
    shifted_days: Mapped[int] = mapped_column(default=0)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    warning_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    warning: Mapped[str] = mapped_column(String(10), default="ok")
    # Copied from the case when the task opens (they never change), so the inbox needs no join.
    case_number: Mapped[str | None] = mapped_column(String(40))
    matter_code: Mapped[str | None] = mapped_column(String(40))
    applicant_name: Mapped[str | None] = mapped_column(String(100))


def case_columns(case) -> dict:
    """The case's columns a task row carries for the inbox (number, matter, applicant's name)."""
    return {
        "case_number": case.number,
        "matter_code": case.matter_code,
        "applicant_name": (case.applicant or {}).get("name"),
    }


SCHEDULED, ACTIVE, ENDED, CANCELLED = "scheduled", "active", "ended", "cancelled"


class Absence(db.Model):
    """AB岗: a person away from `starts_at` to `ends_at`; their backup stands in meanwhile.

    `state` records what has been applied (scheduled -> active: the claimed tasks moved; -> ended),
    so the request that records it and the scheduler apply each change exactly once.
    """

    __tablename__ = "absences"
    __table_args__ = (
        Index("ix_absences_state_starts", "state", "starts_at"),
        Index("ix_absences_user_ends", "user_id", "ends_at"),
        Index("ix_absences_backup_ends", "backup_id", "ends_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    backup_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(String(200))
    recorded_by: Mapped[str] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(10), default=SCHEDULED)
