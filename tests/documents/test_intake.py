"""The window's three answers through POST /api/cases: each with its document, its events, and
nothing written when the answer is refused with 422."""

import re
from datetime import timedelta

from app import clock
from tests.conftest import row_counts
from tests.documents.helpers import documents_of, events_of, html_of, kinds
from tests.factories import FOOD_REQUIRED, accept, application
from tests.timekeeping import run_pass

CORRECTIONS = ["营业执照复印件须加盖公章", "法定代表人身份证明已过有效期，请提供有效证件"]


def _answer(as_user, **extra) -> dict:
    response = as_user("window1").post("/api/cases", json=application(**{}) | extra)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_accept_issues_a_numbered_receipt_and_audits_its_hash(as_user):
    case = accept(as_user)
    assert kinds(case["documents"]) == ["receipt"]
    receipt = documents_of(as_user, case["id"])[0]
    assert re.fullmatch(r"市监受〔\d{4}〕0001号", receipt["number"]), receipt
    assert receipt["title"] == "受理通知书"
    html = html_of(as_user, receipt)
    assert case["number"] in html and "食品经营许可（新办）" in html and "张三" in html
    issued = [e for e in events_of(as_user, case["id"]) if e["type"] == "document_issued"]
    assert [e["payload"]["sha256"] for e in issued] == [receipt["sha256"]]
    assert accept(as_user)["documents"][0]["number"] == receipt["number"].replace("0001号", "0002号")


def test_deferred_materials_get_a_deferral_notice_with_each_deadline(as_user):
    body = application(materials=[m for m in FOOD_REQUIRED if m != "食品安全管理制度文本"])
    case = accept(as_user, body)
    documents = documents_of(as_user, case["id"])
    assert kinds(documents) == ["receipt", "deferral_notice"]
    notice = html_of(as_user, documents[1])
    assert "容缺受理告知书" in notice and "食品安全管理制度文本" in notice
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日前", notice)


def test_correction_waits_without_a_clock_then_accepts_and_starts_it(as_user):
    case = _answer(as_user, intake="correct", corrections=CORRECTIONS, materials=[])
    assert case["status"] == "awaiting_correction" and case["result"] is None
    assert case["deadlines"]["statutory_due"] is None and case["open_tasks"] == []
    notice = html_of(as_user, case["documents"][0])
    assert case["documents"][0]["kind"] == "correction_notice"
    assert all(item in notice for item in CORRECTIONS) and "即为受理" in notice
    assert [e["type"] for e in events_of(as_user, case["id"])] == ["correction_requested", "document_issued"]
    clock.freeze(clock.now() + timedelta(days=3))
    materials = [{"name": n, "provided": True} for n in FOOD_REQUIRED]
    accepted = as_user("window1").post(f"/api/cases/{case['id']}/accept", json={"materials": materials})
    assert accepted.status_code == 200, accepted.get_json()
    body = accepted.get_json()
    assert body["status"] == "in_progress" and body["number"] == case["number"]
    assert body["accepted_at"] > case["accepted_at"] and body["deadlines"]["statutory_due"] is not None
    assert [t["name"] for t in body["open_tasks"]] == ["review"]
    assert kinds(body["documents"]) == ["correction_notice", "receipt"]
    again = as_user("window1").post(f"/api/cases/{case['id']}/accept", json={"materials": materials})
    assert again.status_code == 409
    replay = as_user("auditor").get(f"/api/cases/{case['id']}/replay").get_json()
    assert replay["consistent"] is True, replay


