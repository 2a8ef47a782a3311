"""Bad input gets a clear 4xx problem+json and changes nothing."""

import pytest

from tests.conftest import row_counts
from tests.factories import accept, application


def _assert_problem(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def test_malformed_json(as_user, app):
    clerk = as_user("window1")
    before = row_counts(app)
    response = clerk.client.post(
        "/api/cases", data=b"{not json", headers={**clerk.headers, "Content-Type": "application/json"}
    )
    assert 400 <= response.status_code < 500
    _assert_problem(response, response.status_code)
    assert row_counts(app) == before


@pytest.mark.parametrize(
    "body",
    [
        {"matter_code": 12, "applicant": {"name": "x"}},
        {"matter_code": "SC-001", "applicant": "nobody"},
        {"matter_code": "SC-001", "applicant": {"name": "x"}, "materials": [{"name": "a", "provided": "yes"}]},
        {"matter_code": "SC-001", "applicant": {"name": "x"}, "data": {"__class__": 1}},
        {"matter_code": "SC-001"},
        [],
        "text",
    ],
)
def test_wrong_types_are_422_with_field_errors(as_user, app, body):
    clerk = as_user("window1")
    before = row_counts(app)
    problem = _assert_problem(clerk.post("/api/cases", json=body), 422)
    assert problem["errors"]
    assert row_counts(app) == before


def test_huge_body_is_413(as_user, app):
    clerk = as_user("window1")
    before = row_counts(app)
    big = application(data={"blob": "x" * (app.config["MAX_CONTENT_LENGTH"] + 10)})
    _assert_problem(clerk.post("/api/cases", json=big), 413)
    assert row_counts(app) == before


def test_complete_with_wrong_types(as_user, app):
    case = accept(as_user)
    task = case["open_tasks"][0]
    reviewer = as_user("market_reviewer1")
    assert reviewer.post(f"/api/tasks/{task['id']}/claim").status_code == 200
    before = row_counts(app)
    _assert_problem(reviewer.post(f"/api/tasks/{task['id']}/complete", json={"data": "yes"}), 422)
    _assert_problem(reviewer.post(f"/api/tasks/{task['id']}/complete", json={"data": {"opinion": 5}}), 422)
    _assert_problem(reviewer.post(f"/api/tasks/{task['id']}/complete", json={"data": {"hack": 1}}), 422)
    _assert_problem(reviewer.post(f"/api/tasks/{task['id']}/complete", json={}), 422)
    assert row_counts(app) == before


def test_unknown_ids_are_404(as_user):
    clerk = as_user("window1")
    for path in ("/api/tasks/424242/claim", "/api/tasks/424242/complete", "/api/tasks/x/claim"):
        _assert_problem(clerk.post(path, json={"data": {}}), 404)
    _assert_problem(clerk.get("/api/tasks/424242"), 404)
    _assert_problem(clerk.get("/api/matters/NONE"), 404)


def test_no_token_is_401_for_every_mutation(client, app):
    before = row_counts(app)
    for path in ("/api/cases", "/api/tasks/1/claim", "/api/tasks/1/complete", "/api/processes"):
        _assert_problem(client.post(path, json={}), 401)
    assert row_counts(app) == before
