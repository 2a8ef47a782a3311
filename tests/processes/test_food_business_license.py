"""Scenario tests of bpmn/food_business_license.bpmn (食品经营许可), every path through the API,
with the workflow saved and reloaded between steps (the engine-level check in tests/engine)."""

import pytest

from tests.factories import FOOD_STAFF, accept, open_tasks, work

OPINION = {"opinion": "材料齐全，符合要求"}


def _drive(as_user, case_id: str, decisions: dict) -> list[str]:
    """Work every open task in turn until none is left; returns the element ids met, in order."""
    path = []
    while tasks := open_tasks(as_user, case_id):
        assert len(tasks) == 1, tasks
        task = tasks[0]
        path.append(task["name"])
        work(as_user, task, decisions.get(task["name"], OPINION), user=FOOD_STAFF[task["name"]])
    return path


def test_approve_path(as_user):
    case = accept(as_user)
    assert case["status"] == "in_progress"
    assert [t["name"] for t in case["open_tasks"]] == ["review"]
    assert case["open_tasks"][0]["group"] == "market.review"
    path = _drive(as_user, case["id"], {"decide": {"approved": True, "opinion": "同意"}})
    assert path == ["review", "audit", "decide", "certify", "deliver"]
    final = as_user("auditor").get(f"/api/cases/{case['id']}").get_json()
    assert final["status"] == "completed" and final["result"] == "approved" and final["completed_at"]


def test_reject_path(as_user):
    case = accept(as_user)
    path = _drive(as_user, case["id"], {"decide": {"approved": False, "opinion": "经营场所不符合要求"}})
    assert path == ["review", "audit", "decide", "notify_refusal"]
    final = as_user("auditor").get(f"/api/cases/{case['id']}").get_json()
    assert final["status"] == "completed" and final["result"] == "rejected"


@pytest.mark.parametrize("approved", [True, False])
def test_every_step_is_audited_in_order(as_user, approved):
    case = accept(as_user)
    _drive(as_user, case["id"], {"decide": {"approved": approved, "opinion": "理由"}})
    events = as_user("auditor").get(f"/api/cases/{case['id']}/events").get_json()["items"]
    types = [e["type"] for e in events]
    # A rejection is filed (否定报备) as the case completes.
    assert types[0] == "case_accepted" and types[-1] == ("case_completed" if approved else "case_filed")
    assert types.count("case_completed") == 1 and types.count("case_filed") == (0 if approved else 1)
    steps = 5 if approved else 4
    assert types.count("task_ready") == types.count("task_claimed") == types.count("task_completed") == steps
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    decided = next(e for e in events if e["type"] == "task_completed" and e["payload"]["name"] == "decide")
    assert decided["actor"] == "market_leader"
    assert decided["payload"]["data"]["approved"] is approved
    completed = next(e for e in events if e["type"] == "case_completed")
    assert completed["payload"]["result"] == ("approved" if approved else "rejected")
