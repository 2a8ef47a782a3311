"""A case's clocks through the API: suspension (补正) across National Day, the special procedure (现场核查),
the one extension (延期), and withdrawal (撤回). The clock is frozen and moved, never slept.

Dates used (2026 arrangement): Mon Sep 28 + 10 working days = Fri Oct 16, + 20 = Fri Oct 30 (Oct 1-7 off,
Sat Oct 10 worked). Mon Sep 14 + 10 = Mon Sep 28 (Sun Sep 20 worked, Fri Sep 25 off), + 20 = Fri Oct 16.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from app import clock
from tests.factories import accept
from tests.timekeeping import bj, counts, end_of, events, show

SHANGHAI = ZoneInfo("Asia/Shanghai")


def claim(as_user, task_id: str, user: str) -> None:
    response = as_user(user).post(f"/api/tasks/{task_id}/claim")
    assert response.status_code == 200, response.get_json()


def complete(as_user, task_id: str, user: str, data: dict):
    return as_user(user).post(f"/api/tasks/{task_id}/complete", json={"data": data})


def task_named(as_user, case_id: str, name: str) -> dict:
    tasks = [t for t in show(as_user, case_id)["open_tasks"] if t["name"] == name]
    assert len(tasks) == 1, show(as_user, case_id)["open_tasks"]
    return tasks[0]


def accepted_on_sep_28(as_user) -> dict:
    clock.freeze(bj(2026, 9, 28, 10))
    case = accept(as_user)
    assert case["deadlines"]["promised_due"] == end_of("2026-10-16")
    assert case["deadlines"]["statutory_due"] == end_of("2026-10-30")
    return case


# --- suspension for correction (补正) --------------------------------------------------------------


def test_suspension_across_national_day_adds_the_working_days_between(as_user):
    case = accepted_on_sep_28(as_user)
    review = task_named(as_user, case["id"], "review")
    assert as_user("market_reviewer1").get(f"/api/tasks/{review['id']}").get_json()["due_at"] == end_of("2026-10-08")
    claim(as_user, review["id"], "market_reviewer1")

    clock.freeze(bj(2026, 9, 29, 10))
    response = as_user("window1").post(
        f"/api/cases/{case['id']}/suspend", json={"kind": "correction", "reason": "营业执照复印件不清晰，需补正"}
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "suspended"
    suspended = events(as_user, case["id"], "case_suspended")
    assert len(suspended) == 1 and suspended[0]["actor"] == "window1"
    assert suspended[0]["payload"]["kind"] == "correction" and "补正" in suspended[0]["payload"]["reason"]

    # While suspended, no task can be completed.
    clock.freeze(bj(2026, 10, 2, 10))
    before = len(events(as_user, case["id"]))
    blocked = complete(as_user, review["id"], "market_reviewer1", {"opinion": "同意"})
    assert blocked.status_code == 409 and blocked.mimetype == "application/problem+json"
    assert len(events(as_user, case["id"])) == before

    # Resumed on Fri Oct 9: the working days after Sep 29 up to and including Oct 9 are Sep 30, Oct 8, Oct 9.
    clock.freeze(bj(2026, 10, 9, 15))
    response = as_user("market_reviewer1").post(f"/api/cases/{case['id']}/resume", json={"note": "已补正"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "in_progress"
    assert body["deadlines"] == {
        "statutory_due": end_of("2026-11-04"),  # Oct 30 + 3: Nov 2, 3, 4
        "promised_due": end_of("2026-10-21"),  # Oct 16 + 3: Oct 19, 20, 21
        "suspended_days": 3,
        "extended_days": 0,
        "provisional": False,
    }
    resumed = events(as_user, case["id"], "case_resumed")
    assert len(resumed) == 1 and resumed[0]["payload"]["added_days"] == 3
    assert resumed[0]["payload"]["promised_due"] == end_of("2026-10-21")
    # The open step moved by the same working days: Oct 8 + 3 = Oct 9, Sat Oct 10, Oct 12.
    assert as_user("market_reviewer1").get(f"/api/tasks/{review['id']}").get_json()["due_at"] == end_of("2026-10-12")
    # And the work goes on.
    done = complete(as_user, review["id"], "market_reviewer1", {"opinion": "同意"})
    assert done.status_code == 200, done.get_json()


def test_suspension_resumed_the_same_day_adds_nothing(as_user):
    case = accepted_on_sep_28(as_user)
    clock.freeze(bj(2026, 9, 30, 9))
    assert (
        as_user("window1")
        .post(f"/api/cases/{case['id']}/suspend", json={"kind": "correction", "reason": "补正"})
        .status_code
        == 200
    )
    clock.freeze(bj(2026, 9, 30, 17))
    body = as_user("window1").post(f"/api/cases/{case['id']}/resume", json={}).get_json()
    assert body["deadlines"]["suspended_days"] == 0
    assert body["deadlines"]["promised_due"] == end_of("2026-10-16")


def test_suspension_over_the_holiday_only_adds_nothing(as_user):
    # Suspended on Sep 30, resumed on Oct 7 (still the holiday): no working day passed.
    case = accepted_on_sep_28(as_user)
    clock.freeze(bj(2026, 9, 30, 16))
    as_user("window1").post(f"/api/cases/{case['id']}/suspend", json={"kind": "correction", "reason": "补正"})
    clock.freeze(bj(2026, 10, 7, 10))
    body = as_user("window1").post(f"/api/cases/{case['id']}/resume", json={}).get_json()
    assert body["deadlines"]["suspended_days"] == 0
    assert body["deadlines"]["statutory_due"] == end_of("2026-10-30")


def test_two_suspensions_add_up(as_user):
    case = accepted_on_sep_28(as_user)
    clock.freeze(bj(2026, 9, 29, 10))
    window = as_user("window1")
    window.post(f"/api/cases/{case['id']}/suspend", json={"kind": "correction", "reason": "第一次补正"})
    clock.freeze(bj(2026, 9, 30, 10))
    window = as_user("window1")
    assert window.post(f"/api/cases/{case['id']}/resume", json={}).get_json()["deadlines"]["suspended_days"] == 1
    clock.freeze(bj(2026, 10, 12, 10))
    window = as_user("window1")
    window.post(f"/api/cases/{case['id']}/suspend", json={"kind": "correction", "reason": "第二次补正"})
    clock.freeze(bj(2026, 10, 14, 10))
    window = as_user("window1")
    body = window.post(f"/api/cases/{case['id']}/resume", json={}).get_json()
    assert body["deadlines"]["suspended_days"] == 3  # Sep 30; Oct 13, Oct 14
    assert body["deadlines"]["promised_due"] == end_of("2026-10-21")


def test_resume_when_not_suspended_and_suspend_twice_are_409(as_user, app):
    case = accepted_on_sep_28(as_user)
    window = as_user("window1")
    before = counts(app)
    response = window.post(f"/api/cases/{case['id']}/resume", json={})
    assert response.status_code == 409 and response.mimetype == "application/problem+json"
    assert counts(app) == before
    assert (
        window.post(f"/api/cases/{case['id']}/suspend", json={"kind": "correction", "reason": "补正"}).status_code
        == 200
    )
    before = counts(app)
    second = window.post(f"/api/cases/{case['id']}/suspend", json={"kind": "correction", "reason": "再次补正"})
    assert second.status_code == 409
    assert counts(app) == before
    assert len(events(as_user, case["id"], "case_suspended")) == 1


def test_suspend_permissions_and_input(as_user, app):
    case = accepted_on_sep_28(as_user)
    before = counts(app)
    other_department = as_user("housing_reviewer")
    body = {"kind": "correction", "reason": "补正"}
    assert other_department.post(f"/api/cases/{case['id']}/suspend", json=body).status_code == 403
    assert as_user("designer").post(f"/api/cases/{case['id']}/suspend", json=body).status_code == 403
    assert as_user("window1").post("/api/cases/999999/suspend", json=body).status_code == 404
    window = as_user("window1")
    assert window.post(f"/api/cases/{case['id']}/suspend", json={"kind": "holiday", "reason": "x"}).status_code == 422
    assert window.post(f"/api/cases/{case['id']}/suspend", json={"kind": "correction"}).status_code == 422
    assert window.post(f"/api/cases/{case['id']}/suspend", json={"kind": "correction", "reason": ""}).status_code == 422
    assert counts(app) == before
    assert window.post(f"/api/cases/{case['id']}/suspend", json=body).status_code == 200
    before = counts(app)
    assert other_department.post(f"/api/cases/{case['id']}/resume", json={}).status_code == 403
    assert counts(app) == before
    assert show(as_user, case["id"])["status"] == "suspended"


# --- the special procedure (特别程序: 现场核查) ------------------------------------------------------


def test_special_procedure_stops_the_clocks_and_adds_its_working_days(as_user):
    clock.freeze(bj(2026, 9, 14, 9))
    case = accept(as_user)
    assert case["deadlines"]["promised_due"] == end_of("2026-09-28")
    assert case["deadlines"]["statutory_due"] == end_of("2026-10-16")
    review = task_named(as_user, case["id"], "review")
    claim(as_user, review["id"], "market_reviewer1")

    clock.freeze(bj(2026, 9, 15, 10))
    done = complete(as_user, review["id"], "market_reviewer1", {"opinion": "需现场核查", "needs_inspection": True})
    assert done.status_code == 200, done.get_json()
    shown = show(as_user, case["id"])
    inspect = task_named(as_user, case["id"], "inspect")
    assert inspect["group"] == "market.review"
    assert [t["name"] for t in shown["open_tasks"]] == ["inspect"]
    suspended = events(as_user, case["id"], "case_suspended")
    assert len(suspended) == 1
    assert suspended[0]["task_id"] == inspect["id"]
    assert suspended[0]["payload"]["kind"] == "special_procedure"

    # Completed on Tue Sep 22: Sep 16, 17, 18, Sun Sep 20 (make-up), 21, 22 = 6 working days.
    clock.freeze(bj(2026, 9, 22, 16))
    claim(as_user, inspect["id"], "market_reviewer2")
    done = complete(as_user, inspect["id"], "market_reviewer2", {"opinion": "现场符合要求"})
    assert done.status_code == 200, done.get_json()
    shown = show(as_user, case["id"])
    assert shown["deadlines"]["suspended_days"] == 6
    assert shown["deadlines"]["promised_due"] == end_of("2026-10-12")  # Sep 28 + 6: 29, 30, Oct 8, 9, 10, 12
    assert shown["deadlines"]["statutory_due"] == end_of("2026-10-26")  # Oct 16 + 6: 19-23, 26
    assert [t["name"] for t in shown["open_tasks"]] == ["audit"]
    resumed = events(as_user, case["id"], "case_resumed")
    assert len(resumed) == 1 and resumed[0]["task_id"] == inspect["id"]
    assert resumed[0]["payload"]["added_days"] == 6


def test_without_inspection_the_clocks_run_on(as_user):
    clock.freeze(bj(2026, 9, 14, 9))
    case = accept(as_user)
    review = task_named(as_user, case["id"], "review")
    claim(as_user, review["id"], "market_reviewer1")
    done = complete(as_user, review["id"], "market_reviewer1", {"opinion": "材料齐全", "needs_inspection": False})
    assert done.status_code == 200, done.get_json()
    shown = show(as_user, case["id"])
    assert [t["name"] for t in shown["open_tasks"]] == ["audit"]
    assert events(as_user, case["id"], "case_suspended") == []
    assert shown["deadlines"]["promised_due"] == end_of("2026-09-28")


# --- extension (延期) ------------------------------------------------------------------------------


def test_extension_is_for_leaders_once_with_a_reason(as_user, app):
    case = accepted_on_sep_28(as_user)
    path = f"/api/cases/{case['id']}/extend"
    body = {"reason": "情况复杂，经负责人批准延长十个工作日"}
    before = counts(app)
    for username in ("market_reviewer1", "market_chief", "window1", "housing_leader", "supervisor"):
        response = as_user(username).post(path, json=body)
        assert response.status_code == 403, username
        assert response.mimetype == "application/problem+json"
    assert as_user("market_leader").post(path, json={}).status_code == 422
    assert as_user("market_leader").post(path, json={"reason": ""}).status_code == 422
    assert counts(app) == before

    clock.freeze(bj(2026, 10, 12, 10))
    response = as_user("market_leader").post(path, json=body)
    assert response.status_code == 200, response.get_json()
    deadlines = response.get_json()["deadlines"]
    assert deadlines["extended_days"] == 10
    assert deadlines["statutory_due"] == end_of("2026-11-13")  # Oct 30 + 10 working days
    assert deadlines["promised_due"] == end_of("2026-10-16")  # the promised limit does not move
    extended = events(as_user, case["id"], "case_extended")
    assert len(extended) == 1
    assert extended[0]["actor"] == "market_leader"
    assert extended[0]["payload"]["reason"] == body["reason"] and extended[0]["payload"]["days"] == 10
    assert extended[0]["payload"]["statutory_due"] == end_of("2026-11-13")

    before = counts(app)
    again = as_user("market_leader").post(path, json={"reason": "再次延期"})
    assert again.status_code == 409 and again.mimetype == "application/problem+json"
    assert counts(app) == before
    assert show(as_user, case["id"])["deadlines"]["extended_days"] == 10


def test_extension_and_suspension_add_up(as_user):
    case = accepted_on_sep_28(as_user)
    clock.freeze(bj(2026, 9, 29, 10))
    as_user("window1").post(f"/api/cases/{case['id']}/suspend", json={"kind": "correction", "reason": "补正"})
    clock.freeze(bj(2026, 10, 9, 10))
    extended = as_user("market_leader").post(f"/api/cases/{case['id']}/extend", json={"reason": "延期"})
    assert extended.status_code == 200  # a suspended case may be extended
    resumed = as_user("window1").post(f"/api/cases/{case['id']}/resume", json={}).get_json()["deadlines"]
    assert resumed["suspended_days"] == 3 and resumed["extended_days"] == 10
    assert resumed["statutory_due"] == end_of("2026-11-18")  # 20 + 3 + 10 working days from Sep 28
    assert resumed["promised_due"] == end_of("2026-10-21")


# --- withdrawal (撤回) ------------------------------------------------------------------------------


def test_withdrawal_cancels_open_tasks_once(as_user, app):
    clock.freeze(bj(2026, 9, 28, 10))
    case = accept(as_user)
    review = task_named(as_user, case["id"], "review")
    claim(as_user, review["id"], "market_reviewer1")
    path = f"/api/cases/{case['id']}/withdraw"
    assert as_user("market_reviewer1").post(path, json={"reason": "申请人撤回"}).status_code == 403
    assert as_user("window1").post(path, json={}).status_code == 422

    clock.freeze(bj(2026, 9, 29, 10))
    response = as_user("window2").post(path, json={"reason": "申请人书面申请撤回"})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "withdrawn" and body["open_tasks"] == [] and body["completed_at"]
    task = as_user("market_reviewer1").get(f"/api/tasks/{review['id']}").get_json()
    assert task["state"] == "cancelled"
    cancelled = events(as_user, case["id"], "task_cancelled")
    assert [e["task_id"] for e in cancelled] == [review["id"]]
    withdrawn = events(as_user, case["id"], "case_withdrawn")
    assert len(withdrawn) == 1 and withdrawn[0]["payload"]["reason"] == "申请人书面申请撤回"
    assert as_user("market_reviewer1").get("/api/tasks?scope=mine").get_json()["total"] == 0

    before = counts(app)
    again = as_user("window1").post(path, json={"reason": "再次撤回"})
    assert again.status_code == 409 and again.mimetype == "application/problem+json"
    assert counts(app) == before
    # A withdrawn case can no longer be suspended, resumed or extended.
    assert (
        as_user("window1")
        .post(f"/api/cases/{case['id']}/suspend", json={"kind": "correction", "reason": "x"})
        .status_code
        == 409
    )
    assert as_user("window1").post(f"/api/cases/{case['id']}/resume", json={}).status_code == 409
    assert as_user("market_leader").post(f"/api/cases/{case['id']}/extend", json={"reason": "x"}).status_code == 409
    done = as_user("market_reviewer1").post(f"/api/tasks/{review['id']}/complete", json={"data": {"opinion": "x"}})
    assert done.status_code == 409


def test_a_suspended_case_can_be_withdrawn(as_user):
    case = accepted_on_sep_28(as_user)
    as_user("window1").post(f"/api/cases/{case['id']}/suspend", json={"kind": "correction", "reason": "补正"})
    response = as_user("window1").post(f"/api/cases/{case['id']}/withdraw", json={"reason": "不再申请"})
    assert response.status_code == 200
    assert response.get_json()["status"] == "withdrawn"
    assert as_user("window1").post(f"/api/cases/{case['id']}/resume", json={}).status_code == 409
