"""The scheduler's lease: at most one runner holds it, and only until it expires.

A runner takes or renews the lease in a short transaction of its own before each batch, never
inside the batch, so a runner stuck in a batch blocks nobody: when its lease expires another runner
takes over, and the case rows the stuck one still locks are skipped (SKIP LOCKED) until it ends.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, update

from app import clock
from app.deadlines.models import SchedulerLease
from app.extensions import db


def acquire(*, name: str, holder: str, seconds: float) -> bool:
    """Take (or renew) the lease for `seconds` if it is free, expired or already ours."""
    now = clock.now()
    won = db.session.execute(
        update(SchedulerLease)
        .where(
            SchedulerLease.name == name,
            or_(SchedulerLease.holder.is_(None), SchedulerLease.expires_at < now, SchedulerLease.holder == holder),
        )
        .values(holder=holder, expires_at=now + timedelta(seconds=seconds))
    ).rowcount
    return won == 1


def release(*, name: str, holder: str) -> None:
    """Give the lease up (if we still hold it)."""
    db.session.execute(
        update(SchedulerLease)
        .where(SchedulerLease.name == name, SchedulerLease.holder == holder)
        .values(holder=None, expires_at=None)
    )


def holder(*, name: str) -> tuple[str | None, object]:
    """(holder, expires_at) of the lease."""
    row = db.session.get(SchedulerLease, name, populate_existing=True)
    return (row.holder, row.expires_at) if row is not None else (None, None)
