"""Claim, unclaim, delegate, complete and the inbox, through the API."""

from tests.conftest import row_counts
from tests.factories import accept, work


def _first_task(as_user):
    case = accept(as_user)
    return case, case["open_tasks"][0]


def test_inbox_scopes(as_user):
    case, task = _first_task(as_user)
    reviewer = as_user("market_reviewer1")
    claimable = reviewer.get("/api/tasks?scope=claimable").get_json()
    assert claimable["total"] == 1 and claimable["items"][0]["id"] == task["id"]
    assert claimable["items"][0]["case_id"] == case["id"] and claimable["items"][0]["state"] == "ready"
    assert reviewer.get("/api/tasks?scope=mine").get_json()["total"] == 0
    assert as_user("housing_reviewer").get("/api/tasks?scope=claimable").get_json()["total"] == 0
    reviewer.post(f"/api/tasks/{task['id']}/claim")
    assert reviewer.get("/api/tasks?scope=claimable").get_json()["total"] == 0
    mine = reviewer.get("/api/tasks?scope=mine").get_json()
    assert mine["total"] == 1 and mine["items"][0]["assignee"] == "market_reviewer1"
    assert as_user("market_reviewer2").get("/api/tasks?scope=claimable").get_json()["total"] == 0
    assert reviewer.get("/api/tasks?scope=everything").status_code == 422


def test_task_detail_has_form_fields_and_case_summary(as_user):
    case, task = _first_task(as_user)
    detail = as_user("market_reviewer1").get(f"/api/tasks/{task['id']}").get_json()
    assert detail["title"] == "承办人审查" and detail["form"] == "declared"
    assert detail["fields"] == [
        {"name": "opinion", "label": "办理意见", "type": "text", "required": False, "max_length": 2000},
        {"name": "needs_inspection", "label": "是否需要现场核查", "type": "boolean", "required": False}
        | {"default": "false"},
    ]
    assert detail["case"]["number"] == case["number"]
    assert as_user("housing_reviewer").get(f"/api/tasks/{task['id']}").status_code == 403


def test_other_group_cannot_claim_or_complete(as_user, app):
    _, task = _first_task(as_user)
    outsider = as_user("housing_reviewer")
    before = row_counts(app)
    assert outsider.post(f"/api/tasks/{task['id']}/claim").status_code == 403
    assert outsider.post(f"/api/tasks/{task['id']}/complete", json={"data": {}}).status_code == 403
    assert row_counts(app) == before


def test_second_claim_is_409(as_user):
    _, task = _first_task(as_user)
    assert as_user("market_reviewer1").post(f"/api/tasks/{task['id']}/claim").status_code == 200
    response = as_user("market_reviewer2").post(f"/api/tasks/{task['id']}/claim")
    assert response.status_code == 409 and response.mimetype == "application/problem+json"


def test_complete_needs_the_claim(as_user, app):
    _, task = _first_task(as_user)
    reviewer = as_user("market_reviewer1")
    before = row_counts(app)
    assert reviewer.post(f"/api/tasks/{task['id']}/complete", json={"data": {}}).status_code == 409
    assert row_counts(app) == before
    reviewer.post(f"/api/tasks/{task['id']}/claim")
    other = as_user("market_reviewer2")
    assert other.post(f"/api/tasks/{task['id']}/complete", json={"data": {}}).status_code == 409


def test_unclaim_gives_the_task_back(as_user):
    _, task = _first_task(as_user)
    reviewer, colleague = as_user("market_reviewer1"), as_user("market_reviewer2")
    assert reviewer.post(f"/api/tasks/{task['id']}/unclaim").status_code == 409  # not claimed yet
    reviewer.post(f"/api/tasks/{task['id']}/claim")
    assert colleague.post(f"/api/tasks/{task['id']}/unclaim").status_code == 403  # not the holder
    response = reviewer.post(f"/api/tasks/{task['id']}/unclaim")
    assert response.status_code == 200 and response.get_json()["state"] == "ready"
    assert response.get_json()["assignee"] is None
    assert colleague.post(f"/api/tasks/{task['id']}/claim").status_code == 200


def test_delegate_to_a_colleague_of_the_group(as_user, app):
    case, task = _first_task(as_user)
    reviewer = as_user("market_reviewer1")
    reviewer.post(f"/api/tasks/{task['id']}/claim")
    before = row_counts(app)
    bad = reviewer.post(f"/api/tasks/{task['id']}/delegate", json={"to": "housing_reviewer", "reason": "出差"})
    assert bad.status_code == 422 and "to" in bad.get_json()["errors"]
    assert reviewer.post(f"/api/tasks/{task['id']}/delegate", json={"to": "ghost", "reason": "x"}).status_code == 422
    assert reviewer.post(f"/api/tasks/{task['id']}/delegate", json={"to": "market_reviewer2"}).status_code == 422
    assert row_counts(app) == before
    moved = reviewer.post(f"/api/tasks/{task['id']}/delegate", json={"to": "market_reviewer2", "reason": "出差"})
    assert moved.status_code == 200 and moved.get_json()["assignee"] == "market_reviewer2"
    assert reviewer.post(f"/api/tasks/{task['id']}/complete", json={"data": {}}).status_code == 409
    work_done = as_user("market_reviewer2").post(f"/api/tasks/{task['id']}/complete", json={"data": {}})
    assert work_done.status_code == 200
    events = as_user("auditor").get(f"/api/cases/{case['id']}/events").get_json()["items"]
    delegated = [e for e in events if e["type"] == "task_delegated"]
    assert len(delegated) == 1 and delegated[0]["payload"] == {
        "name": "review",
        "to": "market_reviewer2",
        "reason": "出差",
    }
    assert delegated[0]["actor"] == "market_reviewer1"


def test_rejection_without_opinion_is_422_and_changes_nothing(as_user, app):
    case, task = _first_task(as_user)
    work(as_user, task, {"opinion": "ok"}, user="market_reviewer1")
    audit_task = as_user("auditor").get(f"/api/cases/{case['id']}").get_json()["open_tasks"][0]
    work(as_user, audit_task, {}, user="market_chief")
    decide = as_user("auditor").get(f"/api/cases/{case['id']}").get_json()["open_tasks"][0]
    leader = as_user("market_leader")
    assert leader.post(f"/api/tasks/{decide['id']}/claim").status_code == 200
    before = row_counts(app)
    for data in (
        {"approved": False},
        {"approved": False, "opinion": "  "},
        {"opinion": "no decision"},
        {"approved": "no", "opinion": "x"},
    ):
        response = leader.post(f"/api/tasks/{decide['id']}/complete", json={"data": data})
        assert response.status_code == 422, data
    assert (
        "opinion"
        in leader.post(f"/api/tasks/{decide['id']}/complete", json={"data": {"approved": False}}).get_json()["errors"]
    )
    assert row_counts(app) == before
    state = as_user("auditor").get(f"/api/cases/{case['id']}").get_json()
    assert state["open_tasks"][0]["name"] == "decide" and state["open_tasks"][0]["state"] == "claimed"


def test_a_completed_task_cannot_be_completed_or_claimed_again(as_user):
    case, task = _first_task(as_user)
    work(as_user, task, {"opinion": "ok"}, user="market_reviewer1")
    reviewer = as_user("market_reviewer1")
    assert reviewer.post(f"/api/tasks/{task['id']}/complete", json={"data": {}}).status_code == 409
    assert reviewer.post(f"/api/tasks/{task['id']}/claim").status_code == 409
    events = as_user("auditor").get(f"/api/cases/{case['id']}/events").get_json()["items"]
    assert sum(e["type"] == "task_completed" for e in events) == 1
