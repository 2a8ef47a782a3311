"""The working-day calendar through the API and the CLI: the official 2026 arrangement, GET /api/calendar/due,
`flask calendar due`, and loading a new year (PUT /api/calendar/{year}, `flask calendar import`) that
recomputes the provisional deadlines of open cases.

2026 facts (State Council notice, as shipped in chinesecalendar): 春节 Feb 15 (Sun) - Feb 23 (Mon) off with
make-up Saturdays Feb 14 and Feb 28; 中秋 Sep 25-27 off; 国庆 Oct 1 (Thu) - Oct 7 (Wed) off with make-up
Sunday Sep 20 and Saturday Oct 10. No arrangement for 2027 is shipped: 2027 is counted on weekends only
(provisional) until a year is loaded.
"""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from app import clock
from app.deadlines.workdays import official_arrangement
from tests.conftest import row_counts
from tests.factories import accept
from tests.timekeeping import bj, end_of, events, show

SHANGHAI = ZoneInfo("Asia/Shanghai")

# A made-up 2027 arrangement: Friday Jan 1 and Monday Jan 4 off, and a make-up Saturday later on.
MADE_UP_2027 = {
    "year": 2027,
    "source": "测试用安排 made-up test arrangement",
    "days": [
        {"date": "2027-01-01", "workday": False, "name": "元旦"},
        {"date": "2027-01-04", "workday": False, "name": "元旦调休"},
        {"date": "2027-01-09", "workday": True, "name": "调休上班"},
    ],
}


def accept_at(as_user, at: datetime) -> dict:
    clock.freeze(at)
    return accept(as_user)


