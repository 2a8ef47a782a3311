"""Working-day arithmetic against the real 2026 arrangement shipped in chinesecalendar 1.11.0.

2026 facts used here (State Council notice, as in the package data):
- 春节: Feb 15 (Sun) - Feb 23 (Mon) off; make-up working Saturdays Feb 14 and Feb 28.
- 中秋: Sep 25 (Fri) - Sep 27 off.  国庆节: Oct 1 (Thu) - Oct 7 (Wed) off;
  make-up working Sunday Sep 20 and Saturday Oct 10.
"""

import datetime as dt
import random

import chinese_calendar
import pytest

from app.deadlines.workdays import (
    SHANGHAI,
    DayRule,
    WorkCalendar,
    covered_years,
    local_date,
    official_arrangement,
)

D = dt.date


def cal_2026() -> WorkCalendar:
    return WorkCalendar(official_arrangement(2026), {2026})


# --- official arrangement -------------------------------------------------------------


def test_covered_years_and_uncovered_year_is_empty():
    assert covered_years() == range(2004, 2027)
    assert official_arrangement(2027) == []
    assert official_arrangement(2003) == []


def test_official_arrangement_2026_has_only_non_default_days_with_chinese_names():
    rules = {r.date: r for r in official_arrangement(2026)}
    assert rules[D(2026, 10, 1)] == DayRule(D(2026, 10, 1), False, "国庆节")
    assert rules[D(2026, 2, 16)] == DayRule(D(2026, 2, 16), False, "春节")
    assert rules[D(2026, 10, 10)].workday is True and rules[D(2026, 10, 10)].name == "调休上班"
    assert rules[D(2026, 9, 20)].workday is True
    # weekend holidays (Oct 3/4 2026 are Sat/Sun) are the default and not listed
    assert D(2026, 10, 3) not in rules and D(2026, 10, 4) not in rules
    assert all(r.workday == (r.date.weekday() >= 5) for r in rules.values())
    assert {d for d, r in rules.items() if r.workday} == {
        D(2026, 1, 4),
        D(2026, 2, 14),
        D(2026, 2, 28),
        D(2026, 5, 9),
        D(2026, 9, 20),
        D(2026, 10, 10),
    }


def test_official_calendar_agrees_with_chinesecalendar_every_day():
    cal = WorkCalendar.official()
    d = D(2004, 1, 1)
    while d <= D(2026, 12, 31):
        assert cal.is_workday(d) == chinese_calendar.is_workday(d), d
        d += dt.timedelta(days=1)


# --- National Day 2026 ----------------------------------------------------------------


def test_national_day_2026_limit_across_the_holiday():
    cal = cal_2026()
    accepted = D(2026, 9, 28)  # Monday
    # Sep 29 (1), Sep 30 (2), Oct 1-7 off, Oct 8 (3), Oct 9 (4), Sat Oct 10 make-up (5), Mon Oct 12 (6)
    assert cal.add_workdays(accepted, 2) == D(2026, 9, 30)
    assert cal.add_workdays(accepted, 3) == D(2026, 10, 8)
    assert cal.add_workdays(accepted, 5) == D(2026, 10, 10)
    assert cal.add_workdays(accepted, 6) == D(2026, 10, 12)
    # 20 working days: 2 in Sept, then Oct 8, 9, 10, 12-16, 19-23, 26-30 (20th = Oct 30)
    assert cal.add_workdays(accepted, 20) == D(2026, 10, 30)


def test_national_day_2026_make_up_days_count_and_normal_weekends_do_not():
    cal = cal_2026()
    assert cal.is_workday(D(2026, 10, 10))  # make-up Saturday
    assert cal.is_workday(D(2026, 9, 20))  # make-up Sunday
    assert not cal.is_workday(D(2026, 10, 17))  # ordinary Saturday
    assert not cal.is_workday(D(2026, 10, 5))  # Monday inside the holiday
    assert not cal.is_workday(D(2026, 9, 25))  # Friday, 中秋
    # accepted Friday Sep 18: the next working day is the make-up Sunday Sep 20
    assert cal.add_workdays(D(2026, 9, 18), 1) == D(2026, 9, 20)
    # accepted Friday Oct 16: the next working day skips the ordinary weekend
    assert cal.add_workdays(D(2026, 10, 16), 1) == D(2026, 10, 19)


# --- Spring Festival 2026 -------------------------------------------------------------


