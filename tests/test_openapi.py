"""GET /api/openapi.json tells the truth: problem+json for every error code an operation can answer,
limits and enums in the schemas, and the answers the server really gives are the documented ones."""

from __future__ import annotations

import re

import pytest

from app.deadlines.schemas import DATE_PATTERN
from app.deadlines.workdays import FIRST_YEAR, LAST_YEAR
from app.openapi import PROBLEM_JSON
from tests.factories import application

METHODS = ("get", "post", "put", "patch", "delete")
PUBLIC = {("/api/health", "get"), ("/api/auth/token", "post")}


@pytest.fixture
def spec(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def _operations(spec):
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def test_every_error_response_is_problem_json(spec):
    operations = list(_operations(spec))
    assert len(operations) >= 35
    for path, method, operation in operations:
        responses = operation["responses"]
        assert "default" not in responses, (path, method)
        errors = {code: r for code, r in responses.items() if int(code) >= 400}
        assert {"422", "503"} <= set(errors), (path, method)
        for code, response in errors.items():
            assert list(response["content"]) == [PROBLEM_JSON], (path, method, code)
            assert response["content"][PROBLEM_JSON]["schema"] == {"$ref": "#/components/schemas/ProblemDetails"}
    problem = spec["components"]["schemas"]["ProblemDetails"]
    assert set(problem["required"]) == {"type", "status", "title", "detail"}


def test_codes_follow_what_each_operation_can_do(spec):
    for path, method, operation in _operations(spec):
        codes = set(operation["responses"])
        authenticated = (path, method) not in PUBLIC
        assert ("401" in codes) == (authenticated or path == "/api/auth/token"), (path, method)
        in_body = (path, method) in {("/api/cases", "post"), ("/api/supervision/cards", "post")}
        assert ("404" in codes) == ("{" in path or in_body), (path, method)
        assert ("409" in codes) == (method != "get"), (path, method)
        assert ("413" in codes) == ("requestBody" in operation), (path, method)
        assert operation.get("security", spec["security"]) == ([{"bearer": []}] if authenticated else [])
    forbidden = {(p, m) for p, m, op in _operations(spec) if "403" in op["responses"]}
    assert ("/api/calendar/{year}", "put") in forbidden and ("/api/cases/{case_id}", "get") in forbidden
    assert ("/api/me", "get") not in forbidden and ("/api/matters", "get") not in forbidden


def test_limits_and_enums_are_in_the_schemas(spec):
    schemas = spec["components"]["schemas"]
    by_path = {(p, m): op for p, m, op in _operations(spec)}
    per_page = next(p for p in by_path[("/api/cases", "get")]["parameters"] if p["name"] == "per_page")
    assert per_page["schema"]["maximum"] == 200
    status = next(p for p in by_path[("/api/cases", "get")]["parameters"] if p["name"] == "status")
    assert set(status["schema"]["enum"]) >= {"in_progress", "completed"}
    case_id = spec["paths"]["/api/cases/{case_id}"]["parameters"][0]["schema"]
    assert case_id == {"type": "integer", "minimum": 1, "maximum": 2147483647}
    assert schemas["Applicant"]["properties"]["name"]["maxLength"] == 100
    assert schemas["Suspend"]["properties"]["kind"]["enum"] == ["correction", "special_procedure"]
    year = spec["paths"]["/api/calendar/{year}"]["parameters"][0]["schema"]
    assert (year["minimum"], year["maximum"]) == (FIRST_YEAR, LAST_YEAR)
    # A submission's fields are the task's form, declared per process version: the document says so
    # and bounds the object; GET /api/tasks/{id} lists the fields with their choices.
    data = schemas["Complete"]["properties"]["data"]
    assert data["maxProperties"] == 500 and "GET /api/tasks/{id}" in data["description"]


def test_the_due_date_pattern_spells_the_supported_years(spec):
    due = {p["name"]: p["schema"] for p in spec["paths"]["/api/calendar/due"]["get"]["parameters"]}
    assert due["from"]["pattern"] == DATE_PATTERN
    assert (due["from"]["x-minimum"], due["from"]["x-maximum"]) == (f"{FIRST_YEAR}-01-01", f"{LAST_YEAR}-12-31")
    inside = [f"{year}-06-01" for year in range(FIRST_YEAR, LAST_YEAR + 1)]
    outside = [f"{FIRST_YEAR - 1}-12-31", f"{LAST_YEAR + 1}-01-01", "0001-01-01", "9999-12-31"]
    assert all(re.match(DATE_PATTERN, d) for d in inside)
    assert not any(re.match(DATE_PATTERN, d) for d in outside)


def _concrete(path: str) -> str:
    values = {"year": "2026", "key": "food_business_license", "code": "SC-001"}
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "1"), path)  # ids: 1


@pytest.mark.parametrize("username", [None, "housing_reviewer", "window1", "auditor"])
def test_every_answer_the_server_gives_is_documented(spec, as_user, client, username):
    # One case exists; every operation is called by someone (or no one) with an empty JSON body.
    as_user("window1").post("/api/cases", json=application())
    seen = set()
    # Logging out revokes the token every later call uses: it goes last.
    for path, method, operation in sorted(_operations(spec), key=lambda op: op[0] == "/api/auth/logout"):
        headers = as_user(username).headers if username else {}
        response = client.open(_concrete(path), method=method.upper(), headers=headers, json={})
        code = str(response.status_code)
        assert code in operation["responses"], (username, method, path, code, response.get_data(as_text=True))
        if response.status_code >= 400:
            assert response.mimetype == PROBLEM_JSON, (method, path)
        seen.add(code)
    assert "200" in seen or username is None
    assert ("401" in seen) == (username is None)


def test_unknown_methods_are_405_before_authentication(client):
    response = client.open("/api/health", method="TRACE")
    assert response.status_code == 405 and response.mimetype == PROBLEM_JSON
    assert "GET" in response.headers["Allow"]
    assert client.delete("/api/cases/1").status_code == 405