def due(actor, day: str, n) -> dict:
    response = actor.get(f"/api/calendar/due?from={day}&days={n}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


# --- reading the calendar ---------------------------------------------------------------------


def test_get_2026_returns_the_official_days(as_user):
    body = as_user("market_reviewer1").get("/api/calendar/2026").get_json()
    assert body["year"] == 2026 and body["source"] == "chinesecalendar"
    days = {d["date"]: d for d in body["days"]}
    assert days["2026-10-01"] == {"date": "2026-10-01", "workday": False, "name": "国庆节"}
    assert days["2026-02-16"]["workday"] is False and days["2026-02-16"]["name"] == "春节"
    assert days["2026-10-10"] == {"date": "2026-10-10", "workday": True, "name": "调休上班"}
    assert {d for d, v in days.items() if v["workday"]} == {
        "2026-01-04",
        "2026-02-14",
        "2026-02-28",
        "2026-05-09",
        "2026-09-20",
        "2026-10-10",
    }
    # Only the days that differ from Monday-Friday: Oct 3/4 are a weekend anyway.
    assert "2026-10-03" not in days and "2026-10-04" not in days
    official = [{"date": r.date.isoformat(), "workday": r.workday, "name": r.name} for r in official_arrangement(2026)]
    assert body["days"] == official


def test_a_year_not_loaded_has_no_days(as_user):
    body = as_user("window1").get("/api/calendar/2027").get_json()
    assert body["year"] == 2027 and body["days"] == [] and body["source"] is None


def test_calendar_needs_a_token(client):
    assert client.get("/api/calendar/2026").status_code == 401
    assert client.get("/api/calendar/due?from=2026-09-30&days=1").status_code == 401


# --- GET /api/calendar/due ---------------------------------------------------------------------


def test_due_across_national_day(as_user):
    actor = as_user("window1")
    assert due(actor, "2026-09-30", 1) == {
        "from": "2026-09-30",
        "days": 1,
        "due_date": "2026-10-08",
        "due_at": end_of("2026-10-08"),
        "provisional": False,
    }
    # Mon Sep 28: Sep 29, Sep 30, Oct 8, Oct 9, Sat Oct 10 (make-up) ...
    assert due(actor, "2026-09-28", 5)["due_date"] == "2026-10-10"
    assert due(actor, "2026-09-28", 10)["due_date"] == "2026-10-16"
    assert due(actor, "2026-09-28", 20)["due_date"] == "2026-10-30"


def test_due_across_spring_festival(as_user):
    actor = as_user("window1")
    # Thu Feb 12: Fri Feb 13, Sat Feb 14 (make-up), then Feb 24 after the festival.
    assert due(actor, "2026-02-12", 1)["due_date"] == "2026-02-13"
    assert due(actor, "2026-02-12", 2)["due_date"] == "2026-02-14"
    assert due(actor, "2026-02-12", 3)["due_date"] == "2026-02-24"
    # ... Feb 24-27, Sat Feb 28 (make-up) is the 7th, Mar 2-4 the 8th-10th.
    assert due(actor, "2026-02-12", 7)["due_date"] == "2026-02-28"
    assert due(actor, "2026-02-12", 10)["due_date"] == "2026-03-04"
    assert due(actor, "2026-02-12", 20)["due_date"] == "2026-03-18"


def test_due_around_make_up_days(as_user):
    actor = as_user("window1")
    assert due(actor, "2026-10-09", 1)["due_date"] == "2026-10-10"  # Friday -> make-up Saturday
    assert due(actor, "2026-10-10", 1)["due_date"] == "2026-10-12"  # make-up Saturday -> Monday
    assert due(actor, "2026-09-19", 1)["due_date"] == "2026-09-20"  # Saturday -> make-up Sunday
    assert due(actor, "2026-09-24", 1)["due_date"] == "2026-09-28"  # Thursday -> past Mid-Autumn
    assert due(actor, "2026-10-03", 0) == {
        "from": "2026-10-03",
        "days": 0,
        "due_date": "2026-10-03",
        "due_at": end_of("2026-10-03"),
        "provisional": False,
    }


def test_due_into_an_unloaded_year_is_provisional(as_user):
    actor = as_user("window1")
    assert due(actor, "2026-12-10", 10)["provisional"] is False
    body = due(actor, "2026-12-10", 20)
    assert body["due_date"] == "2027-01-07" and body["provisional"] is True  # weekends only in 2027


def test_due_bad_input_is_422(as_user):
    actor = as_user("window1")
    for query in (
        "from=2026-09-30&days=-1",
        "from=2026-09-30&days=1001",
        "from=2026-09-30&days=abc",
        "from=2026-13-01&days=1",
        "from=yesterday&days=1",
        "days=1",
        "from=2026-09-30",
    ):
        response = actor.get(f"/api/calendar/due?{query}")
        assert response.status_code == 422, query
        assert response.mimetype == "application/problem+json"


def test_cli_due(runner):
    result = runner.invoke(args=["calendar", "due", "2026-09-30", "1"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "2026-10-08 (ends 2026-10-08T23:59:59.999999+08:00)"
    result = runner.invoke(args=["calendar", "due", "2026-02-12", "10"])
    assert result.output.startswith("2026-03-04 ") and "provisional" not in result.output
    result = runner.invoke(args=["calendar", "due", "2026-12-10", "20"])
    assert result.output.startswith("2027-01-07 ") and result.output.strip().endswith("provisional")
    assert runner.invoke(args=["calendar", "due", "2026-02-30", "1"]).exit_code != 0


# --- case deadlines at acceptance --------------------------------------------------------------


def test_case_limits_across_national_day(as_user):
    case = accept_at(as_user, bj(2026, 9, 28, 10))
    assert case["deadlines"] == {
        "statutory_due": end_of("2026-10-30"),
        "promised_due": end_of("2026-10-16"),
        "suspended_days": 0,
        "extended_days": 0,
        "provisional": False,
    }
    assert show(as_user, case["id"])["deadlines"] == case["deadlines"]


def test_case_acceptance_date_is_the_beijing_date(as_user):
    # 00:30 on Sep 30 in Beijing is still Sep 29 in UTC: counting starts on Oct 8, not on Sep 30.
    case = accept_at(as_user, bj(2026, 9, 30, 0, 30))
    assert case["accepted_at"] == "2026-09-30T00:30:00+08:00"
    shown = show(as_user, case["id"])["deadlines"]
    assert shown["promised_due"] == end_of("2026-10-20")
    assert shown["statutory_due"] == end_of("2026-11-03")
    late = accept_at(as_user, bj(2026, 9, 30, 23, 50))
    assert show(as_user, late["id"])["deadlines"]["promised_due"] == end_of("2026-10-20")


def test_case_limits_across_spring_festival(as_user):
    case = accept_at(as_user, bj(2026, 2, 12, 9))
    shown = show(as_user, case["id"])["deadlines"]
    assert shown["promised_due"] == end_of("2026-03-04")
    assert shown["statutory_due"] == end_of("2026-03-18")
    assert shown["provisional"] is False


def test_case_accepted_on_a_make_up_saturday(as_user):
    case = accept_at(as_user, bj(2026, 10, 10, 9))
    shown = show(as_user, case["id"])["deadlines"]
    assert shown["promised_due"] == end_of("2026-10-23")
    assert shown["statutory_due"] == end_of("2026-11-06")


# --- provisional deadlines and loading a year ----------------------------------------------------


def _provisional_cases(as_user) -> dict[str, dict]:
    """Cases accepted late in 2026: two run into 2027 (provisional), one does not, one is withdrawn."""
    cases = {
        "dec10": accept_at(as_user, bj(2026, 12, 10)),
        "dec17": accept_at(as_user, bj(2026, 12, 17)),
        "nov30": accept_at(as_user, bj(2026, 11, 30)),
        "withdrawn": accept_at(as_user, bj(2026, 12, 10, 11)),
    }
    response = as_user("window1").post(f"/api/cases/{cases['withdrawn']['id']}/withdraw", json={"reason": "申请人撤回"})
    assert response.status_code == 200
    before = {k: show(as_user, c["id"])["deadlines"] for k, c in cases.items()}
    # Weekends-only counting in 2027: Fri Jan 1 is a working day.
    assert before["dec10"]["statutory_due"] == end_of("2027-01-07") and before["dec10"]["provisional"] is True
    assert before["dec10"]["promised_due"] == end_of("2026-12-24")
    assert before["dec17"]["statutory_due"] == end_of("2027-01-14") and before["dec17"]["provisional"] is True
    assert before["dec17"]["promised_due"] == end_of("2026-12-31")
    assert before["nov30"]["statutory_due"] == end_of("2026-12-28") and before["nov30"]["provisional"] is False
    assert before["withdrawn"]["provisional"] is True
    return cases


def _assert_recomputed(as_user, cases: dict[str, dict], actor: str) -> None:
    dec10 = show(as_user, cases["dec10"]["id"])["deadlines"]
    assert dec10["provisional"] is False
    # Jan 1 and Jan 4 are off now, Sat Jan 9 is worked: Jan 5-8 are the 16th-19th, Jan 9 the 20th.
    assert dec10["statutory_due"] == end_of("2027-01-09")
    assert dec10["promised_due"] == end_of("2026-12-24")
    dec17 = show(as_user, cases["dec17"]["id"])["deadlines"]
    # Dec 31 is the 10th; Jan 5-8 (14), Sat Jan 9 make-up (15), Jan 11-15 (20).
    assert dec17["provisional"] is False and dec17["statutory_due"] == end_of("2027-01-15")
    for key in ("dec10", "dec17"):
        recomputed = events(as_user, cases[key]["id"], "deadlines_recomputed")
        assert len(recomputed) == 1, key
        payload = recomputed[0]["payload"]
        assert recomputed[0]["actor"] == actor
        assert payload["provisional"] is False
        assert payload["previous"]["statutory_due"] != payload["statutory_due"]
    assert events(as_user, cases["nov30"]["id"], "deadlines_recomputed") == []
    assert events(as_user, cases["withdrawn"]["id"], "deadlines_recomputed") == []
    assert show(as_user, cases["withdrawn"]["id"])["deadlines"]["provisional"] is True


def test_put_a_year_recomputes_provisional_cases(as_user):
    cases = _provisional_cases(as_user)
    clock.freeze(bj(2026, 12, 18, 9))
    response = as_user("admin").put("/api/calendar/2027", json=MADE_UP_2027)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["year"] == 2027 and body["source"] == MADE_UP_2027["source"]
    assert body["days"] == MADE_UP_2027["days"]
    assert body["recomputed_cases"] == 2
    _assert_recomputed(as_user, cases, "admin")
    assert as_user("window1").get("/api/calendar/2027").get_json()["days"] == MADE_UP_2027["days"]
    assert due(as_user("window1"), "2026-12-10", 20) == {
        "from": "2026-12-10",
        "days": 20,
        "due_date": "2027-01-09",
        "due_at": end_of("2027-01-09"),
        "provisional": False,
    }
    # Loading the same year again changes nothing more: no case is provisional any longer.
    again = as_user("admin").put("/api/calendar/2027", json=MADE_UP_2027)
    assert again.status_code == 200 and again.get_json()["recomputed_cases"] == 0
    assert len(events(as_user, cases["dec10"]["id"], "deadlines_recomputed")) == 1


def test_cli_import_recomputes_provisional_cases(as_user, runner, tmp_path):
    cases = _provisional_cases(as_user)
    clock.freeze(bj(2026, 12, 18, 9))
    path = tmp_path / "2027.json"
    path.write_text(json.dumps(MADE_UP_2027, ensure_ascii=False), encoding="utf-8")
    result = runner.invoke(args=["calendar", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "2027: 3 days loaded; 2 cases recomputed"
    _assert_recomputed(as_user, cases, "calendar-import")


def test_cli_import_refuses_a_bad_file(as_user, runner, tmp_path, app):
    _provisional_cases(as_user)
    before = row_counts(app)
    bad = {**MADE_UP_2027, "days": [*MADE_UP_2027["days"], {"date": "2028-01-03", "workday": False}]}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    result = runner.invoke(args=["calendar", "import", str(path)])
    assert result.exit_code != 0
    path.write_text("{not json", encoding="utf-8")
    assert runner.invoke(args=["calendar", "import", str(path)]).exit_code != 0
    assert row_counts(app) == before
    assert as_user("window1").get("/api/calendar/2027").get_json()["days"] == []


def test_put_a_year_is_admin_only(as_user):
    for username in ("window1", "market_leader", "supervisor", "designer"):
        response = as_user(username).put("/api/calendar/2027", json=MADE_UP_2027)
        assert response.status_code == 403, username
        assert response.mimetype == "application/problem+json"
    assert as_user("window1").get("/api/calendar/2027").get_json()["days"] == []


def test_put_a_bad_year_is_422_and_changes_nothing(as_user, app):
    cases = _provisional_cases(as_user)
    admin = as_user("admin")
    day = {"date": "2027-01-01", "workday": False, "name": "元旦"}
    bad_bodies = {
        "date outside the year": {**MADE_UP_2027, "days": [day, {"date": "2026-12-31", "workday": False}]},
        "duplicate date": {**MADE_UP_2027, "days": [day, day]},
        "missing workday flag": {**MADE_UP_2027, "days": [{"date": "2027-01-01", "name": "元旦"}]},
        "workday not a boolean": {**MADE_UP_2027, "days": [{"date": "2027-01-01", "workday": "no"}]},
        "bad date": {**MADE_UP_2027, "days": [{"date": "2027-02-30", "workday": False}]},
        "year mismatch": {**MADE_UP_2027, "year": 2028},
        "no source": {"year": 2027, "days": [day]},
        "no days": {"year": 2027, "source": "x"},
    }
    before = row_counts(app)
    for label, body in bad_bodies.items():
        response = admin.put("/api/calendar/2027", json=body)
        assert response.status_code == 422, (label, response.get_json())
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["errors"], label
    assert row_counts(app) == before
    assert admin.get("/api/calendar/2027").get_json()["days"] == []
    assert show(as_user, cases["dec10"]["id"])["deadlines"]["provisional"] is True
    assert events(as_user, cases["dec10"]["id"], "deadlines_recomputed") == []


def test_loading_a_year_recomputes_provisional_step_limits(as_user):
    """A step's own limit that runs into an unloaded year is provisional too: loading the year moves it."""
    case = accept_at(as_user, bj(2026, 12, 30))
    review = [t for t in case["open_tasks"] if t["name"] == "review"][0]
    reviewer = as_user("market_reviewer1")
    # Weekends only in 2027: Dec 31, Fri Jan 1, Mon Jan 4.
    assert reviewer.get(f"/api/tasks/{review['id']}").get_json()["due_at"] == end_of("2027-01-04")
    assert show(as_user, case["id"])["deadlines"]["promised_due"] == end_of("2027-01-13")
    response = as_user("admin").put("/api/calendar/2027", json=MADE_UP_2027)
    assert response.status_code == 200
    # Jan 1 and Jan 4 are off: Dec 31, Jan 5, Jan 6.
    assert show(as_user, case["id"])["deadlines"]["promised_due"] == end_of("2027-01-14")
    assert as_user("market_reviewer1").get(f"/api/tasks/{review['id']}").get_json()["due_at"] == end_of("2027-01-06")


def test_a_receipt_says_when_its_deadlines_are_provisional(as_user):
    """The 受理通知书 tells the applicant that a due date in a year whose holidays are not yet published
    is provisional (the page used to say so; the issued notice now does)."""
    from tests.documents.helpers import documents_of, html_of

    cases = _provisional_cases(as_user)
    into_2027 = html_of(as_user, documents_of(as_user, cases["dec10"]["id"])[0])
    within_2026 = html_of(as_user, documents_of(as_user, cases["nov30"]["id"])[0])
    assert "为暂定" in into_2027 and "2027年1月7日前" in into_2027
    assert "为暂定" not in within_2026
