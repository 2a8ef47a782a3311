"""电子监察 and 好差评 through the API: the summary per department and matter, the overdue list, and the
applicant's evaluation of a completed case (a bad one opens a follow-up task for the department).

The center (all cases of SC-001, department market; promised 10, statutory 20 working days):
  on_time   accepted Mon Nov 2 2026, suspended Nov 3-4 (1 working day), completed Thu Nov 5: 3 - 1 = 2 days used
  late      accepted Nov 2, completed Thu Nov 19 (promised Nov 16 passed): 13 days used
  overdue   accepted Nov 2, still open on Nov 19: overdue (yellow), its escalation timer fired
  fresh     accepted Nov 19, open: ok
  withdrawn accepted Nov 2, withdrawn Nov 3
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from app import clock
from tests.factories import FOOD_STAFF, accept
from tests.timekeeping import bj, counts, events, run_pass, show

SHANGHAI = ZoneInfo("Asia/Shanghai")
DECISIONS = {
    "decide": {"approved": True, "opinion": "同意许可"},
    "deliver": {"method": "window"},
    "certify": {"certificate_no": "JY13301020000001"},
}


def work(as_user, task: dict, user: str, data: dict) -> None:
    actor = as_user(user)
    claimed = actor.post(f"/api/tasks/{task['id']}/claim")
    assert claimed.status_code == 200, claimed.get_json()
    done = actor.post(f"/api/tasks/{task['id']}/complete", json={"data": data})
    assert done.status_code == 200, done.get_json()


def drive_to_completion(as_user, case_id: str) -> None:
    """Work the main path (review, audit, decide approve, certify, deliver) at the current clock."""
    for _ in range(10):
        tasks = [t for t in show(as_user, case_id)["open_tasks"] if t["name"] != "escalate"]
        if not tasks:
            break
        task = tasks[0]
        work(as_user, task, FOOD_STAFF[task["name"]], DECISIONS.get(task["name"], {"opinion": "符合要求"}))
    shown = show(as_user, case_id)
    assert shown["status"] == "completed" and shown["result"] == "approved", shown


@pytest.fixture
def center(app, as_user) -> dict[str, str]:
    clock.freeze(bj(2026, 11, 2, 10))
    ids = {name: accept(as_user)["id"] for name in ("on_time", "late", "overdue", "withdrawn")}
    clock.freeze(bj(2026, 11, 3, 10))
    window = as_user("window1")
    assert (
        window.post(f"/api/cases/{ids['on_time']}/suspend", json={"kind": "correction", "reason": "补正"}).status_code
        == 200
    )
    assert window.post(f"/api/cases/{ids['withdrawn']}/withdraw", json={"reason": "申请人撤回"}).status_code == 200
    clock.freeze(bj(2026, 11, 4, 10))
    assert as_user("window1").post(f"/api/cases/{ids['on_time']}/resume", json={}).status_code == 200
    clock.freeze(bj(2026, 11, 5, 15))
    drive_to_completion(as_user, ids["on_time"])
    clock.freeze(bj(2026, 11, 19, 11))
    drive_to_completion(as_user, ids["late"])
    ids["fresh"] = accept(as_user)["id"]
    clock.freeze(bj(2026, 11, 19, 12))
    run_pass(app)
    assert show(as_user, ids["overdue"])["warning"] == "overdue"
    assert show(as_user, ids["fresh"])["warning"] == "ok"
    return ids


EXPECTED_FIGURES = {
    "open": 2,
    "completed": 2,
    "withdrawn": 1,
    "on_time": 1,
    "on_time_rate": 0.5,
    "levels": {"ok": 1, "warning": 0, "overdue": 1, "breach": 0},
    "avg_days_used": 7.5,  # (2 + 13) / 2
    "avg_promised_days": 10.0,
    "avg_statutory_days": 20.0,
}


# --- the summary --------------------------------------------------------------------------------


def test_summary_per_department_and_matter(as_user, center):
    for username in ("supervisor", "market_leader", "admin"):
        response = as_user(username).get("/api/supervision/summary")
        assert response.status_code == 200, (username, response.get_json())
        body = response.get_json()
        assert body["by_department"] == [{"key": "market", **EXPECTED_FIGURES}], username
        assert body["by_matter"] == [{"key": "SC-001", **EXPECTED_FIGURES}], username
        assert body["generated_at"] == "2026-11-19T12:00:00+08:00"


def test_summary_leader_sees_only_own_department(as_user, center):
    body = as_user("housing_leader").get("/api/supervision/summary").get_json()
    assert body["by_department"] == [] and body["by_matter"] == []


def test_summary_is_for_supervisors_and_leaders(as_user, center):
    for username in ("market_reviewer1", "market_chief", "window1", "designer", "auditor"):
        response = as_user(username).get("/api/supervision/summary")
        assert response.status_code == 403, username
        assert response.mimetype == "application/problem+json"


def test_summary_since(as_user, center):
    body = as_user("supervisor").get("/api/supervision/summary?since=2026-11-10T00:00:00%2B08:00").get_json()
    [market] = body["by_department"]
    assert market["open"] == 1 and market["completed"] == 0 and market["levels"]["ok"] == 1
    assert market["on_time_rate"] is None and market["avg_days_used"] is None
    assert as_user("supervisor").get("/api/supervision/summary?since=yesterday").status_code == 422


def test_summary_with_nothing_yet(as_user):
    body = as_user("supervisor").get("/api/supervision/summary").get_json()
    assert body["by_department"] == [] and body["by_matter"] == []


# --- the overdue list ---------------------------------------------------------------------------


def test_overdue_list(app, as_user, center):
    for username in ("supervisor", "market_leader"):
        body = as_user(username).get("/api/supervision/overdue").get_json()
        assert body["total"] == 1, username
        assert [c["id"] for c in body["items"]] == [center["overdue"]]
        assert body["items"][0]["warning"] == "overdue"
        assert sorted(t["name"] for t in body["items"][0]["open_tasks"]) == ["escalate", "review"]
    assert as_user("housing_leader").get("/api/supervision/overdue").get_json()["total"] == 0
    assert as_user("market_reviewer1").get("/api/supervision/overdue").status_code == 403
    assert as_user("supervisor").get("/api/supervision/overdue?per_page=0").status_code == 422

    # Past the statutory limit the same case is listed as a breach; the fresh one is overdue too by then.
    clock.freeze(bj(2026, 12, 4, 9))
    run_pass(app)
    body = as_user("supervisor").get("/api/supervision/overdue").get_json()
    by_id = {c["id"]: c["warning"] for c in body["items"]}
    assert by_id == {center["overdue"]: "breach", center["fresh"]: "overdue"}
    assert body["items"][0]["id"] == center["overdue"]  # the most urgent first


# --- evaluation (好差评) ------------------------------------------------------------------------


def test_evaluation_once_per_completed_case(app, as_user, center):
    window = as_user("window1")
    path = f"/api/cases/{center['on_time']}/evaluation"
    response = window.post(path, json={"level": "satisfied", "comment": "办事效率高"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["evaluation"] == "satisfied"
    assert show(as_user, center["on_time"])["evaluation"] == "satisfied"
    recorded = events(as_user, center["on_time"], "evaluation_recorded")
    assert len(recorded) == 1 and recorded[0]["payload"]["label"] == "满意"
    assert recorded[0]["actor"] == "window1"
    # A good evaluation opens nothing.
    assert show(as_user, center["on_time"])["open_tasks"] == []

    before = counts(app)
    again = as_user("window2").post(path, json={"level": "very_satisfied"})
    assert again.status_code == 409 and again.mimetype == "application/problem+json"
    assert counts(app) == before
    assert show(as_user, center["on_time"])["evaluation"] == "satisfied"


def test_evaluation_refusals(app, as_user, center):
    window = as_user("window1")
    before = counts(app)
    assert window.post(f"/api/cases/{center['overdue']}/evaluation", json={"level": "satisfied"}).status_code == 409
    assert window.post(f"/api/cases/{center['withdrawn']}/evaluation", json={"level": "satisfied"}).status_code == 409
    assert window.post("/api/cases/999999/evaluation", json={"level": "satisfied"}).status_code == 404
    late = f"/api/cases/{center['late']}/evaluation"
    for body in (
        {"level": "excellent"},
        {"level": "满意"},
        {"level": ""},
        {},
        {"level": "satisfied", "comment": "长" * 1001},
    ):
        response = window.post(late, json=body)
        assert response.status_code == 422, body
        assert response.mimetype == "application/problem+json"
    for username in ("market_reviewer1", "market_leader", "supervisor"):
        assert as_user(username).post(late, json={"level": "satisfied"}).status_code == 403, username
    assert counts(app) == before
    assert show(as_user, center["late"])["evaluation"] is None


@pytest.mark.parametrize("level", ["very_satisfied", "satisfied", "basically_satisfied"])
def test_good_evaluations_open_no_follow_up(as_user, center, level):
    response = as_user("window1").post(f"/api/cases/{center['late']}/evaluation", json={"level": level})
    assert response.status_code == 200
    assert response.get_json()["open_tasks"] == []


@pytest.mark.parametrize("level", ["dissatisfied", "very_dissatisfied"])
def test_a_bad_evaluation_opens_a_follow_up_for_the_department(app, as_user, center, level):
    clock.freeze(bj(2026, 11, 19, 14))
    response = as_user("window1").post(
        f"/api/cases/{center['late']}/evaluation", json={"level": level, "comment": "等待时间太长"}
    )
    assert response.status_code == 200, response.get_json()
    [follow_up] = response.get_json()["open_tasks"]
    assert follow_up["group"] == "market.review" and follow_up["state"] == "ready"
    assert show(as_user, center["late"])["status"] == "completed"

    reviewer = as_user("market_reviewer2")
    claimable = reviewer.get("/api/tasks?scope=claimable").get_json()["items"]
    assert follow_up["id"] in [t["id"] for t in claimable]
    detail = reviewer.get(f"/api/tasks/{follow_up['id']}").get_json()
    # Its own limit: 5 working days from Thu Nov 19 -> Nov 20, 23, 24, 25, 26.
    assert detail["due_at"] == "2026-11-26T23:59:59.999999+08:00"
    assert as_user("housing_reviewer").post(f"/api/tasks/{follow_up['id']}/claim").status_code == 403
    ready = [e for e in events(as_user, center["late"], "task_ready") if e["task_id"] == follow_up["id"]]
    assert len(ready) == 1

    # Warned like any step with a limit.
    clock.freeze(bj(2026, 11, 27, 9))
    run_pass(app)
    run_pass(app)
    warned = [e for e in events(as_user, center["late"], "warning_changed") if e["task_id"] == follow_up["id"]]
    assert [e["payload"]["level"] for e in warned] == ["overdue"]

    work(as_user, follow_up, "market_reviewer2", {"opinion": "已回访申请人，说明原因并改进"})
    task = as_user("market_reviewer2").get(f"/api/tasks/{follow_up['id']}").get_json()
    assert task["state"] == "completed"
    assert show(as_user, center["late"])["open_tasks"] == []
    completed = [e for e in events(as_user, center["late"], "task_completed") if e["task_id"] == follow_up["id"]]
    assert len(completed) == 1 and completed[0]["actor"] == "market_reviewer2"
    assert show(as_user, center["late"])["status"] == "completed"


def test_a_follow_up_due_in_an_unloaded_year_is_recomputed_when_the_year_is_loaded(as_user):
    """The follow-up's own limit is a deadline like any other: weekends-only in 2027 until 2027 is loaded."""
    clock.freeze(bj(2026, 12, 14, 10))
    case = accept(as_user)["id"]
    clock.freeze(bj(2026, 12, 28, 10))
    drive_to_completion(as_user, case)
    clock.freeze(bj(2026, 12, 28, 14))
    response = as_user("window1").post(f"/api/cases/{case}/evaluation", json={"level": "dissatisfied"})
    assert response.status_code == 200, response.get_json()
    [follow_up] = response.get_json()["open_tasks"]
    reviewer = as_user("market_reviewer1")
    # Dec 29, 30, 31, Fri Jan 1 (2027 unloaded: a working day), Mon Jan 4.
    assert reviewer.get(f"/api/tasks/{follow_up['id']}").get_json()["due_at"] == "2027-01-04T23:59:59.999999+08:00"
    year = {
        "year": 2027,
        "source": "测试用安排 made-up",
        "days": [
            {"date": "2027-01-01", "workday": False, "name": "元旦"},
            {"date": "2027-01-04", "workday": False, "name": "元旦调休"},
        ],
    }
    assert as_user("admin").put("/api/calendar/2027", json=year).status_code == 200
    # Jan 1 and Jan 4 are off now: Dec 29, 30, 31, Jan 5, Jan 6.
    due = as_user("market_reviewer1").get(f"/api/tasks/{follow_up['id']}").get_json()["due_at"]
    assert due == "2027-01-06T23:59:59.999999+08:00"
