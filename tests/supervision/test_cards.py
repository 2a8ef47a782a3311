"""红黄蓝牌 and 督办 through the API with the clock moved: automatic cards opened once per level change
(two concurrent schedulers; on PostgreSQL with leases that expire at once, so both really sweep),
manual cards, answers, closing and sending back, escalation of an unanswered card, permissions.

Cases of SC-001 (promised 10, statutory 20 working days) accepted Mon Nov 2 2026 10:00 Beijing: the
case is warned from Nov 16 00:00, promised due Nov 16, statutory due Nov 30; the review step
(limit 3) is warned from Nov 5 00:00 and due Nov 5.
"""

from __future__ import annotations

from collections import Counter

from app import clock
from tests.conftest import is_postgres
from tests.deadlines.test_scheduler_races import concurrently
from tests.factories import accept, open_tasks
from tests.timekeeping import bj, events, run_pass


def cards(as_user, **query) -> list[dict]:
    response = as_user("supervisor").get("/api/supervision/cards", query_string={"per_page": 200, **query})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def notifications(as_user, username: str) -> list[dict]:
    response = as_user(username).get("/api/notifications")
    assert response.status_code == 200
    return response.get_json()["items"]


def claimed_case(as_user) -> tuple[dict, dict]:
    clock.freeze(bj(2026, 11, 2, 10))
    case = accept(as_user)
    [review] = open_tasks(as_user, case["id"])
    assert as_user("market_reviewer1").post(f"/api/tasks/{review['id']}/claim").status_code == 200
    return case, review


def passes_with_a_follow_up(app) -> None:
    """Two concurrent passes, then the next one: a row one pass held while the other swept (SKIP LOCKED)
    comes round in the next pass, so by then every change is made, and made once."""
    concurrently(app)
    run_pass(app)


def test_automatic_cards_once_per_change_with_two_schedulers(app, as_user, monkeypatch):
    if is_postgres(app):  # leases that expire at once: both runners sweep, only row locks keep them apart
        monkeypatch.setitem(app.config, "SCHEDULER_LEASE_SECONDS", -1)
    case, review = claimed_case(as_user)
    clock.freeze(bj(2026, 11, 5, 8))  # the review step is in its last day: a blue card before its limit
    passes_with_a_follow_up(app)
    [blue] = cards(as_user)
    assert (blue["color"], blue["task_id"], blue["kind"], blue["state"]) == ("blue", review["id"], "auto", "open")
    assert (blue["department"], blue["holder"]) == ("market", "market_reviewer1")
    assert blue["answer_due"].startswith("2026-11-10")  # three working days to answer
    clock.freeze(bj(2026, 11, 17, 8))  # the step and the case's promised limit have passed
    passes_with_a_follow_up(app)
    clock.freeze(bj(2026, 12, 1, 8))  # past the statutory limit
    passes_with_a_follow_up(app)
    auto = [c for c in cards(as_user) if c["kind"] == "auto"]
    seen = Counter((c["task_id"], c["color"]) for c in auto)
    # The case went ok -> overdue on Nov 17 (its warning day was never swept): one card per change.
    assert seen == {(review["id"], "blue"): 1, (review["id"], "yellow"): 1, (None, "yellow"): 1, (None, "red"): 1}
    red = next(c for c in auto if c["color"] == "red")
    assert (red["reason"], red["holder"]) == ("办件已超过法定时限", "market_reviewer1")
    opened = events(as_user, case["id"], "card_opened")
    assert sorted(str(e["payload"]["card_id"]) for e in opened) == sorted(c["id"] for c in auto)
    # By Dec 1 the three earlier cards went unanswered past their limits: each escalated once.
    escalated = [c for c in cards(as_user) if c["kind"] == "escalation"]
    assert sorted(c["parent_id"] for c in escalated) == sorted(c["id"] for c in auto if c["color"] != "red")
    told = [n for n in notifications(as_user, "market_chief") if n["kind"] == "card_opened"]
    assert len(told) == 4 and all(n["case_id"] == case["id"] for n in told)
    assert len([n for n in notifications(as_user, "market_reviewer1") if n["kind"] == "card_opened"]) == 4
    assert as_user("auditor").get("/api/audit/verify").get_json()["intact"] is True


