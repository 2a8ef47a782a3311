"""AB岗: while A is away, A's claimed task is the backup's and A's group's claimable tasks are offered to
the backup; by the API (an absence already begun) and by the scheduler (clock moved), exactly once."""

from __future__ import annotations

from app import clock
from tests.deadlines.test_scheduler_races import concurrently
from tests.factories import accept, open_tasks
from tests.timekeeping import bj, events, run_pass

A, B = "market_reviewer1", "market_chief"  # B is not in A's group: the offer comes from the absence


def two_review_tasks(as_user) -> tuple[dict, dict]:
    """Two food cases' review tasks in market.review; A holds the first."""
    first, second = (
        {**open_tasks(as_user, cid)[0], "case_id": cid} for cid in (accept(as_user)["id"] for _ in range(2))
    )
    assert as_user(A).post(f"/api/tasks/{first['id']}/claim").status_code == 200
    return first, second


def absence(as_user, by: str, start, end, **extra):
    body = {"from": start.isoformat(), "to": end.isoformat(), "reason": "年休假", **extra}
    return as_user(by).post(f"/api/users/{A}/absences", json=body)


def claimable(as_user, username: str) -> list[dict]:
    return as_user(username).get("/api/tasks?scope=claimable").get_json()["items"]


def assert_stood_in(as_user, held: dict, offered: dict) -> None:
    task = as_user(B).get(f"/api/tasks/{held['id']}").get_json()
    assert task["assignee"] == B and task["state"] == "claimed"
    moved = events(as_user, held["case_id"], "task_reassigned")
    assert len(moved) == 1, moved
    assert moved[0]["payload"] == {"name": "review", "from": A, "to": B, "reason": "AB岗"}
    rows = claimable(as_user, B)
    assert [(r["id"], r["on_behalf_of"]) for r in rows] == [(offered["id"], "张审查")]
    assert claimable(as_user, A) == []
    assert events(as_user, offered["case_id"], "task_reassigned") == []


def test_an_absence_already_begun_takes_effect_in_the_request(as_user):
    clock.freeze(bj(2026, 12, 1, 9))
    held, offered = two_review_tasks(as_user)
    response = absence(as_user, A, bj(2026, 12, 1, 8), bj(2026, 12, 3, 18), backup=B)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["state"] == "active" and response.get_json()["backup"] == B
    assert_stood_in(as_user, held, offered)
    assert as_user(B).post(f"/api/tasks/{offered['id']}/claim").status_code == 200
    told = as_user(B).get("/api/notifications").get_json()
    assert {n["kind"] for n in told["items"]} == {"absence_backup", "task_reassigned"}
    # The absence ends: B keeps what B started, A is offered A's group again.
    clock.freeze(bj(2026, 12, 3, 18, 1))
    assert run_pass(app=as_user(A).client.application)["absences_applied"] == 1
    assert as_user(B).get(f"/api/tasks/{held['id']}").get_json()["assignee"] == B
    assert as_user(B).get(f"/api/tasks/{offered['id']}").get_json()["assignee"] == B
    assert claimable(as_user, B) == []


def test_the_scheduler_starts_an_absence_once_even_with_two_schedulers(app, as_user):
    clock.freeze(bj(2026, 12, 1, 9))
    held, offered = two_review_tasks(as_user)
    response = absence(as_user, "market_leader", bj(2026, 12, 1, 12), bj(2026, 12, 2, 18), backup=B)
    assert response.status_code == 201 and response.get_json()["state"] == "scheduled"
    assert as_user(A).get(f"/api/tasks/{held['id']}").get_json()["assignee"] == A  # not yet
    assert claimable(as_user, B) == []
    clock.freeze(bj(2026, 12, 1, 12, 1))
    results = concurrently(app, 2)
    assert sorted(r["absences_applied"] for r in results if r is not None) in ([1], [0, 1])
    assert run_pass(app)["absences_applied"] == 0
    assert_stood_in(as_user, held, offered)


def test_who_may_record_an_absence_and_what_is_refused(app, as_user):
    clock.freeze(bj(2026, 12, 1, 9))
    start, end = bj(2026, 12, 2, 9), bj(2026, 12, 2, 18)
    assert absence(as_user, "market_reviewer2", start, end).status_code == 403  # a colleague
    assert absence(as_user, "housing_leader", start, end).status_code == 403  # another department's leader
    assert absence(as_user, "admin", end, start).status_code == 422  # ends before it starts
    assert absence(as_user, A, start, end, backup="ghost").status_code == 422
    assert absence(as_user, A, start, end, backup=A).status_code == 422
    ok = absence(as_user, A, start, end)  # the default backup
    assert ok.status_code == 201 and ok.get_json()["backup"] == "market_reviewer2"
    assert (
        as_user("admin")
        .post("/api/users/ghost/absences", json={"from": start.isoformat(), "to": end.isoformat(), "reason": "x"})
        .status_code
        == 404
    )
    log = as_user("auditor").get(f"/api/admin/log?target={A}").get_json()["items"]
    assert log[0]["action"] == "absence_recorded" and log[0]["actor"] == A
    listed = as_user(A).get(f"/api/users/{A}/absences?current=true").get_json()
    assert [a["id"] for a in listed] == [ok.get_json()["id"]]