def test_spring_festival_2026():
    cal = cal_2026()
    accepted = D(2026, 2, 12)  # Thursday
    # Fri Feb 13 (1), Sat Feb 14 make-up (2), Feb 15-23 off, Tue Feb 24 (3) .. Fri Feb 27 (6),
    # Sat Feb 28 make-up (7), Mon Mar 2 (8)
    assert cal.add_workdays(accepted, 2) == D(2026, 2, 14)
    assert cal.add_workdays(accepted, 3) == D(2026, 2, 24)
    assert cal.add_workdays(accepted, 7) == D(2026, 2, 28)
    assert cal.add_workdays(accepted, 8) == D(2026, 3, 2)
    assert cal.is_workday(D(2026, 2, 28))
    assert not cal.is_workday(D(2026, 3, 7))  # ordinary Saturday
    assert not cal.is_workday(D(2026, 2, 23))  # Monday, last day of the festival


# --- n == 0, due_at, errors -----------------------------------------------------------


def test_immediate_matter_due_same_day_end_of_day_shanghai():
    cal = cal_2026()
    accepted = D(2026, 10, 3)  # even on a holiday, an immediate matter is due that day
    assert cal.add_workdays(accepted, 0) == accepted
    due_date, due_at, provisional = cal.due(accepted, 0)
    assert due_date == accepted
    assert due_at == dt.datetime(2026, 10, 3, 23, 59, 59, 999999, tzinfo=SHANGHAI)
    assert due_at.utcoffset() == dt.timedelta(hours=8)
    assert due_at.isoformat() == "2026-10-03T23:59:59.999999+08:00"
    assert provisional is False


def test_due_across_holiday_and_negative_n():
    cal = cal_2026()
    due_date, due_at, provisional = cal.due(D(2026, 9, 28), 5)
    assert due_date == D(2026, 10, 10)
    utc_end = dt.datetime(2026, 10, 10, 15, 59, 59, 999999, tzinfo=dt.UTC)
    assert due_at.astimezone(dt.UTC) == utc_end
    assert provisional is False
    with pytest.raises(ValueError):
        cal.add_workdays(D(2026, 9, 28), -1)


# --- suspensions ----------------------------------------------------------------------


def test_workdays_between_across_national_day():
    cal = cal_2026()
    # suspended Tue Sep 29, resumed Fri Oct 9: Sep 30, Oct 8, Oct 9 -> 3 working days added back
    assert cal.workdays_between(D(2026, 9, 29), D(2026, 10, 9)) == 3
    # resumed on the make-up Saturday: it counts
    assert cal.workdays_between(D(2026, 9, 29), D(2026, 10, 10)) == 4
    # suspended and resumed inside the holiday: nothing
    assert cal.workdays_between(D(2026, 10, 1), D(2026, 10, 7)) == 0
    assert cal.workdays_between(D(2026, 9, 29), D(2026, 9, 29)) == 0
    assert cal.workdays_between(D(2026, 10, 9), D(2026, 9, 29)) == 0


def test_add_and_between_match_a_day_by_day_count():
    cal = WorkCalendar.official()
    rnd = random.Random(20261001)
    for _ in range(300):
        start = D(2025, 1, 1) + dt.timedelta(days=rnd.randrange(0, 700))
        n = rnd.randrange(0, 40)
        d, k = start, 0
        while k < n:
            d += dt.timedelta(days=1)
            k += chinese_calendar.is_workday(d) if d.year <= 2026 else d.weekday() < 5
        assert cal.add_workdays(start, n) == d, (start, n)
        assert cal.workdays_between(start, d) == n


# --- provisional years ----------------------------------------------------------------


def test_provisional_2027_then_loaded():
    accepted = D(2026, 12, 24)  # Thursday
    cal = cal_2026()
    assert cal.is_provisional(D(2027, 1, 1)) and not cal.is_provisional(D(2026, 12, 31))
    # weekends only in 2027: Dec 25, 28-31 (5), Fri Jan 1 (6), Jan 4-7 (10)
    due_date, _, provisional = cal.due(accepted, 10)
    assert due_date == D(2027, 1, 7)
    assert provisional is True
    # a deadline entirely in 2026 is not provisional
    assert cal.due(accepted, 3)[2] is False

    rules_2027 = [DayRule(D(2027, 1, 1), False, "元旦")]
    loaded = WorkCalendar(official_arrangement(2026) + rules_2027, {2026, 2027})
    due_date, due_at, provisional = loaded.due(accepted, 10)
    assert due_date == D(2027, 1, 8)
    assert due_at == dt.datetime(2027, 1, 8, 23, 59, 59, 999999, tzinfo=SHANGHAI)
    assert provisional is False


# --- local_date -----------------------------------------------------------------------


def test_local_date():
    assert local_date(dt.datetime(2026, 11, 26, 17, 0, tzinfo=dt.UTC)) == D(2026, 11, 27)
    assert local_date(dt.datetime(2026, 11, 26, 15, 59, 59, tzinfo=dt.UTC)) == D(2026, 11, 26)
    with pytest.raises(ValueError):
        local_date(dt.datetime(2026, 11, 26, 17, 0))