def test_manual_card_answer_send_back_and_close(as_user):
    case, _ = claimed_case(as_user)
    supervisor = as_user("supervisor")
    body = {"case_id": case["id"], "color": "yellow", "reason": "群众反映办理缓慢，请说明", "answer_days": 2}
    made = supervisor.post("/api/supervision/cards", json=body)
    assert made.status_code == 201, made.get_json()
    card = made.get_json()
    assert (card["kind"], card["state"], card["department"]) == ("manual", "open", "market")
    assert card["answer_due"].startswith("2026-11-04")
    assert any(n["kind"] == "card_opened" for n in notifications(as_user, "market_leader"))
    answered = as_user("market_chief").post(f"/api/supervision/cards/{card['id']}/answer", json={"answer": "已加快"})
    assert answered.status_code == 200 and answered.get_json()["state"] == "answered"
    assert any(n["kind"] == "card_answered" for n in notifications(as_user, "supervisor"))
    back = supervisor.post(f"/api/supervision/cards/{card['id']}/send-back", json={"note": "说明不具体"})
    assert back.status_code == 200 and back.get_json()["state"] == "open"
    again = as_user("market_chief").post(f"/api/supervision/cards/{card['id']}/answer", json={"answer": "11月5日办结"})
    assert again.status_code == 200
    closed = supervisor.post(f"/api/supervision/cards/{card['id']}/close", json={"note": "同意"})
    assert closed.status_code == 200 and closed.get_json()["state"] == "closed"
    assert supervisor.post(f"/api/supervision/cards/{card['id']}/close", json={}).status_code == 409
    late = as_user("market_chief").post(f"/api/supervision/cards/{card['id']}/answer", json={"answer": "x"})
    assert late.status_code == 409
    kinds = [e["type"] for e in events(as_user, case["id"]) if e["type"].startswith("card_")]
    assert kinds == ["card_opened", "card_answered", "card_sent_back", "card_answered", "card_closed"]


def test_card_permissions(as_user):
    case, review = claimed_case(as_user)
    body = {"case_id": case["id"], "task_id": review["id"], "color": "red", "reason": "督办", "answer_days": 1}
    for who in ("window1", "market_reviewer1", "market_leader", "auditor"):
        assert as_user(who).post("/api/supervision/cards", json=body).status_code == 403, who
    card = as_user("supervisor").post("/api/supervision/cards", json=body).get_json()
    assert card["holder"] == "market_reviewer1"
    answer = {"answer": "说明"}
    assert (
        as_user("housing_reviewer").post(f"/api/supervision/cards/{card['id']}/answer", json=answer).status_code == 403
    )
    assert as_user("supervisor").post(f"/api/supervision/cards/{card['id']}/answer", json=answer).status_code == 403
    assert as_user("market_reviewer1").post(f"/api/supervision/cards/{card['id']}/close", json={}).status_code == 403
    assert (
        as_user("market_reviewer1").post(f"/api/supervision/cards/{card['id']}/answer", json=answer).status_code == 200
    )
    # Staff see their own department's cards only; a card to nowhere is refused.
    assert len(as_user("market_chief").get("/api/supervision/cards").get_json()["items"]) == 1
    assert as_user("housing_reviewer").get("/api/supervision/cards").get_json()["items"] == []
    missing = as_user("supervisor").post("/api/supervision/cards", json={**body, "case_id": 999999})
    assert missing.status_code == 404
    bad = as_user("supervisor").post("/api/supervision/cards", json={**body, "color": "green"})
    assert bad.status_code == 422


