"""PUT /api/matters/{code}: create or change a matter, validated, each change a revision; cases keep
the limits they were accepted under."""

from tests.processes.scenarios import FOOD, accept, case_of, ok

NEW = {
    "name": "测试事项（新办）",
    "department": "market",
    "kind": "promised",
    "mode": "serial",
    "statutory_days": 20,
    "promised_days": 5,
    "process_key": "food_business_license",
    "materials": [{"name": "申请书", "required": True, "deferrable": False}],
}


def _put(actor, code: str, body: dict):
    return actor.client.put(f"/api/matters/{code}", json=body, headers=actor.headers)


def _current(as_user, code: str) -> dict:
    body = ok(as_user("designer").get(f"/api/matters/{code}"))
    return {k: v for k, v in body.items() if k != "code"}


def test_a_designer_creates_a_matter_and_its_first_revision(as_user):
    created = _put(as_user("designer"), "TEST-001", NEW)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["promised_days"] == 5
    revisions = ok(as_user("designer").get("/api/matters/TEST-001/revisions"))
    assert revisions["total"] == 1
    [first] = revisions["items"]
    assert (first["revision"], first["changed_by"]) == (1, "designer") and first["changed_at"]
    assert first["changes"]["name"] == [None, "测试事项（新办）"]


def test_each_change_is_a_revision_and_an_unchanged_put_is_none(as_user):
    body = {**_current(as_user, FOOD), "promised_days": 8}
    assert ok(_put(as_user("admin"), FOOD, body))["promised_days"] == 8
    ok(_put(as_user("admin"), FOOD, body))  # the same again: nothing changed, no revision
    items = ok(as_user("designer").get(f"/api/matters/{FOOD}/revisions"))["items"]
    assert items[0]["changes"] == {"promised_days": [10, 8]} and items[0]["changed_by"] == "admin"
    assert [i["revision"] for i in items] == sorted((i["revision"] for i in items), reverse=True)
    assert items[0]["revision"] == items[1]["revision"] + 1 and items[0]["snapshot"]["promised_days"] == 8


def test_validation_names_each_field(as_user):
    bad = {
        **NEW,
        "promised_days": 30,
        "process_key": "no_such_process",
        "department": "nowhere",
        "materials": [{"name": "申请书"}, {"name": "申请书"}],
    }
    response = _put(as_user("designer"), "TEST-002", bad)
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert set(errors) >= {"promised_days", "process_key", "department", "materials"}
    assert "承诺时限" in errors["promised_days"][0] and "申请书" in errors["materials"][0]
    missing = _put(as_user("designer"), "TEST-002", {"name": "缺字段"})
    assert missing.status_code == 422 and "statutory_days" in str(missing.get_json())
    assert as_user("designer").get("/api/matters/TEST-002").status_code == 404


def test_only_designers_and_admins_change_the_catalog(as_user):
    for user in ("window1", "market_leader", "supervisor"):
        assert _put(as_user(user), "TEST-003", NEW).status_code == 403
    assert as_user("designer").get("/api/matters/TEST-003/revisions").status_code == 404


def test_a_change_of_limits_applies_to_new_cases_only(as_user):
    old = accept(as_user, FOOD)
    body = {**_current(as_user, FOOD), "statutory_days": 15, "promised_days": 3}
    ok(_put(as_user("designer"), FOOD, body))
    new = accept(as_user, FOOD)
    before, after = case_of(as_user, old["id"])["deadlines"], case_of(as_user, new["id"])["deadlines"]
    assert before["promised_due"] == old["deadlines"]["promised_due"]  # the old case keeps its limits
    assert after["promised_due"] < before["promised_due"] and after["statutory_due"] < before["statutory_due"]


def test_catalog_sync_still_loads_the_shipped_library(runner, as_user):
    result = runner.invoke(args=["processes", "sync"])
    assert result.exit_code == 0, result.output
    assert ok(as_user("designer").get(f"/api/matters/{FOOD}"))["process_key"] == "food_business_license"