def test_naive_times_are_refused(as_user):
    body = {"from": "2026-12-02T09:00:00", "to": "2026-12-02T18:00:00", "reason": "x"}
    response = as_user(A).post(f"/api/users/{A}/absences", json=body)
    assert response.status_code == 422 and "from" in response.get_json()["errors"]


def test_a_person_away_cannot_claim_their_groups_tasks_their_backup_can(as_user):
    """While A is away the inbox offers A nothing (above); a claim sent anyway is refused (409) and
    changes nothing; after the absence A claims again."""
    clock.freeze(bj(2026, 12, 1, 9))
    _, offered = two_review_tasks(as_user)
    assert absence(as_user, A, bj(2026, 12, 1, 8), bj(2026, 12, 3, 18), backup=B).status_code == 201
    refused = as_user(A).post(f"/api/tasks/{offered['id']}/claim")
    assert refused.status_code == 409, refused.get_json()
    assert "AB岗" in refused.get_json()["detail"]
    assert as_user(B).get(f"/api/tasks/{offered['id']}").get_json()["state"] == "ready"
    assert events(as_user, offered["case_id"], "task_claimed") == []
    clock.freeze(bj(2026, 12, 3, 18, 1))
    assert as_user(A).post(f"/api/tasks/{offered['id']}/claim").status_code == 200


def _end(as_user, by: str, absence_id: int, username: str = A):
    return as_user(by).post(f"/api/users/{username}/absences/{absence_id}/end")


def test_an_absence_not_begun_is_cancelled_and_never_takes_effect(as_user):
    clock.freeze(bj(2026, 12, 1, 9))
    held, offered = two_review_tasks(as_user)
    recorded = absence(as_user, A, bj(2026, 12, 1, 12), bj(2026, 12, 2, 18), backup=B).get_json()
    assert recorded["state"] == "scheduled"
    assert _end(as_user, "market_reviewer2", recorded["id"]).status_code == 403  # a colleague may not
    assert _end(as_user, "market_leader", recorded["id"], username="market_reviewer2").status_code == 404  # not hers
    cancelled = _end(as_user, A, recorded["id"])
    assert cancelled.status_code == 200, cancelled.get_json()
    assert cancelled.get_json()["state"] == "cancelled" and cancelled.get_json()["to"] == recorded["to"]
    assert _end(as_user, A, recorded["id"]).status_code == 409
    clock.freeze(bj(2026, 12, 1, 12, 1))  # its time comes: nothing happens
    assert run_pass(app=as_user(A).client.application)["absences_applied"] == 0
    assert as_user(A).get(f"/api/tasks/{held['id']}").get_json()["assignee"] == A
    assert claimable(as_user, B) == [] and [t["id"] for t in claimable(as_user, A)] == [offered["id"]]
    assert as_user(A).post(f"/api/tasks/{offered['id']}/claim").status_code == 200  # not away
    assert as_user(A).get(f"/api/users/{A}/absences?current=true").get_json() == []
    told = [n["title"] for n in as_user(B).get("/api/notifications").get_json()["items"]]
    assert any("已撤销" in t for t in told), told


def test_a_running_absence_ended_early_brings_the_person_back_at_once(as_user):
    clock.freeze(bj(2026, 12, 1, 9))
    held, offered = two_review_tasks(as_user)
    recorded = absence(as_user, A, bj(2026, 12, 1, 8), bj(2026, 12, 3, 18), backup=B).get_json()
    assert recorded["state"] == "active"
    assert_stood_in(as_user, held, offered)
    clock.freeze(bj(2026, 12, 1, 15, 30))
    ended = _end(as_user, "market_leader", recorded["id"])  # A's department's leader
    assert ended.status_code == 200, ended.get_json()
    assert ended.get_json()["state"] == "ended" and ended.get_json()["to"].startswith("2026-12-01T15:30")
    assert as_user(B).get(f"/api/tasks/{held['id']}").get_json()["assignee"] == B  # B keeps what moved
    assert claimable(as_user, B) == [] and [t["id"] for t in claimable(as_user, A)] == [offered["id"]]
    assert as_user(A).post(f"/api/tasks/{offered['id']}/claim").status_code == 200
    assert _end(as_user, A, recorded["id"]).status_code == 409
    clock.freeze(bj(2026, 12, 3, 18, 1))  # its planned end: nothing left to apply
    assert run_pass(app=as_user(A).client.application)["absences_applied"] == 0
    log = as_user("admin").get(f"/api/admin/log?target={A}").get_json()["items"]
    assert [e["action"] for e in log][:2] == ["absence_ended", "absence_recorded"], log
    assert log[0]["before"]["state"] == "active" and log[0]["after"]["state"] == "ended"
    assert "ending" not in log[0]["after"] and "ending" not in log[1]["after"]  # the pages' hint is not logged