def test_an_unanswered_card_escalates_once_to_the_department_leader(app, as_user):
    case, _ = claimed_case(as_user)
    supervisor = as_user("supervisor")
    body = {"case_id": case["id"], "color": "yellow", "reason": "请说明进度", "answer_days": 1}
    unanswered = supervisor.post("/api/supervision/cards", json=body).get_json()
    answered = supervisor.post("/api/supervision/cards", json=body).get_json()
    assert (
        as_user("market_chief")
        .post(f"/api/supervision/cards/{answered['id']}/answer", json={"answer": "好"})
        .status_code
        == 200
    )
    clock.freeze(bj(2026, 11, 3, 23))  # the answer limit (end of Nov 3) has not passed
    assert run_pass(app)["cards_escalated"] == 0
    clock.freeze(bj(2026, 11, 4, 9))
    assert run_pass(app)["cards_escalated"] == 1
    assert run_pass(app)["cards_escalated"] == 0
    red = [c for c in cards(as_user) if c["kind"] == "escalation"]
    assert len(red) == 1
    assert (red[0]["color"], red[0]["holder"], red[0]["parent_id"]) == ("red", "market_leader", unanswered["id"])
    original = next(c for c in cards(as_user) if c["id"] == unanswered["id"])
    assert original["escalated_to"] == red[0]["id"]
    assert [n["kind"] for n in notifications(as_user, "market_leader")].count("card_escalated") == 1
    assert len(events(as_user, case["id"], "card_escalated")) == 1


def test_a_card_names_its_case_by_id_as_a_string_or_an_integer_and_nothing_looser(as_user, app):
    """Ids in a body load exactly as the OpenAPI document states (app.schemas.IdRef): "14" as other
    answers give it, or 14; not the forms Python's int() also takes (" 14", "+14", "1_4", "014")."""
    from tests.conftest import row_counts

    case = accept(as_user)
    supervisor = as_user("supervisor")
    for case_id in (case["id"], int(case["id"])):
        made = supervisor.post("/api/supervision/cards", json={"case_id": case_id, "color": "blue", "reason": "请说明"})
        assert made.status_code == 201 and made.get_json()["case_id"] == case["id"], made.get_json()
    before = row_counts(app)
    for bad in (f" {case['id']}", f"+{case['id']}", f"0{case['id']}", "1_0", True, 0, -1, 2**31, 1.0, "", None):
        refused = supervisor.post("/api/supervision/cards", json={"case_id": bad, "color": "blue", "reason": "请说明"})
        assert refused.status_code == 422 and "case_id" in refused.get_json()["errors"], (bad, refused.get_json())
    assert row_counts(app) == before
    spec = as_user("auditor").get("/api/openapi.json").get_json()
    assert (
        spec["components"]["schemas"]["NewCard"]["properties"]["case_id"]["anyOf"][1]["pattern"] == "^[1-9][0-9]{0,8}$"
    )


def test_a_sweep_opening_many_cards_sends_each_person_one_notice_that_counts_them(app, as_user):
    """After downtime one pass opens a card per lagging case and per lagging step: more than DIGEST_OVER
    for one person in one sweep (the cases', then the steps') and they get one notification counting
    them (the cards are listed on 督办牌). Fewer, and each card has its own notice (the test above)."""
    clock.freeze(bj(2026, 11, 2, 10))
    ids = [accept(as_user)["id"] for _ in range(11)]
    clock.freeze(bj(2026, 11, 17, 8))  # every step's and every case's promised limit have passed
    run_pass(app)
    auto = [c for c in cards(as_user) if c["kind"] == "auto"]
    assert Counter(c["color"] for c in auto) == {"yellow": 22}  # a yellow card per case and per step
    told = [n for n in notifications(as_user, "market_chief") if n["kind"] == "card_opened"]
    assert len(told) == 2 and {n["case_id"] for n in told} == {None}, told  # the cases', the steps'
    assert all("新开督办牌 11 张（黄牌 11 张）" in n["title"] for n in told)
    assert len([n for n in notifications(as_user, "market_reviewer1") if n["kind"] == "card_opened"]) == 2
    clock.freeze(bj(2026, 12, 1, 8))  # past the statutory limit: 11 red cases
    run_pass(app)
    red = [n for n in notifications(as_user, "market_chief") if n["kind"] == "card_opened" and "红牌" in n["title"]]
    assert len(red) == 1 and "红牌 11 张" in red[0]["title"] and len(ids) == 11
    assert as_user("auditor").get("/api/audit/verify").get_json()["intact"] is True