def test_refusal_completes_the_case_with_a_reasoned_notice_and_remedies(as_user):
    reason = "申请事项依法不属于本机关职权范围，请向区市场监督管理局申请"
    case = _answer(as_user, intake="refuse", reason=reason)
    assert (case["status"], case["result"]) == ("completed", "not_accepted")
    assert case["open_tasks"] == [] and kinds(case["documents"]) == ["refusal_notice"]
    notice = html_of(as_user, case["documents"][0])
    assert reason in notice and "六十日" in notice and "六个月" in notice and "不予受理决定书" in notice
    events = events_of(as_user, case["id"])
    assert [e["type"] for e in events] == ["application_refused", "document_issued", "case_filed"]
    assert events[0]["payload"]["reason"] == reason
    # 否定报备: the refusal is filed for the supervisors with its reason and the notice handed over.
    [filing] = as_user("supervisor").get("/api/filings").get_json()["items"]
    assert (filing["kind"], filing["reason"], filing["case_id"]) == ("refusal", reason, case["id"])
    assert [d["number"] for d in filing["documents"]] == [case["documents"][0]["number"]]
    listed = as_user("window1").get("/api/cases?status=completed").get_json()
    assert [c["result"] for c in listed["items"]] == ["not_accepted"]


def test_refusal_without_a_reason_and_correction_without_items_write_nothing(as_user, app):
    clerk, reviewer = as_user("window1"), as_user("market_reviewer1")
    before = row_counts(app)
    for body in (
        application() | {"intake": "refuse"},
        application() | {"intake": "refuse", "reason": "   "},
        application() | {"intake": "correct"},
        application() | {"intake": "correct", "corrections": []},
        application() | {"intake": "ignore"},
    ):
        response = clerk.post("/api/cases", json=body)
        assert response.status_code == 422, (body, response.get_json())
        assert response.mimetype == "application/problem+json"
    refused = reviewer.post("/api/cases", json=application() | {"intake": "refuse", "reason": "x"})
    assert refused.status_code == 403
    assert row_counts(app) == before


def test_an_uncorrected_application_is_closed_by_the_scheduler(as_user, app):
    case = _answer(as_user, intake="correct", corrections=CORRECTIONS, materials=[])
    fresh = _answer(as_user, intake="correct", corrections=CORRECTIONS, materials=[])
    assert run_pass(app)["corrections_lapsed"] == 0
    clock.freeze(clock.now() + timedelta(days=app.config.get("CORRECTION_LAPSE_DAYS", 30), minutes=1))
    fresh_id = fresh["id"]
    assert run_pass(app)["corrections_lapsed"] == 2
    assert run_pass(app)["corrections_lapsed"] == 0
    shown = as_user("window1").get(f"/api/cases/{case['id']}").get_json()
    assert shown["status"] == "withdrawn"
    lapsed = [e for e in events_of(as_user, case["id"]) if e["type"] == "correction_lapsed"]
    assert len(lapsed) == 1 and lapsed[0]["actor"] == "system"
    materials = [{"name": n, "provided": True} for n in FOOD_REQUIRED]
    assert as_user("window1").post(f"/api/cases/{fresh_id}/accept", json={"materials": materials}).status_code == 409
    verify = as_user("auditor").get("/api/audit/verify").get_json()
    assert verify["intact"] is True


def test_the_deferral_notice_gives_the_supplement_steps_own_deadline(as_user):
    """JS-001's 补齐容缺材料 step (declared form with a materials field) has its own 10-day limit: the
    notice tells the applicant that date, not the case's later promised date."""
    from tests.processes import scenarios as library

    case = library.accept(as_user, library.CONSTRUCTION, omit=["施工现场具备施工条件的说明"])
    [supplement] = [t for t in library.open_tasks(as_user, case["id"]) if t["name"] == "supplement"]
    shown = as_user("window1").get(f"/api/tasks/{supplement['id']}")
    assert shown.status_code == 200, shown.get_json()
    due = shown.get_json()["due_at"][:10]
    promised = case["deadlines"]["promised_due"][:10]
    assert due < promised, (due, promised)
    notice = html_of(as_user, [d for d in documents_of(as_user, case["id"]) if d["kind"] == "deferral_notice"][0])
    year, month, day = (int(x) for x in due.split("-"))
    assert f"{year}年{month}月{day}日前" in notice, notice
