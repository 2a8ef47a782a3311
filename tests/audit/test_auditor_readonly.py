"""The auditor reads every case, event and replay, and can change nothing: every mutating endpoint of
the OpenAPI document (read at test time, so endpoints added later are covered) answers 403, on real
resources, and no table gains or loses a row."""

from __future__ import annotations

import re

from config import BASE_DIR
from tests.audit.scenarios import food_approve, ok
from tests.conftest import row_counts
from tests.factories import accept, application

MUTATING = ("post", "put", "patch", "delete")
# Not a change to anything the auditor is audited on: logging in (creates the caller's own token) and
# marking one's own notification read (the auditor's own inbox; someone else's answers 404).
NOT_GUARDED = {
    ("post", "/api/auth/token"),
    ("post", "/api/auth/logout"),  # ends one's own token only
    ("post", "/api/notifications/{notification_id}/read"),
}
# POSTs that change nothing by design (dry runs): whatever they answer, no row may change.
DRY_RUNS = {("post", "/api/processes/{key}/versions/{version}/simulate")}
# Valid bodies, so that the permission check (not validation) is what answers. An endpoint missing
# here gets a body built from its OpenAPI schema; if that is not valid, add a real one here.
BODIES = {
    "/api/cases": application(),
    "/api/tasks/{task_id}/delegate": {"to": "market_reviewer2", "reason": "审计测试"},
    "/api/tasks/{task_id}/complete": {"data": {"opinion": "审计测试"}},
    "/api/cases/{case_id}/suspend": {"kind": "correction", "reason": "审计测试"},
    "/api/cases/{case_id}/resume": {"note": "审计测试"},
    "/api/cases/{case_id}/extend": {"reason": "审计测试"},
    "/api/cases/{case_id}/withdraw": {"reason": "审计测试"},
    "/api/calendar/{year}": {"year": 2026, "source": "审计测试", "days": []},
    "/api/processes/{key}/versions/{version}/simulate": {"data": {}, "tasks": {}},
    "/api/tasks/{task_id}/reassign": {"to": "market_reviewer2", "reason": "审计测试"},
    "/api/departments": {"code": "audit", "name": "审计测试"},
    "/api/groups": {"code": "audit.review", "name": "审计测试", "department": "market"},
    "/api/users": {"username": "audited", "password": "Audit-test-1"},
    "/api/users/{username}": {"display_name": "审计测试"},
    "/api/users/{username}/absences": {
        "from": "2026-12-01T09:00:00+08:00",
        "to": "2026-12-02T09:00:00+08:00",
        "reason": "审计测试",
    },
}


def _resources(as_user) -> dict[str, str]:
    """Real things to aim at: a running case with a claimed task, a draft version, a matter, a year."""
    case = accept(as_user)
    task = case["open_tasks"][0]
    ok(as_user("market_reviewer1").post(f"/api/tasks/{task['id']}/claim"))
    designer = as_user("designer")
    xml = (BASE_DIR / "bpmn" / "food_business_license.bpmn").read_bytes().replace(b"\xe6\x89\xbf", b"\xe4\xb8\xbb", 1)
    draft = designer.client.post(
        "/api/processes", data=xml, headers={**designer.headers, "Content-Type": "application/xml"}
    )
    assert draft.status_code == 201, draft.get_json()
    body = draft.get_json()
    return {
        "case_id": case["id"],
        "task_id": task["id"],
        "key": body["key"],
        "version": str(body["version"]),
        "code": "SC-001",
        "year": "2026",
        "username": "market_reviewer1",
    }


def _example(schema: dict, doc: dict):
    """A value of `schema` with its required fields (enums take their first value)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _example(doc["components"]["schemas"][name], doc)
    if "enum" in schema:
        return schema["enum"][0]
    if "anyOf" in schema:  # an id: an integer or its digits (app.schemas.IdRef)
        return _example(schema["anyOf"][0], doc)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        required = set(schema.get("required", []))
        return {k: _example(v, doc) for k, v in schema.get("properties", {}).items() if k in required}
    return {"array": [], "integer": 1, "number": 1, "boolean": True}.get(kind, "审计测试")


def _request(auditor, method: str, template: str, operation: dict, doc: dict, resources: dict):
    path = re.sub(r"{(\w+)}", lambda m: resources.get(m.group(1), "1"), template)
    content = (operation.get("requestBody") or {}).get("content", {})
    if "application/xml" in content:
        data = (BASE_DIR / "bpmn" / "food_business_license.bpmn").read_bytes()
        return auditor.client.open(
            path, method=method, data=data, headers={**auditor.headers, "Content-Type": "application/xml"}
        )
    body = BODIES.get(template)
    if body is None and "application/json" in content:
        body = _example(content["application/json"]["schema"], doc)
    return auditor.client.open(path, method=method, json=body, headers=auditor.headers)


def test_every_mutation_is_refused_to_the_auditor(app, as_user):
    resources = _resources(as_user)
    auditor = as_user("auditor")
    doc = ok(auditor.get("/api/openapi.json"))
    before = row_counts(app)
    tried = []
    for template, item in doc["paths"].items():
        for method in MUTATING:
            if method not in item or (method, template) in NOT_GUARDED:
                continue
            response = _request(auditor, method, template, item[method], doc, resources)
            tried.append((method, template))
            if (method, template) in DRY_RUNS:
                continue
            assert response.status_code == 403, (
                f"{method.upper()} {template} answered {response.status_code} to the auditor "
                f"(a valid body may be missing from BODIES): {response.get_data(as_text=True)[:300]}"
            )
    assert row_counts(app) == before
    expected = {
        ("post", "/api/cases"),
        ("post", "/api/tasks/{task_id}/claim"),
        ("post", "/api/tasks/{task_id}/unclaim"),
        ("post", "/api/tasks/{task_id}/delegate"),
        ("post", "/api/tasks/{task_id}/complete"),
        ("post", "/api/processes"),
        ("post", "/api/processes/{key}/versions/{version}/publish"),
    }
    assert expected <= set(tried)


def test_the_auditor_reads_everything(as_user):
    case_id = food_approve(as_user)
    auditor = as_user("auditor")
    for path in ("events", "replay", "history", "history.html", ""):
        assert auditor.get(f"/api/cases/{case_id}/{path}".rstrip("/")).status_code == 200, path
    assert ok(auditor.get("/api/audit/verify"))["intact"] is True
    assert ok(auditor.get(f"/api/cases/{case_id}/replay?upto=3"))["state"]["seq"] == 3
