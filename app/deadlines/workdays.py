"""Working-day (工作日) arithmetic for statutory and promised time limits.

Pure Python: no Flask, no database, no reading of the current time. The calendar is data
(a list of DayRule); `official_arrangement` seeds it from the `chinesecalendar` package.
Days without a rule follow the default: Monday-Friday work, Saturday/Sunday rest.
"""

from __future__ import annotations

import datetime
import zoneinfo
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import accumulate

import chinese_calendar

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")

MAKE_UP_NAME = "调休上班"

# The years the platform computes in: acceptance dates and calendar years outside are refused (422).
FIRST_YEAR = 1990
LAST_YEAR = 2100
FIRST_DATE = datetime.date(FIRST_YEAR, 1, 1)
LAST_DATE = datetime.date(LAST_YEAR, 12, 31)


def supported(year: int) -> bool:
    """True for a year the calendar covers (FIRST_YEAR..LAST_YEAR)."""
    return FIRST_YEAR <= year <= LAST_YEAR


@dataclass(frozen=True)
class DayRule:
    """A day that differs from the Monday-Friday default (holiday on a weekday, or 调休 make-up day)."""

    date: datetime.date
    workday: bool
    name: str


def _is_weekday(d: datetime.date) -> bool:
    return d.weekday() < 5


def _holiday_name(value: object) -> str:
    """Chinese name of a chinese_calendar Holiday value (falls back to the raw value)."""
    try:
        return chinese_calendar.Holiday(value).chinese
    except (ValueError, AttributeError):
        return str(value)


def covered_years() -> range:
    """Years for which the installed chinesecalendar package has an official arrangement."""
    days = list(chinese_calendar.holidays) + list(chinese_calendar.workdays)
    return range(min(days).year, max(days).year + 1)


def official_arrangement(year: int) -> list[DayRule]:
    """The official arrangement of `year` as DayRules (only days that differ from the default)."""
    if year not in covered_years():
        return []
    rules = [
        DayRule(d, False, _holiday_name(v))
        for d, v in chinese_calendar.holidays.items()
        if d.year == year and _is_weekday(d)
    ]
    rules += [
        DayRule(d, True, MAKE_UP_NAME) for d in chinese_calendar.workdays if d.year == year and not _is_weekday(d)
    ]
    return sorted(rules, key=lambda r: r.date)


def _weekdays_upto(ordinal: int) -> int:
    """Number of Monday-Friday days with proleptic ordinal in [1, ordinal] (ordinal 1 is a Monday)."""
    weeks, rest = divmod(ordinal, 7)
    return 5 * weeks + min(rest, 5)


class WorkCalendar:
    """Working-day calendar: DayRules override the weekday default; unloaded years are provisional."""

    def __init__(self, rules: Iterable[DayRule] = (), loaded_years: Iterable[int] = ()) -> None:
        """Build the calendar; a later rule for the same date replaces an earlier one."""
        by_date: dict[datetime.date, DayRule] = {}
        for rule in rules:
            by_date[rule.date] = rule
        self.rules: dict[datetime.date, DayRule] = dict(sorted(by_date.items()))
        self.loaded_years: frozenset[int] = frozenset(loaded_years)
        # Sorted ordinals of rules that change the default, with the running sum of their deltas
        # (+1 for a make-up weekend workday, -1 for a weekday holiday): W(o) is then O(log R).
        changes = [
            (d.toordinal(), 1 if r.workday else -1) for d, r in self.rules.items() if r.workday != _is_weekday(d)
        ]
        self._ords: list[int] = [o for o, _ in changes]
        self._cum: list[int] = [0, *accumulate(delta for _, delta in changes)]

    @classmethod
    def official(cls, years: Iterable[int] | None = None) -> WorkCalendar:
        """A calendar seeded from chinesecalendar for `years` (default: every covered year)."""
        years = set(covered_years() if years is None else years) & set(covered_years())
        rules = [r for y in sorted(years) for r in official_arrangement(y)]
        return cls(rules, years)

    def _count(self, ordinal: int) -> int:
        """Working days with ordinal <= `ordinal` (relative count; only differences are meaningful)."""
        return _weekdays_upto(ordinal) + self._cum[bisect_right(self._ords, ordinal)]

    def is_workday(self, d: datetime.date) -> bool:
        """True if `d` is a working day (a rule overrides the weekday default)."""
        rule = self.rules.get(d)
        return rule.workday if rule is not None else _is_weekday(d)

    def is_provisional(self, d: datetime.date) -> bool:
        """True if the official arrangement of d's year is not loaded (weekends-only counting)."""
        return d.year not in self.loaded_years

    def add_workdays(self, start: datetime.date, n: int) -> datetime.date:
        """The n-th working day after `start` (counting from the next day); n == 0 returns `start`."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        if n == 0:
            return start
        lo = start.toordinal()
        target = self._count(lo) + n
        # Exponential search for an upper bound, then the first ordinal reaching target.
        step = n + n // 2 + 7
        hi = lo + step
        while self._count(hi) < target:
            lo, step = hi, step * 2
            hi = lo + step
        return self._first_reaching(target, lo, hi)

    def workday_before(self, d: datetime.date, n: int) -> datetime.date:
        """The working day n working days before `d` (n == 0: `d` itself, or the last working day before it)."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        target = self._count(d.toordinal()) - n
        lo, hi = d.toordinal() - 2 * n - 30, d.toordinal()
        while self._count(lo) >= target:
            lo -= 2 * n + 30
        return self._first_reaching(target, lo, hi)

    def _first_reaching(self, target: int, lo: int, hi: int) -> datetime.date:
        """The first day (ordinal in (lo, hi]) whose working-day count reaches `target`: that working day.

        Needs _count(lo) < target <= _count(hi); a binary search.
        """
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self._count(mid) >= target:
                hi = mid
            else:
                lo = mid
        return datetime.date.fromordinal(hi)

    def workdays_between(self, after: datetime.date, upto: datetime.date) -> int:
        """Number of working days d with after < d <= upto (0 when upto <= after)."""
        if upto <= after:
            return 0
        return self._count(upto.toordinal()) - self._count(after.toordinal())

    def due(self, accepted_on: datetime.date, n: int) -> tuple[datetime.date, datetime.datetime, bool]:
        """(due_date, end of due_date in Asia/Shanghai, provisional) for a limit of n working days."""
        due_date = self.add_workdays(accepted_on, n)
        due_at = datetime.datetime.combine(due_date, datetime.time.max, tzinfo=SHANGHAI)
        provisional = any(y not in self.loaded_years for y in range(accepted_on.year, due_date.year + 1))
        return due_date, due_at, provisional


def local_date(at: datetime.datetime) -> datetime.date:
    """The Asia/Shanghai calendar date of an aware datetime (ValueError if naive)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("local_date needs an aware datetime")
    return at.astimezone(SHANGHAI).date()
