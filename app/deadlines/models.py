"""The working-day calendar as data, and the suspensions that stop a case's clocks."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.types import UTCDateTime


class CalendarDay(db.Model):
    """A day that differs from the Monday-Friday default: a weekday holiday or a make-up working day."""

    __tablename__ = "calendar_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    year: Mapped[int] = mapped_column(index=True)
    workday: Mapped[bool]
    name: Mapped[str] = mapped_column(String(60))


class CalendarYear(db.Model):
    """A year whose official arrangement is loaded (deadlines in other years are provisional)."""

    __tablename__ = "calendar_years"
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(200))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Suspension(db.Model):
    """A typed, dated interval during which a case's clocks stop (补正 or 特别程序)."""

    __tablename__ = "suspensions"
    __table_args__ = (Index("ix_suspensions_case", "case_id", "ended_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))  # correction | special_procedure
    reason: Mapped[str] = mapped_column(String(500))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"))  # a special-procedure task
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_by: Mapped[str] = mapped_column(String(60))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_by: Mapped[str | None] = mapped_column(String(60))
    note: Mapped[str | None] = mapped_column(String(500))
    added_days: Mapped[int] = mapped_column(default=0)


class SchedulerLease(db.Model):
    """Who runs the scheduler's passes, until when: a lease that a stuck or dead runner loses by expiry."""

    __tablename__ = "scheduler_leases"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(120))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
