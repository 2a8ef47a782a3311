"""The center's calendar as data: seeded from chinesecalendar, editable and importable per year."""

from __future__ import annotations

import time
from datetime import date

from sqlalchemy import delete, select

from app import clock
from app.deadlines.models import CalendarDay, CalendarYear
from app.deadlines.workdays import (
    FIRST_YEAR,
    LAST_YEAR,
    DayRule,
    WorkCalendar,
    covered_years,
    official_arrangement,
    supported,
)
from app.errors import Invalid
from app.extensions import db

OFFICIAL_SOURCE = "chinesecalendar"
# Each process rebuilds its calendar at most this often; an import in this process rebuilds at once.
CACHE_SECONDS = 30.0
_cache: tuple[WorkCalendar, float] | None = None


def current() -> WorkCalendar:
    """The calendar as the database holds it (cached per process for CACHE_SECONDS)."""
    global _cache
    if _cache is not None and _cache[1] > time.monotonic():
        return _cache[0]
    days = db.session.execute(select(CalendarDay.day, CalendarDay.workday, CalendarDay.name)).all()
    years = db.session.scalars(select(CalendarYear.year)).all()
    calendar = WorkCalendar([DayRule(d, w, n) for d, w, n in days], years)
    _cache = (calendar, time.monotonic() + CACHE_SECONDS)
    return calendar


def invalidate() -> None:
    """Forget the cached calendar (after an import)."""
    global _cache
    _cache = None


def get_year(*, year: int) -> dict:
    """A year's non-default days and where they came from (source None when not loaded)."""
    if not supported(year):
        raise Invalid(
            f"只支持 {FIRST_YEAR}-{LAST_YEAR} 年 Years {FIRST_YEAR}-{LAST_YEAR} only.",
            errors={"year": [f"must be within {FIRST_YEAR}..{LAST_YEAR}"]},
        )
    loaded = db.session.get(CalendarYear, year)
    days = db.session.scalars(select(CalendarDay).where(CalendarDay.year == year).order_by(CalendarDay.day)).all()
    return {
        "year": year,
        "source": loaded.source if loaded else None,
        "loaded": loaded is not None,
        "days": [{"date": d.day, "workday": d.workday, "name": d.name} for d in days],
    }


def load_year(*, year: int, source: str, days: list[dict]) -> int:
    """Replace a year's arrangement (validated: dates inside the year, no duplicates); returns its day count."""
    errors = _validate(year, days)
    if errors:
        raise Invalid(f"{year} 年的日历数据有误 The calendar for {year} is invalid.", errors={"days": errors})
    db.session.execute(delete(CalendarDay).where(CalendarDay.year == year))
    for d in days:
        db.session.add(CalendarDay(day=d["date"], year=year, workday=d["workday"], name=d.get("name") or ""))
    entry = db.session.get(CalendarYear, year) or CalendarYear(year=year)
    entry.source, entry.loaded_at = source, clock.now()
    db.session.add(entry)
    db.session.flush()
    invalidate()
    return len(days)


def _validate(year: int, days: list[dict]) -> list[str]:
    errors = []
    seen: set[date] = set()
    for d in days:
        day = d["date"]
        if day.year != year:
            errors.append(f"{day.isoformat()} 不在 {year} 年内 is outside the year")
        if day in seen:
            errors.append(f"{day.isoformat()} 重复 appears twice")
        seen.add(day)
        if not isinstance(d.get("workday"), bool):
            errors.append(f"{day.isoformat()} 缺少 workday 标记 needs a workday flag")
    return errors


def seed_official() -> list[int]:
    """Load every year chinesecalendar covers that is not loaded yet (idempotent); returns the years loaded."""
    loaded = set(db.session.scalars(select(CalendarYear.year)))
    done = []
    for year in covered_years():
        if year in loaded:
            continue
        days = [{"date": r.date, "workday": r.workday, "name": r.name} for r in official_arrangement(year)]
        load_year(year=year, source=OFFICIAL_SOURCE, days=days)
        done.append(year)
    return done
