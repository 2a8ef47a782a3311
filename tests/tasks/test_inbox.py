"""The inbox through the API: filters (matter, warning, q), sorting by due time, the case's columns on each item."""

from app import clock
from tests.factories import accept, application
from tests.timekeeping import bj, run_pass

INBOX = "/api/tasks?scope=claimable"


def _accept_on_days(as_user, days: list[int], names: list[str]) -> list[dict]:
    """One food-license case per day of December 2026 (so their review steps fall due on different days)."""
    cases = []
    for day, name in zip(days, names, strict=True):
        clock.freeze(bj(2026, 12, day, 9))
        cases.append(accept(as_user, application(name=name)))
    return cases


def _ids(body: dict) -> list[str]:
    return [item["id"] for item in body["items"]]


def test_items_carry_the_case_number_matter_and_applicant(as_user):
    case = accept(as_user, application(name="李四"))
    item = as_user("market_reviewer1").get(INBOX).get_json()["items"][0]
    assert item["case_number"] == case["number"]
    assert item["matter_code"] == "SC-001"
    assert item["applicant_name"] == "李四"
    assert item["due_at"] is not None and item["warning"] == "ok"


def test_sorted_by_due_time_by_default_and_reversed_or_by_creation(as_user):
    # Accepted on the 3rd, 1st and 2nd: due in that order too (3 working days each).
    cases = _accept_on_days(as_user, [3, 1, 2], ["甲", "乙", "丙"])
    reviewer = as_user("market_reviewer1")
    task_of = {c["number"]: c["open_tasks"][0]["id"] for c in cases}
    by_due = [task_of[cases[i]["number"]] for i in (1, 2, 0)]
    assert _ids(reviewer.get(INBOX).get_json()) == by_due
    assert _ids(reviewer.get(INBOX + "&sort=due").get_json()) == by_due
    assert _ids(reviewer.get(INBOX + "&sort=-due").get_json()) == by_due[::-1]
    by_created = reviewer.get(INBOX + "&sort=created").get_json()["items"]
    assert [i["created_at"] for i in by_created] == sorted(i["created_at"] for i in by_created)
    assert [i["case_number"] for i in by_created] == [cases[i]["number"] for i in (1, 2, 0)]
    dues = [item["due_at"] for item in reviewer.get(INBOX).get_json()["items"]]
    assert dues == sorted(dues)


def test_filters_by_matter_warning_and_case_number_or_applicant(as_user, app):
    cases = _accept_on_days(as_user, [1, 7], ["王五", "赵六"])
    reviewer = as_user("market_reviewer1")
    assert reviewer.get(INBOX + "&matter_code=SC-001").get_json()["total"] == 2
    assert reviewer.get(INBOX + "&matter_code=JS-001").get_json()["total"] == 0
    by_number = reviewer.get(INBOX + f"&q={cases[1]['number']}").get_json()
    assert by_number["total"] == 1 and by_number["items"][0]["case_number"] == cases[1]["number"]
    by_name = reviewer.get(INBOX + "&q=王五").get_json()
    assert by_name["total"] == 1 and by_name["items"][0]["applicant_name"] == "王五"
    assert reviewer.get(INBOX + "&q=无此人").get_json()["total"] == 0
    # The first case's review step (3 working days from Dec 1) is past due on the 7th; the second's is not.
    clock.freeze(bj(2026, 12, 7, 12))
    run_pass(app)
    overdue = reviewer.get(INBOX + "&warning=overdue").get_json()
    assert overdue["total"] == 1 and overdue["items"][0]["case_number"] == cases[0]["number"]
    assert reviewer.get(INBOX + "&warning=ok").get_json()["total"] == 1


def test_mine_takes_the_same_filters(as_user):
    cases = _accept_on_days(as_user, [1, 2], ["钱七", "孙八"])
    reviewer = as_user("market_reviewer1")
    for case in cases:
        assert reviewer.post(f"/api/tasks/{case['open_tasks'][0]['id']}/claim").status_code == 200
    mine = reviewer.get("/api/tasks?scope=mine&q=孙八").get_json()
    assert mine["total"] == 1 and mine["items"][0]["case_number"] == cases[1]["number"]
    assert _ids(reviewer.get("/api/tasks?scope=mine&sort=-due").get_json()) == [
        cases[1]["open_tasks"][0]["id"],
        cases[0]["open_tasks"][0]["id"],
    ]


def test_paging_walks_every_task_once(as_user):
    _accept_on_days(as_user, [1, 2, 3, 4, 7], ["a", "b", "c", "d", "e"])
    reviewer = as_user("market_reviewer1")
    pages = [reviewer.get(INBOX + f"&per_page=2&page={n}").get_json() for n in (1, 2, 3)]
    assert [p["total"] for p in pages] == [5, 5, 5]
    walked = [i for p in pages for i in _ids(p)]
    assert walked == _ids(reviewer.get(INBOX).get_json()) and len(set(walked)) == 5


def test_bad_filter_values_answer_422(as_user):
    reviewer = as_user("market_reviewer1")
    for query in ("&sort=due_at", "&warning=red", "&q=", "&per_page=201", "&page=0"):
        response = reviewer.get(INBOX + query)
        assert response.status_code == 422, query
        assert response.headers["Content-Type"].startswith("application/problem+json")
