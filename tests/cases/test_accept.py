"""Accepting an application (受理) and reading cases, through the API."""

from tests.conftest import row_counts
from tests.factories import FOOD_REQUIRED, accept, application


def test_accept_pins_version_computes_deadlines_and_opens_first_task(as_user):
    case = accept(as_user)
    assert case["number"].startswith("YC") and len(case["number"]) == 17
    assert case["matter_code"] == "SC-001" and case["status"] == "in_progress" and case["result"] is None
    assert case["deadlines"]["statutory_due"] > case["deadlines"]["promised_due"]
    assert case["deadlines"]["statutory_due"].endswith("+08:00")
    assert case["warning"] == "ok"
    assert [t["title"] for t in case["open_tasks"]] == ["承办人审查"]
    again = accept(as_user)
    assert again["number"] != case["number"]


def test_deferrable_material_may_be_missing(as_user):
    body = application(materials=[m for m in FOOD_REQUIRED if m != "食品安全管理制度文本"])
    case = accept(as_user, body)
    events = as_user("auditor").get(f"/api/cases/{case['id']}/events").get_json()["items"]
    assert events[0]["payload"]["data"]["materials_deferred"] == ["食品安全管理制度文本"]


def test_missing_required_materials_are_named_and_nothing_is_written(as_user, app):
    clerk = as_user("window1")
    before = row_counts(app)
    response = clerk.post("/api/cases", json=application(materials=["食品经营许可申请书"]))
    assert response.status_code == 422
    problem = response.get_json()
    assert response.mimetype == "application/problem+json"
    assert problem["missing"] == ["营业执照复印件", "法定代表人身份证明"]
    assert "营业执照复印件" in problem["detail"]
    assert row_counts(app) == before


def test_unknown_matter_is_404(as_user, app):
    clerk = as_user("window1")
    before = row_counts(app)
    response = clerk.post("/api/cases", json=application("NO-SUCH"))
    assert response.status_code == 404
    assert row_counts(app) == before


def test_only_the_front_desk_accepts(as_user, app):
    reviewer = as_user("market_reviewer1")
    before = row_counts(app)
    response = reviewer.post("/api/cases", json=application())
    assert response.status_code == 403
    assert row_counts(app) == before


def test_id_number_is_masked_except_for_the_front_desk(as_user):
    case = accept(as_user)
    assert case["applicant"]["id_number"] == "330102199001011234"
    shown = as_user("market_reviewer1").get(f"/api/cases/{case['id']}").get_json()
    assert shown["applicant"]["id_number"] == "3301**********1234"
    listed = as_user("supervisor").get("/api/cases").get_json()["items"][0]
    assert listed["applicant"]["id_number"] == "3301**********1234"


def test_other_departments_cannot_read_a_case(as_user):
    case = accept(as_user)
    assert as_user("housing_reviewer").get(f"/api/cases/{case['id']}").status_code == 403
    assert as_user("market_reviewer2").get(f"/api/cases/{case['id']}").status_code == 200
    assert as_user("housing_reviewer").get("/api/cases").get_json()["total"] == 0


def test_unknown_case_is_404(as_user):
    assert as_user("window1").get("/api/cases/999999").status_code == 404
    assert as_user("window1").get("/api/cases/not-a-number").status_code == 404


def test_list_filters_and_pagination(as_user):
    ids = [accept(as_user)["id"] for _ in range(3)]
    clerk = as_user("window1")
    page = clerk.get("/api/cases?per_page=2&page=1").get_json()
    assert page["total"] == 3 and [c["id"] for c in page["items"]] == ids[::-1][:2]
    assert clerk.get("/api/cases?per_page=2&page=2").get_json()["items"][0]["id"] == ids[0]
    assert clerk.get("/api/cases?status=completed").get_json()["total"] == 0
    assert clerk.get("/api/cases?status=in_progress&matter_code=SC-001&department=market").get_json()["total"] == 3
    assert clerk.get("/api/cases?warning=ok").get_json()["total"] == 3
    assert clerk.get("/api/cases?status=bogus").status_code == 422
    assert clerk.get("/api/cases?per_page=500").status_code == 422


def test_matters_catalog(as_user):
    reader = as_user("market_reviewer1")
    catalog = reader.get("/api/matters").get_json()
    assert catalog["total"] >= 1
    food = reader.get("/api/matters/SC-001").get_json()
    assert food["name"] == "食品经营许可（新办）" and food["statutory_days"] == 20 and food["promised_days"] == 10
    assert {"name": "食品安全管理制度文本", "required": True, "deferrable": True} in food["materials"]
    assert reader.get("/api/matters/NOPE").status_code == 404


def test_the_desk_finds_an_applicants_cases_by_id_number(as_user):
    """An applicant asks at the window with their card: their cases by 证件号码 (whole, either letter
    case), for the desk only; the other filters by whole number and name."""
    mine = accept(as_user, application(name="李四", id_type="id_card", id_number="11010519491231002X"))
    accept(as_user)  # somebody else's
    clerk = as_user("window1")
    for asked in ("11010519491231002X", "11010519491231002x", " 11010519491231002X "):
        found = clerk.get("/api/cases", query_string={"applicant_id_number": asked}).get_json()
        assert [c["id"] for c in found["items"]] == [mine["id"]] and found["total"] == 1
    assert clerk.get("/api/cases?applicant_id_number=110105194912310021").get_json()["total"] == 0
    assert clerk.get("/api/cases?applicant_id_number=").status_code == 422
    assert clerk.get("/api/cases", query_string={"applicant_id_number": "1" * 41}).status_code == 422
    by_name = clerk.get("/api/cases", query_string={"applicant_name": "李四"}).get_json()
    assert [c["id"] for c in by_name["items"]] == [mine["id"]]
    by_number = clerk.get("/api/cases", query_string={"number": mine["number"]}).get_json()
    assert [c["id"] for c in by_number["items"]] == [mine["id"]]
    # Those who see id numbers masked may not probe them either.
    for user in ("auditor", "market_reviewer1"):
        refused = as_user(user).get("/api/cases?applicant_id_number=11010519491231002X")
        assert refused.status_code == 403 and refused.mimetype == "application/problem+json"
