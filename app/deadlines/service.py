"""Deadlines of cases and steps, computed in working days on the center's calendar."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from app import clock
from app.deadlines.workdays import WorkCalendar, covered_years, local_date

LEVELS = ("ok", "warning", "overdue", "breach")


@lru_cache(maxsize=1)
def calendar() -> WorkCalendar:
    """The working-day calendar (the official arrangements shipped with chinesecalendar)."""
    return WorkCalendar.official(years=covered_years())


def case_deadlines(*, accepted_at: datetime, statutory_days: int, promised_days: int) -> dict:
    """Statutory and promised due times of a case accepted at `accepted_at`."""
    cal = calendar()
    accepted_on = local_date(accepted_at)
    _, statutory_due, prov_s = cal.due(accepted_on, statutory_days)
    _, promised_due, prov_p = cal.due(accepted_on, promised_days)
    return {"statutory_due": statutory_due, "promised_due": promised_due, "provisional": prov_s or prov_p}


def warning_level(*, promised_due: datetime | None, statutory_due: datetime | None, now: datetime | None = None) -> str:
    """ok / warning (the promised due day has come) / overdue (past promised) / breach (past statutory)."""
    now = now or clock.now()
    if statutory_due is not None and now > statutory_due:
        return "breach"
    if promised_due is not None and now > promised_due:
        return "overdue"
    if promised_due is not None and local_date(now) >= local_date(promised_due):
        return "warning"
    return "ok"
