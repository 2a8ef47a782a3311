"""A case (办件): one application of one matter, from acceptance to result.

The case row carries its deadlines as absolute timestamps and the head of its audit chain
(event_seq, last_hash), so that every change to a case, its events included, is serialized by one
row lock. The workflow state (without the spec) lives apart in `case_state`: the case row stays
small, so its frequent updates (a claim, a warning) stay cheap and HOT, and a claim never reads
the state.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, select, text
from sqlalchemy.orm import Mapped, aliased, mapped_column

from app.extensions import db
from app.types import UTCDateTime

IN_PROGRESS, SUSPENDED, COMPLETED, WITHDRAWN = "in_progress", "suspended", "completed", "withdrawn"
AWAITING_CORRECTION = "awaiting_correction"  # 补正: registered, told what to correct, no clock yet
NOT_ACCEPTED = "not_accepted"  # the result of a refusal (不予受理)


def _lag_index(name: str, column: str, where: str) -> Index:
    """A partial index on `column` over the rows `where` selects (the same on PostgreSQL and SQLite)."""
    return Index(name, column, postgresql_where=text(where), sqlite_where=text(where))


class Case(db.Model):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_status_matter", "status", "matter_code"),
        Index("ix_cases_department_status", "department", "status"),
        # The deadline sweep probes one index per way a case can lag behind the clock; each holds
        # only the running cases whose level can still rise, so a pass costs what lags, not the table.
        _lag_index("ix_cases_lag_statutory", "statutory_due", "status = 'in_progress' AND warning <> 'breach'"),
        _lag_index("ix_cases_lag_promised", "promised_due", "status = 'in_progress' AND warning IN ('ok', 'warning')"),
        _lag_index("ix_cases_lag_warning", "warning_at", "status = 'in_progress' AND warning = 'ok'"),
        Index(
            "ix_cases_timer",
            "next_timer_at",
            postgresql_where=text("next_timer_at IS NOT NULL"),
            sqlite_where=text("next_timer_at IS NOT NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(40), unique=True)
    matter_code: Mapped[str] = mapped_column(String(40))
    department: Mapped[str] = mapped_column(String(40))
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_versions.id"))
    # 20 on PostgreSQL (migration 0012, for "awaiting_correction"); SQLite never enforces a length, so
    # its column keeps the 12 it was created with rather than rebuilding the table.
    status: Mapped[str] = mapped_column(String(20).with_variant(String(12), "sqlite"), default=IN_PROGRESS)
    result: Mapped[str | None] = mapped_column(String(12))
    end_event: Mapped[str | None] = mapped_column(String(100))
    applicant: Mapped[dict] = mapped_column(JSON)
    materials: Mapped[list] = mapped_column(JSON)
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_by: Mapped[str] = mapped_column(String(60))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Limits pinned at acceptance (working days); due dates are recomputed from them.
    statutory_days: Mapped[int] = mapped_column(default=0)
    promised_days: Mapped[int] = mapped_column(default=0)
    statutory_due: Mapped[datetime | None] = mapped_column(UTCDateTime())
    promised_due: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When the "warning" level starts (start of the k-th last working day before promised_due).
    warning_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    suspended_days: Mapped[int] = mapped_column(default=0)
    extended_days: Mapped[int] = mapped_column(default=0)
    extension_reason: Mapped[str | None] = mapped_column(String(500))
    provisional: Mapped[bool] = mapped_column(default=False)
    # Set while a suspension or special procedure is open: the clocks stand still.
    clock_stopped_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    warning: Mapped[str] = mapped_column(String(10), default="ok")
    # The earliest due BPMN timer of the case's workflow (the scheduler fires it).
    next_timer_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    evaluation: Mapped[str | None] = mapped_column(String(20))
    incident: Mapped[str | None] = mapped_column(String(500))
    state_version: Mapped[int] = mapped_column(default=0)
    event_seq: Mapped[int] = mapped_column(default=0)
    last_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))

    # Two completions of one case never interleave: the UPDATE checks the version it read.
    __mapper_args__ = {"version_id_col": state_version}


class CaseState(db.Model):
    """The workflow state of a case (no spec) and its serializer version: written by the case runtime."""

    __tablename__ = "case_state"
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    state: Mapped[bytes] = mapped_column(LargeBinary)
    format: Mapped[str] = mapped_column(String(40))


_SNAPSHOT = aliased(Case, name="case_snapshot")


def snapshot_seq(locked):
    """The chain head (event_seq) of a case row as the statement's snapshot saw it, as a column.

    On PostgreSQL a `SELECT ... FOR UPDATE OF cases` that waits for the row while another transaction
    changes it returns the newest version of the locked row, but the rows of every other table it joins
    (tasks, state) as its snapshot saw them, from before that change. Selecting this beside the locked
    row tells the two apart: when it differs from the row's event_seq (every change of a case moves
    it), what was joined is stale and the read must be repeated, now that the lock is held."""
    return select(_SNAPSHOT.event_seq).where(_SNAPSHOT.id == locked.id).scalar_subquery().label("snapshot_seq")
