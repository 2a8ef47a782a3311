"""Bad input gets a clear 4xx problem+json and changes nothing."""

import json

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


# --- issue 8: input hygiene in one place (app/hygiene.py) ---------------------------------------

OUT_OF_RANGE_IDS = ("2147483648", "99999999999999999999", "0", "-1", "1e3")


def _id_routes(app) -> list[tuple[str, str]]:
    """(method, path template) of every API route with an integer path segment."""
    routes = []
    for rule in app.url_map.iter_rules():
        ints = [name for name, conv in rule._converters.items() if type(conv).__name__ == "IdConverter"]
        if rule.rule.startswith("/api/") and ints:
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                routes.append((method, rule.rule))
    return routes


def _fill(template: str, value: str) -> str:
    path = template.replace("<string:key>", "food_business_license")
    for name in ("case_id", "task_id", "version", "year"):
        path = path.replace(f"<int:{name}>", value)
    return path


def test_every_id_route_is_bounded(app):
    routes = _id_routes(app)
    # Cases, tasks, audit, supervision, processes and the calendar all have integer ids.
    assert len(routes) >= 19
    assert {path.split("/")[2] for _, path in routes} >= {"cases", "tasks", "processes", "calendar"}


@pytest.mark.parametrize("value", OUT_OF_RANGE_IDS)
def test_ids_out_of_range_are_404_on_every_route(as_user, app, value):
    admin = as_user("admin")
    before = row_counts(app)
    for method, template in _id_routes(app):
        response = admin.client.open(_fill(template, value), method=method, headers=admin.headers, json={})
        _assert_problem(response, 404)
    assert row_counts(app) == before


def test_largest_id_is_a_plain_404(as_user):
    # 2,147,483,647 is a valid id that does not exist: the service's own 404, not a database error.
    body = _assert_problem(as_user("admin").get("/api/cases/2147483647"), 404)
    assert "2147483647" in body["detail"]


def _nul_bodies():
    good = application()
    return {
        "applicant.name": {**good, "applicant": {**good["applicant"], "name": "张\x00三"}},
        "matter_code": {**good, "matter_code": "SC-001\x00"},
        "materials.0.name": {**good, "materials": [{"name": "a\x00", "provided": True}]},
        "data.note": {**good, "data": {"note": "x\x00y"}},
        "data.deep.0": {**good, "data": {"deep": ["\x00"]}},
    }


@pytest.mark.parametrize("field", list(_nul_bodies()))
def test_nul_in_any_json_string_is_422_naming_the_field(as_user, app, field):
    clerk = as_user("window1")
    before = row_counts(app)
    problem = _assert_problem(clerk.post("/api/cases", json=_nul_bodies()[field]), 422)
    assert field in problem["errors"], problem
    assert row_counts(app) == before


@pytest.mark.parametrize(
    "raw",
    [
        b'{"matter_code": "SC-001", "applicant": {"name": "\\ud800"}}',  # escaped lone high surrogate
        b'{"matter_code": "SC-001", "applicant": {"name": "a\\udfffb"}}',  # escaped lone low surrogate
        b'{"matter_code": "SC-001", "applicant": {"name": "\xed\xa0\x80"}}',  # a surrogate encoded as UTF-8
        b'{"matter_code": "SC-001", "applicant": {"name": "x"}, "data": {"\\u0000": 1}}',  # NUL in a key
    ],
)
def test_lone_surrogates_and_nul_keys_are_refused(as_user, app, raw):
    clerk = as_user("window1")
    before = row_counts(app)
    response = clerk.client.post("/api/cases", data=raw, headers={**clerk.headers, "Content-Type": "application/json"})
    assert response.status_code in (400, 422)
    _assert_problem(response, response.status_code)
    assert row_counts(app) == before


def test_a_valid_surrogate_pair_is_accepted(as_user):
    # An emoji written as an escaped pair is one code point: a name may carry it.
    raw = application(data={})
    raw["applicant"]["name"] = "PLACEHOLDER"
    text = json.dumps(raw).replace("PLACEHOLDER", "\\ud83d\\ude00")
    clerk = as_user("window1")
    response = clerk.client.post("/api/cases", data=text, headers={**clerk.headers, "Content-Type": "application/json"})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["applicant"]["name"] == "\U0001f600"


@pytest.mark.parametrize(
    "path",
    [
        "/api/cases?matter_code=SC%00",
        "/api/cases?department=%00",
        "/api/tasks?scope=mine%00",
        "/api/calendar/due?from=2026-01-05%00&days=3",
        "/api/matters?page=1&x%00=1",
    ],
)
def test_nul_in_the_query_string_is_422(as_user, app, path):
    body = _assert_problem(as_user("window1").get(path), 422)
    assert body["errors"]


def test_nul_in_a_path_string_is_404(as_user):
    _assert_problem(as_user("window1").get("/api/matters/SC%00001"), 404)
    _assert_problem(as_user("designer").get("/api/processes/a%00b/versions"), 404)


@pytest.mark.parametrize(
    "literal",
    [
        "NaN",
        "Infinity",
        "-Infinity",
        "9" * 5000,  # beyond Python's int max str digits: no ValueError 500
        "-" + "9" * 17,
        str(2**53 + 1),
        "1e400",  # a float that overflows to infinity
        "1.5e300",
    ],
)
def test_non_finite_and_huge_numbers_are_refused_at_parse_time(as_user, app, literal):
    clerk = as_user("window1")
    before = row_counts(app)
    raw = json.dumps(application()).replace('"data": {}', f'"data": {{"n": {literal}}}')
    assert literal in raw
    response = clerk.client.post("/api/cases", data=raw, headers={**clerk.headers, "Content-Type": "application/json"})
    _assert_problem(response, 422)
    assert row_counts(app) == before


