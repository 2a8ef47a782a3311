"""Reassignment by a leader of the task's department (or an admin); the people concerned are told."""

from __future__ import annotations

from tests.conftest import row_counts
from tests.factories import accept, open_tasks
from tests.timekeeping import events


def review_task(as_user) -> dict:
    case_id = accept(as_user)["id"]
    return {**open_tasks(as_user, case_id)[0], "case_id": case_id}


def reassign(as_user, by: str, task: dict, to: str, reason: str = "人员调整"):
    return as_user(by).post(f"/api/tasks/{task['id']}/reassign", json={"to": to, "reason": reason})


def test_a_leader_of_another_department_is_refused_and_nothing_is_written(app, as_user):
    task = review_task(as_user)
    actors = [as_user(u) for u in ("housing_leader", "market_reviewer2", "window1")]
    before = row_counts(app)
    for actor in actors:
        response = actor.post(f"/api/tasks/{task['id']}/reassign", json={"to": "market_reviewer2", "reason": "x"})
        assert response.status_code == 403, response.get_json()
    assert row_counts(app) == before


def test_the_department_leader_moves_a_claimed_task_and_both_are_told(as_user):
    task = review_task(as_user)
    assert as_user("market_reviewer1").post(f"/api/tasks/{task['id']}/claim").status_code == 200
    response = reassign(as_user, "market_leader", task, "market_reviewer2")
    assert response.status_code == 200 and response.get_json()["assignee"] == "market_reviewer2"
    moved = events(as_user, task["case_id"], "task_reassigned")
    assert [(e["actor"], e["payload"]["from"], e["payload"]["to"], e["payload"]["reason"]) for e in moved] == [
        ("market_leader", "market_reviewer1", "market_reviewer2", "人员调整")
    ]
    new_holder = as_user("market_reviewer2").get("/api/notifications?unread=true").get_json()
    old_holder = as_user("market_reviewer1").get("/api/notifications?unread=true").get_json()
    assert new_holder["unread"] == 1 and new_holder["items"][0]["kind"] == "task_reassigned"
    assert new_holder["items"][0]["task_id"] == task["id"]
    assert old_holder["unread"] == 1 and "改派给 market_reviewer2" in old_holder["items"][0]["title"]
    # Read: the unread count falls, the item stays listed.
    note = new_holder["items"][0]["id"]
    assert as_user("market_reviewer2").post(f"/api/notifications/{note}/read").status_code == 200
    after = as_user("market_reviewer2").get("/api/notifications").get_json()
    assert after["unread"] == 0 and after["items"][0]["read_at"] is not None
    assert as_user("market_reviewer1").post(f"/api/notifications/{note}/read").status_code == 404
    # The new holder works it.
    done = as_user("market_reviewer2").post(f"/api/tasks/{task['id']}/complete", json={"data": {"opinion": "同意"}})
    assert done.status_code == 200, done.get_json()


def test_an_admin_moves_an_unclaimed_task_and_refusals(as_user):
    task = review_task(as_user)
    assert reassign(as_user, "admin", task, "window1").status_code == 422  # not in the task's group
    assert reassign(as_user, "admin", task, "ghost").status_code == 422
    response = reassign(as_user, "admin", task, "market_reviewer1")
    assert response.status_code == 200 and response.get_json()["state"] == "claimed"
    done = as_user("market_reviewer1").post(f"/api/tasks/{task['id']}/complete", json={"data": {"opinion": "同意"}})
    assert done.status_code == 200
    assert reassign(as_user, "market_leader", task, "market_reviewer2").status_code == 409  # done


def test_delegation_tells_the_colleague(as_user):
    task = review_task(as_user)
    assert as_user("market_reviewer1").post(f"/api/tasks/{task['id']}/claim").status_code == 200
    body = {"to": "market_reviewer2", "reason": "出差"}
    assert as_user("market_reviewer1").post(f"/api/tasks/{task['id']}/delegate", json=body).status_code == 200
    told = as_user("market_reviewer2").get("/api/notifications").get_json()["items"]
    assert [n["kind"] for n in told] == ["task_delegated"] and "出差" in told[0]["title"]
