"""The scheduler's pass (app.deadlines.scheduler.run_once and `flask scheduler run-once`) as time moves:
warnings raised once each, per case and per step, none while the clocks stand still, a three-day
outage caught up in one pass, and the food license's boundary timer at promised_due() (督办).

Cases of SC-001 (promised 10, statutory 20 working days) accepted on Mon Nov 2 2026 at 10:00 Beijing:
the warning starts Mon Nov 16 00:00, promised due Nov 16 23:59:59.999999, statutory due Mon Nov 30;
the review step (time_limit 3) is due Thu Nov 5, warned from Nov 5 00:00.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from app import clock
from tests.factories import FOOD_REQUIRED, accept, application
from tests.timekeeping import bj, end_of, events, run_pass, show

SHANGHAI = ZoneInfo("Asia/Shanghai")


def case_levels(as_user, case_id: str) -> list[str]:
    """The levels of the case-scope warning_changed events, in order."""
    return [e["payload"]["level"] for e in events(as_user, case_id, "warning_changed") if e["task_id"] is None]


def task_levels(as_user, case_id: str, task_id: str) -> list[str]:
    return [e["payload"]["level"] for e in events(as_user, case_id, "warning_changed") if e["task_id"] == task_id]


def open_names(as_user, case_id: str) -> list[str]:
    return sorted(t["name"] for t in show(as_user, case_id)["open_tasks"])


def task_named(as_user, case_id: str, name: str) -> dict:
    tasks = [t for t in show(as_user, case_id)["open_tasks"] if t["name"] == name]
    assert len(tasks) == 1, show(as_user, case_id)["open_tasks"]
    return tasks[0]


def work(as_user, task_id: str, user: str, data: dict) -> None:
    actor = as_user(user)
    assert actor.post(f"/api/tasks/{task_id}/claim").status_code == 200
    done = actor.post(f"/api/tasks/{task_id}/complete", json={"data": data})
    assert done.status_code == 200, done.get_json()


def accept_at(as_user, at: datetime) -> dict:
    clock.freeze(at)
    return accept(as_user)


def accepted_nov_2(as_user) -> dict:
    case = accept_at(as_user, bj(2026, 11, 2, 10))
    assert case["deadlines"]["promised_due"] == end_of("2026-11-16")
    assert case["deadlines"]["statutory_due"] == end_of("2026-11-30")
    return case


# --- case warnings ------------------------------------------------------------------------------


def test_case_warnings_are_raised_once_each_as_time_moves(app, as_user):
    case = accepted_nov_2(as_user)

    clock.freeze(bj(2026, 11, 13, 18))  # Friday before the last working day
    run_pass(app)
    assert case_levels(as_user, case["id"]) == [] and show(as_user, case["id"])["warning"] == "ok"

    clock.freeze(bj(2026, 11, 16, 8))  # the last working day of the promised limit: warning
    run_pass(app)
    run_pass(app)
    assert case_levels(as_user, case["id"]) == ["warning"]
    assert show(as_user, case["id"])["warning"] == "warning"
    warned = [e for e in events(as_user, case["id"], "warning_changed") if e["task_id"] is None][0]
    assert warned["actor"] == "system" and warned["at"] == "2026-11-16T08:00:00+08:00"

    clock.freeze(bj(2026, 11, 16, 23, 59))  # still within the promised limit
    run_pass(app)
    assert case_levels(as_user, case["id"]) == ["warning"]

    clock.freeze(bj(2026, 11, 17, 8))  # past promised: overdue (黄牌)
    run_pass(app)
    run_pass(app)
    assert case_levels(as_user, case["id"]) == ["warning", "overdue"]
    assert show(as_user, case["id"])["warning"] == "overdue"

    clock.freeze(bj(2026, 11, 30, 23))  # the statutory limit's last day: still overdue
    run_pass(app)
    assert case_levels(as_user, case["id"]) == ["warning", "overdue"]

    clock.freeze(bj(2026, 12, 1, 8))  # past statutory: breach (红牌)
    run_pass(app)
    run_pass(app)
    assert case_levels(as_user, case["id"]) == ["warning", "overdue", "breach"]
    assert show(as_user, case["id"])["warning"] == "breach"
    listed = as_user("supervisor").get("/api/cases?warning=breach").get_json()
    assert [c["id"] for c in listed["items"]] == [case["id"]]

    clock.freeze(bj(2026, 12, 20, 8))
    run_pass(app)
    assert case_levels(as_user, case["id"]) == ["warning", "overdue", "breach"]


def test_step_warnings_for_the_review_time_limit(app, as_user):
    case = accepted_nov_2(as_user)
    review = task_named(as_user, case["id"], "review")
    reviewer = as_user("market_reviewer1")
    assert reviewer.get(f"/api/tasks/{review['id']}").get_json()["due_at"] == end_of("2026-11-05")

    clock.freeze(bj(2026, 11, 4, 17))
    run_pass(app)
    assert task_levels(as_user, case["id"], review["id"]) == []

    clock.freeze(bj(2026, 11, 5, 8))  # the step's last working day
    run_pass(app)
    run_pass(app)
    assert task_levels(as_user, case["id"], review["id"]) == ["warning"]
    assert as_user("market_reviewer1").get(f"/api/tasks/{review['id']}").get_json()["warning"] == "warning"
    step_event = [e for e in events(as_user, case["id"], "warning_changed") if e["task_id"] == review["id"]][0]
    assert step_event["payload"]["scope"] == "task" and step_event["payload"]["name"] == "review"

    clock.freeze(bj(2026, 11, 6, 8))  # past the step's limit
    run_pass(app)
    run_pass(app)
    assert task_levels(as_user, case["id"], review["id"]) == ["warning", "overdue"]
    assert as_user("market_reviewer1").get(f"/api/tasks/{review['id']}").get_json()["warning"] == "overdue"
    # The case itself is well within its limits.
    assert case_levels(as_user, case["id"]) == [] and show(as_user, case["id"])["warning"] == "ok"

    # A finished step is warned no more; the next step (no limit of its own) is never warned.
    work(as_user, review["id"], "market_reviewer1", {"opinion": "同意"})
    clock.freeze(bj(2026, 11, 12, 8))
    run_pass(app)
    assert task_levels(as_user, case["id"], review["id"]) == ["warning", "overdue"]
    audit = task_named(as_user, case["id"], "audit")
    assert task_levels(as_user, case["id"], audit["id"]) == []


def test_the_supplement_of_a_deferred_material_has_its_own_limit(app, as_user):
    """容缺受理: accepted without 食品安全管理制度文本; the supplement step is due in 5 working days."""
    clock.freeze(bj(2026, 11, 2, 10))
    body = application(materials=[m for m in FOOD_REQUIRED if m != "食品安全管理制度文本"])
    case = accept(as_user, body)
    supplement = task_named(as_user, case["id"], "supplement")
    assert supplement["group"] == "center.window"
    detail = as_user("window1").get(f"/api/tasks/{supplement['id']}").get_json()
    assert detail["due_at"] == end_of("2026-11-09")  # Nov 3, 4, 5, 6, 9

    clock.freeze(bj(2026, 11, 9, 8))
    run_pass(app)
    run_pass(app)
    assert task_levels(as_user, case["id"], supplement["id"]) == ["warning"]
    clock.freeze(bj(2026, 11, 10, 8))
    run_pass(app)
    run_pass(app)
    assert task_levels(as_user, case["id"], supplement["id"]) == ["warning", "overdue"]
    # Received late, the step closes and is warned no more.
    work(as_user, supplement["id"], "window1", {"materials": ["食品安全管理制度文本"]})
    clock.freeze(bj(2026, 11, 20, 8))
    run_pass(app)
    assert task_levels(as_user, case["id"], supplement["id"]) == ["warning", "overdue"]


def test_a_suspended_case_gets_no_warning_while_its_clocks_stand_still(app, as_user):
    case = accepted_nov_2(as_user)
    clock.freeze(bj(2026, 11, 3, 10))
    response = as_user("window1").post(
        f"/api/cases/{case['id']}/suspend", json={"kind": "correction", "reason": "补正材料"}
    )
    assert response.status_code == 200
    for day in (5, 16, 17):
        clock.freeze(bj(2026, 11, day, 9))
        run_pass(app)
    clock.freeze(bj(2026, 12, 2, 9))  # past the original statutory limit
    run_pass(app)
    assert events(as_user, case["id"], "warning_changed") == []
    assert events(as_user, case["id"], "timer_fired") == []
    assert show(as_user, case["id"])["warning"] == "ok"
    assert open_names(as_user, case["id"]) == ["review"]

    # Resumed on Dec 2: Nov 4 .. Dec 2 are 21 working days; promised moves to Dec 15, statutory to Dec 29.
    clock.freeze(bj(2026, 12, 2, 10))
    body = as_user("window1").post(f"/api/cases/{case['id']}/resume", json={}).get_json()
    assert body["deadlines"]["suspended_days"] == 21
    assert body["deadlines"]["promised_due"] == end_of("2026-12-15")
    assert body["deadlines"]["statutory_due"] == end_of("2026-12-29")
    run_pass(app)
    assert case_levels(as_user, case["id"]) == [] and show(as_user, case["id"])["warning"] == "ok"
    clock.freeze(bj(2026, 12, 15, 9))
    run_pass(app)
    assert case_levels(as_user, case["id"]) == ["warning"]


def test_a_special_procedure_gets_no_warning_while_it_runs(app, as_user):
    case = accepted_nov_2(as_user)
    clock.freeze(bj(2026, 11, 3, 10))
    review = task_named(as_user, case["id"], "review")
    work(as_user, review["id"], "market_reviewer1", {"opinion": "需现场核查", "needs_inspection": True})
    assert open_names(as_user, case["id"]) == ["inspect"]
    assert show(as_user, case["id"])["status"] == "in_progress"
    clock.freeze(bj(2026, 12, 2, 9))  # past the original promised and statutory limits
    run_pass(app)
    assert events(as_user, case["id"], "warning_changed") == []
    assert show(as_user, case["id"])["warning"] == "ok"


def test_withdrawn_and_completed_steps_get_nothing(app, as_user):
    case = accepted_nov_2(as_user)
    assert as_user("window1").post(f"/api/cases/{case['id']}/withdraw", json={"reason": "撤回"}).status_code == 200
    clock.freeze(bj(2026, 12, 2, 9))
    run_pass(app)
    assert events(as_user, case["id"], "warning_changed") == []
    assert events(as_user, case["id"], "timer_fired") == []


# --- the CLI ------------------------------------------------------------------------------------


def test_cli_run_once_prints_counts(app, as_user, runner):
    case = accepted_nov_2(as_user)
    clock.freeze(bj(2026, 11, 17, 8))  # the review's step limit and the promised limit have passed
    result = runner.invoke(args=["scheduler", "run-once"])
    assert result.exit_code == 0, result.output
    counts = dict(re.findall(r"(\w+)=(\d+)", result.output))
    assert counts == {"timers_fired": "1", "case_warnings": "1", "task_warnings": "1", "absences_applied": "0"}, (
        result.output
    )
    assert show(as_user, case["id"])["warning"] == "overdue"
    again = runner.invoke(args=["scheduler", "run-once"])
    assert again.exit_code == 0, again.output
    assert dict(re.findall(r"(\w+)=(\d+)", again.output)) == {
        "timers_fired": "0",
        "case_warnings": "0",
        "task_warnings": "0",
        "absences_applied": "0",
    }


# --- a three-day outage -------------------------------------------------------------------------


def test_a_three_day_outage_is_caught_up_in_one_pass(app, as_user):
    # A: Oct 19 -> promised Nov 2, statutory Mon Nov 16.   B1, B2: Nov 2 -> promised Nov 16, statutory Nov 30.
    # C: Tue Nov 3 -> promised Tue Nov 17 (warning from Nov 17 00:00).   D: Nov 16 -> promised Nov 30.
    a = accept_at(as_user, bj(2026, 10, 19, 10))
    b1 = accept_at(as_user, bj(2026, 11, 2, 9))
    b2 = accept_at(as_user, bj(2026, 11, 2, 15))
    c = accept_at(as_user, bj(2026, 11, 3, 10))
    clock.freeze(bj(2026, 11, 14, 12))  # Saturday noon: the last pass before the outage
    assert run_pass(app) is not None
    assert [show(as_user, x["id"])["warning"] for x in (a, b1, b2, c)] == ["overdue", "ok", "ok", "ok"]
    assert len(events(as_user, a["id"], "timer_fired")) == 1  # A's escalation fell due on Nov 2
    d = accept_at(as_user, bj(2026, 11, 14, 12))
    before = {x["id"]: len(events(as_user, x["id"])) for x in (a, b1, b2, c, d)}

    # Nothing runs from Saturday noon to Tuesday noon; then one pass.
    clock.freeze(bj(2026, 11, 17, 12))
    result = run_pass(app)
    assert result is not None
    assert result["timers_fired"] == 2  # B1 and B2 (Nov 16 23:59:59.999999)
    assert result["case_warnings"] == 4  # A breach, B1 and B2 overdue, C warning
    assert show(as_user, a["id"])["warning"] == "breach"
    assert show(as_user, b1["id"])["warning"] == "overdue" and show(as_user, b2["id"])["warning"] == "overdue"
    assert show(as_user, c["id"])["warning"] == "warning"
    assert show(as_user, d["id"])["warning"] == "ok"
    for x in (b1, b2):
        assert len(events(as_user, x["id"], "timer_fired")) == 1
        assert open_names(as_user, x["id"]) == ["escalate", "review"]
    assert events(as_user, c["id"], "timer_fired") == []  # C's falls due tonight
    for x, level in ((a, "breach"), (b1, "overdue"), (b2, "overdue"), (c, "warning")):
        levels = case_levels(as_user, x["id"])
        assert levels[-1] == level and len(levels) == len(set(levels)), (x["id"], levels)

    after = {x["id"]: len(events(as_user, x["id"])) for x in (a, b1, b2, c, d)}
    assert after[d["id"]] == before[d["id"]]
    # The second pass finds nothing left to do.
    assert run_pass(app) == {"timers_fired": 0, "case_warnings": 0, "task_warnings": 0, "absences_applied": 0}
    assert {x["id"]: len(events(as_user, x["id"])) for x in (a, b1, b2, c, d)} == after


# --- the boundary timer at promised_due() --------------------------------------------------------


def test_boundary_timer_fires_at_the_working_day_deadline(app, as_user):
    case = accepted_nov_2(as_user)
    review = task_named(as_user, case["id"], "review")

    clock.freeze(bj(2026, 11, 16, 23, 59, 59))  # a moment before the promised limit ends
    run_pass(app)
    assert events(as_user, case["id"], "timer_fired") == []
    assert open_names(as_user, case["id"]) == ["review"]

    clock.freeze(bj(2026, 11, 17, 0, 0, 1))
    result = run_pass(app)
    assert result is not None and result["timers_fired"] == 1
    fired = events(as_user, case["id"], "timer_fired")
    assert len(fired) == 1 and fired[0]["actor"] == "system"
    assert fired[0]["payload"]["elements"] == ["review_overdue"]
    escalate = task_named(as_user, case["id"], "escalate")
    assert escalate["group"] == "market.leader"
    # Non-interrupting: the review stays open, in the same hands.
    assert task_named(as_user, case["id"], "review")["id"] == review["id"]
    assert show(as_user, case["id"])["status"] == "in_progress"
    claimable = as_user("market_leader").get("/api/tasks?scope=claimable").get_json()
    assert [t["name"] for t in claimable["items"]] == ["escalate"]

    seen = len(events(as_user, case["id"]))
    clock.freeze(bj(2026, 11, 18, 9))
    result = run_pass(app)
    assert result is not None and result["timers_fired"] == 0
    assert len(events(as_user, case["id"], "timer_fired")) == 1
    assert len([e for e in events(as_user, case["id"]) if e["type"] == "task_ready"]) == 2
    assert len(events(as_user, case["id"])) == seen

    # The leader answers the escalation; the case goes on with its review.
    work(as_user, escalate["id"], "market_leader", {"opinion": "请尽快办结"})
    assert open_names(as_user, case["id"]) == ["review"]
    assert show(as_user, case["id"])["status"] == "in_progress"


def test_no_escalation_when_the_review_is_done_in_time(app, as_user):
    case = accepted_nov_2(as_user)
    clock.freeze(bj(2026, 11, 4, 10))
    work(as_user, task_named(as_user, case["id"], "review")["id"], "market_reviewer1", {"opinion": "同意"})
    clock.freeze(bj(2026, 11, 17, 9))
    run_pass(app)
    assert events(as_user, case["id"], "timer_fired") == []
    assert open_names(as_user, case["id"]) == ["audit"]


def test_the_escalation_timer_moves_with_a_suspension(app, as_user):
    """promised_due() "moves with suspensions" (app/deadlines/functions.py): so must the timer built on it."""
    case = accepted_nov_2(as_user)
    clock.freeze(bj(2026, 11, 3, 10))
    as_user("window1").post(f"/api/cases/{case['id']}/suspend", json={"kind": "correction", "reason": "补正"})
    clock.freeze(bj(2026, 11, 6, 10))
    body = as_user("window1").post(f"/api/cases/{case['id']}/resume", json={}).get_json()
    assert body["deadlines"]["suspended_days"] == 3  # Nov 4, 5, 6
    assert body["deadlines"]["promised_due"] == end_of("2026-11-19")

    clock.freeze(bj(2026, 11, 17, 9))  # past the original promised limit, within the moved one
    run_pass(app)
    assert events(as_user, case["id"], "timer_fired") == []
    assert open_names(as_user, case["id"]) == ["review"]

    clock.freeze(bj(2026, 11, 20, 0, 0, 1))
    run_pass(app)
    assert len(events(as_user, case["id"], "timer_fired")) == 1
    assert open_names(as_user, case["id"]) == ["escalate", "review"]


def test_the_escalation_timer_follows_a_loaded_calendar(app, as_user):
    """A case accepted on Dec 30 2026 waits on a provisional promised_due() (Jan 13 2027, weekends only).
    Loading 2027 with Saturday Jan 2 worked brings it a day earlier: the timer must fire on time."""
    case = accept_at(as_user, bj(2026, 12, 30, 10))
    assert case["deadlines"]["promised_due"] == end_of("2027-01-13")
    assert case["deadlines"]["provisional"] is True
    clock.freeze(bj(2026, 12, 31, 10))
    year = {"year": 2027, "source": "made-up", "days": [{"date": "2027-01-02", "workday": True, "name": "调休上班"}]}
    assert as_user("admin").put("/api/calendar/2027", json=year).status_code == 200
    assert show(as_user, case["id"])["deadlines"]["promised_due"] == end_of("2027-01-12")

    clock.freeze(bj(2027, 1, 13, 0, 0, 1))  # past the new promised limit, before the provisional one
    run_pass(app)
    assert len(events(as_user, case["id"], "timer_fired")) == 1
    assert open_names(as_user, case["id"]) == ["escalate", "review"]
