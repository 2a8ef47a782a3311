"""否定报备 through the API: a rejection and a revocation are filed at close with their reasons; a
refusal at the window is filed through filings.file (the window's refusal calls it); supervisors list
and review them, and a questioned filing opens a card to the department."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from app import clock
from app.errors import Invalid
from app.extensions import db
from app.supervision import filings
from app.supervision.models import Filing
from tests.processes.scenarios import SCENARIOS
from tests.timekeeping import bj, events


def listed(as_user, **query) -> list[dict]:
    response = as_user("supervisor").get("/api/filings", query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def test_a_rejection_is_filed_with_the_decisions_opinion(as_user):
    clock.freeze(bj(2026, 11, 2, 10))
    case_id = SCENARIOS["food_business_license:reject"](as_user)
    [filing] = listed(as_user)
    assert (filing["case_id"], filing["kind"], filing["state"]) == (case_id, "rejection", "pending")
    assert filing["reason"] == "经营场所不符合食品安全要求"
    assert (filing["department"], filing["matter_code"], filing["applicant_name"]) == ("market", "SC-001", "张三")
    # The papers of the case, the 不予行政许可决定书 among them, are referenced by number.
    assert "decision" in {d["kind"] for d in filing["documents"]}
    assert all(d["number"] for d in filing["documents"])
    [event] = events(as_user, case_id, "case_filed")
    assert event["payload"]["reason"] == "经营场所不符合食品安全要求"


def test_a_revocation_is_filed_and_an_approval_is_not(as_user):
    clock.freeze(bj(2026, 11, 2, 10))
    approved = SCENARIOS["food_business_license:approve"](as_user)
    revoked = SCENARIOS["public_place_hygiene:revoked"](as_user)
    [filing] = listed(as_user)
    assert (filing["case_id"], filing["kind"]) == (revoked, "revocation")
    revoke = next(e for e in events(as_user, revoked, "task_completed") if e["payload"]["name"] == "revoke")
    assert filing["reason"] == revoke["payload"]["data"]["reason"] and "撤销" in filing["reason"]
    assert events(as_user, approved, "case_filed") == []


def test_a_refusal_at_the_window_is_filed_and_needs_a_reason(app, as_user):
    clock.freeze(bj(2026, 11, 2, 10))
    with app.app_context():
        kw = {"actor": "window1", "department": "market", "matter_code": "SC-001", "applicant_name": "李四"}
        with pytest.raises(Invalid):
            filings.file(None, "refusal", "  ", **kw)
        filings.file(None, "refusal", "申请事项不属于本机关职权范围", **kw)
        db.session.commit()
        # The database itself refuses a filing without a reason.
        db.session.add(
            Filing(
                kind="refusal",
                reason=" ",
                documents=[],
                department="market",
                matter_code="SC-001",
                filed_by="x",
                filed_at=clock.now(),
                state="pending",
            )
        )
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()
        db.session.remove()
    [filing] = listed(as_user)
    assert (filing["kind"], filing["case_id"], filing["reason"]) == ("refusal", None, "申请事项不属于本机关职权范围")


def test_reviews_accept_or_question_and_a_question_opens_a_card(as_user):
    clock.freeze(bj(2026, 11, 2, 10))
    first = SCENARIOS["food_business_license:reject"](as_user)
    second = SCENARIOS["food_business_license:reject"](as_user)
    by_case = {f["case_id"]: f for f in listed(as_user)}
    assert as_user("window1").get("/api/filings").status_code == 403
    body = {"verdict": "accepted", "note": "理由充分"}
    assert as_user("market_leader").post(f"/api/filings/{by_case[first]['id']}/review", json=body).status_code == 403
    ok = as_user("supervisor").post(f"/api/filings/{by_case[first]['id']}/review", json=body)
    assert ok.status_code == 200 and ok.get_json()["state"] == "accepted" and ok.get_json()["card_id"] is None
    assert as_user("supervisor").post(f"/api/filings/{by_case[first]['id']}/review", json=body).status_code == 409
    question = {"verdict": "questioned", "note": "未说明具体不符合的条款"}
    asked = as_user("supervisor").post(f"/api/filings/{by_case[second]['id']}/review", json=question)
    assert asked.status_code == 200, asked.get_json()
    assert asked.get_json()["state"] == "questioned"
    cards = as_user("supervisor").get("/api/supervision/cards").get_json()["items"]
    [card] = cards
    assert (card["id"], card["case_id"], card["kind"], card["department"]) == (
        asked.get_json()["card_id"],
        second,
        "filing",
        "market",
    )
    assert "未说明具体不符合的条款" in card["reason"]
    assert [f["id"] for f in listed(as_user, state="pending")] == []
    empty = as_user("supervisor").post(f"/api/filings/{by_case[second]['id']}/review", json={"verdict": "maybe"})
    assert empty.status_code == 422