def test_numbers_within_range_are_accepted(as_user):
    case = accept(as_user, application(data={"n": 2**53, "m": -(2**53), "f": 1.5e15}))
    assert case["status"] == "in_progress"


def _nested(depth: int):
    value: object = 1
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.parametrize("depth", [8, 50, 5000])
def test_deep_nesting_is_refused(as_user, app, depth):
    clerk = as_user("window1")
    before = row_counts(app)
    raw = '{"a":' * depth + "1" + "}" * depth  # built as text: json.dumps itself recurses
    text = json.dumps(application()).replace('"data": {}', f'"data": {raw}')
    response = clerk.client.post("/api/cases", data=text, headers={**clerk.headers, "Content-Type": "application/json"})
    _assert_problem(response, 422)
    assert row_counts(app) == before


def test_nesting_within_the_limit_is_accepted(as_user):
    # The body is level 1 and `data` level 2: six more levels fit in the default depth of 8.
    case = accept(as_user, application(data={"deep": _nested(6)}))
    assert case["status"] == "in_progress"


@pytest.mark.parametrize(
    "data, field",
    [
        ({f"k{i}": i for i in range(501)}, "data"),  # keys in one object
        ({"blob": "x" * 10_001}, "data.blob"),  # one string's length
        ({"list": [[0] * 1000] * 101}, "data.list.9"),  # values in one body (100,000)
    ],
)
def test_size_limits_of_data_are_422(as_user, app, data, field):
    clerk = as_user("window1")
    before = row_counts(app)
    problem = _assert_problem(clerk.post("/api/cases", json=application(data=data)), 422)
    (named,) = problem["errors"]
    assert named.startswith(field), named
    assert row_counts(app) == before


def test_nul_in_an_opinion_is_refused_and_nothing_stored(as_user, app):
    case = accept(as_user)
    task = case["open_tasks"][0]
    reviewer = as_user("market_reviewer1")
    assert reviewer.post(f"/api/tasks/{task['id']}/claim").status_code == 200
    before = row_counts(app)
    problem = _assert_problem(
        reviewer.post(f"/api/tasks/{task['id']}/complete", json={"data": {"opinion": "同意\x00"}}), 422
    )
    assert "data.opinion" in problem["errors"]
    raw = json.dumps({"to": "market_reviewer2", "reason": "\ud800"})  # ASCII: the surrogate as \ud800
    problem = _assert_problem(
        reviewer.client.post(
            f"/api/tasks/{task['id']}/delegate",
            data=raw,
            headers={**reviewer.headers, "Content-Type": "application/json"},
        ),
        422,
    )
    assert "reason" in problem["errors"]
    assert row_counts(app) == before
    assert reviewer.get(f"/api/tasks/{task['id']}").get_json()["state"] == "claimed"


def test_nul_in_login_is_422_not_a_database_error(client, app):
    before = row_counts(app)
    _assert_problem(client.post("/api/auth/token", json={"username": "window1\x00", "password": "x"}), 422)
    assert row_counts(app) == before


@pytest.mark.parametrize(
    "query",
    [
        "from=9999-12-31&days=10",
        "from=1900-01-01&days=1",
        "from=0001-01-01&days=0",
        "from=2026-01-05&days=1001",
        "from=2026-01-05&days=-1",
        "from=2026-01-05&days=" + "9" * 5000,
        "from=2026-02-30&days=1",
    ],
)
def test_calendar_due_outside_the_supported_range_is_422(as_user, query):
    body = _assert_problem(as_user("window1").get(f"/api/calendar/due?{query}"), 422)
    assert body["errors"]


@pytest.mark.parametrize("year", [1, 1989, 2101, 2147483647])
def test_calendar_years_outside_the_supported_range_are_422(as_user, app, year):
    admin = as_user("admin")
    before = row_counts(app)
    _assert_problem(admin.get(f"/api/calendar/{year}"), 422)
    body = {"year": year, "source": "x", "days": []}
    _assert_problem(admin.put(f"/api/calendar/{year}", json=body), 422)
    assert row_counts(app) == before


@pytest.mark.parametrize("day", ["1990-01-02", "1990-06-01", "1991-07-01", "2026-10-09", "2100-12-01"])
def test_due_at_always_carries_plus_eight(as_user, day):
    # Asia/Shanghai kept summer time in 1986-1991 (+09:00); the wire always says +08:00.
    body = as_user("window1").get(f"/api/calendar/due?from={day}&days=3").get_json()
    assert body["due_at"].endswith("+08:00"), body


def test_due_at_for_a_real_date_is_unchanged(as_user):
    # 国庆 Oct 1-7 off; Thu 8, Fri 9 and the make-up Saturday Oct 10 are the three working days.
    body = as_user("window1").get("/api/calendar/due?from=2026-09-30&days=3").get_json()
    assert body["due_at"] == "2026-10-10T23:59:59.999999+08:00"


@pytest.mark.parametrize(
    "path",
    ["/api/audit/verify?case_id=2147483648", "/api/cases/1/replay?upto=99999999999", "/api/matters?page=0"],
)
def test_integer_query_arguments_are_bounded(as_user, path):
    _assert_problem(as_user("admin").get(path), 422)
