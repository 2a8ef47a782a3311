"""bpmn/public_place_hygiene.bpmn (公共场所卫生许可, commitment-based): every path through the HTTP API
on a real database, the verification escalation timer with one scheduler pass, and the engine with a
save and reload between every step."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.cases.models import Case
from app.engine.parser import load_definition
from app.engine.runtime import Run
from app.extensions import db
from config import BASE_DIR
from tests.processes.scenarios import (
    EXPECTED,
    FALSE_PLEDGE,
    HYGIENE,
    HYGIENE_ACCEPTED_AT,
    HYGIENE_AFTER_WINDOW,
    HYGIENE_VERIFICATION_DUE,
    SCENARIOS,
    accept,
    case_of,
    completed_path,
    drive,
    events,
    hygiene_until_verification,
    log_in_everyone,
    ok,
    open_tasks,
    scheduler_pass,
    work_named,
)

BPMN = Path(BASE_DIR / "bpmn" / "public_place_hygiene.bpmn")
GROUPS = {
    "pledge": "center.window",
    "decide": "health.leader",
    "certify": "health.review",
    "deliver": "center.window",
    "notify_refusal": "center.window",
    "verify": "health.review",
    "escalate": "health.leader",
    "rectify": "health.review",
    "recheck": "health.review",
    "revoke": "health.leader",
}


def _ready(as_user, case_id: str) -> list[tuple[str, str]]:
    return [
        (e["payload"]["name"], e["payload"]["group"]) for e in events(as_user, case_id) if e["type"] == "task_ready"
    ]


def _end(as_user, case_id: str) -> dict:
    """Result and end event of the case's last close (case_completed, or case_closed after verification)."""
    closing = [e for e in events(as_user, case_id) if e["type"] in ("case_completed", "case_closed")]
    return {"result": closing[-1]["payload"]["result"], "end": closing[-1]["payload"]["end"]}


def _claimed(as_user, case_id: str, name: str) -> tuple:
    task = next(t for t in open_tasks(as_user, case_id) if t["name"] == name)
    user = {"center.window": "window1", "health.review": "health_reviewer", "health.leader": "health_leader"}
    actor = as_user(user[task["group"]])
    ok(actor.post(f"/api/tasks/{task['id']}/claim"))
    return actor, task


# --------------------------------------------------------------------------- the catalog


def test_catalog_entry(as_user):
    matter = ok(as_user("window1").get(f"/api/matters/{HYGIENE}"))
    assert {k: matter[k] for k in ("code", "department", "kind", "mode", "statutory_days", "promised_days")} == {
        "code": "WS-001",
        "department": "health",
        "kind": "promised",
        "mode": "commitment",
        "statutory_days": 20,
        "promised_days": 1,
    }
    assert matter["process_key"] == "public_place_hygiene" and matter["name"].startswith("公共场所卫生许可")
    assert not any(m["deferrable"] for m in matter["materials"])


def test_the_verification_window_comes_from_the_catalog(as_user):
    case = accept(as_user, HYGIENE)
    accepted = events(as_user, case["id"])[0]
    assert accepted["type"] == "case_accepted"
    assert accepted["payload"]["data"]["verification_days"] == 20


def test_the_case_data_may_set_another_window(as_user):
    case = accept(as_user, HYGIENE, data={"verification_days": 10})
    assert events(as_user, case["id"])[0]["payload"]["data"]["verification_days"] == 10


# --------------------------------------------------------------------------- forms


def test_the_pledge_must_be_given_and_signed(as_user):
    case = accept(as_user, HYGIENE)
    window, task = _claimed(as_user, case["id"], "pledge")
    for data in ({}, {"notice_given": True}, {"notice_given": True, "pledge_signed": False}):
        assert window.post(f"/api/tasks/{task['id']}/complete", json={"data": data}).status_code == 422
    signed = {"notice_given": True, "pledge_signed": True}
    assert window.post(f"/api/tasks/{task['id']}/complete", json={"data": signed}).status_code == 200
    assert [(t["name"], t["group"]) for t in open_tasks(as_user, case["id"])] == [("decide", "health.leader")]


def test_a_false_pledge_needs_the_findings(as_user):
    case = accept(as_user, HYGIENE)
    drive(as_user, case["id"], stop_at={"verify"})
    reviewer, task = _claimed(as_user, case["id"], "verify")
    response = reviewer.post(f"/api/tasks/{task['id']}/complete", json={"data": {"pledge_true": False}})
    assert response.status_code == 422 and "opinion" in response.get_json()["errors"]


def test_a_revocation_needs_its_reason(as_user):
    case = accept(as_user, HYGIENE)
    drive(as_user, case["id"], {"verify": FALSE_PLEDGE, "recheck": FALSE_PLEDGE}, stop_at={"revoke"})
    leader, task = _claimed(as_user, case["id"], "revoke")
    for data in ({}, {"reason": ""}):
        assert leader.post(f"/api/tasks/{task['id']}/complete", json={"data": data}).status_code == 422
    assert [t["name"] for t in open_tasks(as_user, case["id"])] == ["revoke"]


def test_only_the_front_desk_records_the_pledge(as_user):
    case = accept(as_user, HYGIENE)
    [task] = open_tasks(as_user, case["id"])
    assert (task["name"], task["group"]) == ("pledge", "center.window")
    assert as_user("health_reviewer").post(f"/api/tasks/{task['id']}/claim").status_code == 403


# --------------------------------------------------------------------------- every path


@pytest.mark.parametrize("key", sorted(k for k in SCENARIOS if k.startswith("public_place_hygiene:")))
def test_scenario(as_user, key):
    case_id = SCENARIOS[key](as_user)  # the driver checks the path and the result itself
    assert list(EXPECTED[key].path) == completed_path(as_user, case_id)
    for name, group in _ready(as_user, case_id):
        assert GROUPS[name] == group, name


def test_pledge_true_is_closed_after_verification(as_user):
    case_id = SCENARIOS["public_place_hygiene:pledge_true"](as_user)
    assert _end(as_user, case_id) == {"result": "approved", "end": "end_approved"}


def test_false_then_corrected_keeps_the_license(as_user):
    case_id = SCENARIOS["public_place_hygiene:corrected"](as_user)
    assert _end(as_user, case_id) == {"result": "approved", "end": "end_corrected"}


def test_false_then_still_false_is_revoked_with_a_reason(as_user):
    case_id = SCENARIOS["public_place_hygiene:revoked"](as_user)
    assert _end(as_user, case_id) == {"result": "revoked", "end": "end_revoked"}
    revoked = next(
        e for e in events(as_user, case_id) if e["type"] == "task_completed" and e["payload"]["name"] == "revoke"
    )
    assert revoked["actor"] == "health_leader" and "撤销" in revoked["payload"]["data"]["reason"]
    final = case_of(as_user, case_id)
    assert (final["status"], final["result"]) == ("completed", "revoked")


def test_the_case_is_decided_at_delivery_while_verification_goes_on(as_user):
    """办结 at delivery (the on-time rate counts it then); the verification continues after it."""
    log_in_everyone(as_user)
    case_id = hygiene_until_verification(as_user)
    decided = case_of(as_user, case_id)
    assert (decided["status"], decided["result"]) == ("completed", "approved") and decided["completed_at"]
    assert [t["name"] for t in decided["open_tasks"]] == ["verify"]
    completed = [e for e in events(as_user, case_id) if e["type"] == "case_completed"]
    assert len(completed) == 1
    assert completed[0]["payload"] == {"result": "approved", "end": "deliver", "continues": True}
    # Long after the promised day the sweep leaves a decided case alone: no warning is raised.
    scheduler_pass(as_user, HYGIENE_ACCEPTED_AT + timedelta(days=5))
    assert not [e for e in events(as_user, case_id) if e["type"] == "warning_changed"]
    assert case_of(as_user, case_id)["warning"] == "ok"


def test_decision_rejected_is_refused_without_verification(as_user):
    case_id = SCENARIOS["public_place_hygiene:decision_rejected"](as_user)
    assert _end(as_user, case_id) == {"result": "rejected", "end": "end_rejected"}
    assert "verify" not in [name for name, _ in _ready(as_user, case_id)]


# --------------------------------------------------------------------------- the verification timer


def _next_timer(app, case_id: str) -> datetime | None:
    with app.app_context():
        at = db.session.get(Case, int(case_id)).next_timer_at
        db.session.remove()
    return at if at is None or at.tzinfo else at.replace(tzinfo=UTC)


def test_the_verification_window_is_counted_in_working_days_from_acceptance(app, as_user):
    log_in_everyone(as_user)
    case_id = hygiene_until_verification(as_user)
    assert [t["name"] for t in open_tasks(as_user, case_id)] == ["verify"]
    assert case_of(as_user, case_id)["accepted_at"].startswith(HYGIENE_ACCEPTED_AT.isoformat()[:16])
    # 20 working days after Monday 2 March 2026: the end of Monday 30 March 2026.
    assert _next_timer(app, case_id) == HYGIENE_VERIFICATION_DUE.astimezone(UTC)


def test_the_escalation_fires_once_the_window_has_passed(app, as_user):
    log_in_everyone(as_user)
    case_id = hygiene_until_verification(as_user)
    before = scheduler_pass(as_user, HYGIENE_VERIFICATION_DUE - timedelta(hours=1))
    assert before is not None and before["timers_fired"] == 0
    assert [t["name"] for t in open_tasks(as_user, case_id)] == ["verify"]

    after = scheduler_pass(as_user, HYGIENE_AFTER_WINDOW)
    assert after is not None and after["timers_fired"] == 1
    assert [(t["name"], t["group"]) for t in open_tasks(as_user, case_id)] == [
        ("verify", "health.review"),
        ("escalate", "health.leader"),
    ]
    fired = [e for e in events(as_user, case_id) if e["type"] == "timer_fired"]
    assert [e["payload"]["elements"] for e in fired] == [["verify_overdue"]]
    assert _next_timer(app, case_id) is None  # a date timer fires once
    again = scheduler_pass(as_user, HYGIENE_AFTER_WINDOW + timedelta(days=1))
    assert again is not None and again["timers_fired"] == 0
    assert len([t for t in open_tasks(as_user, case_id) if t["name"] == "escalate"]) == 1


def test_verifying_ends_the_case_and_the_open_escalation(as_user):
    log_in_everyone(as_user)
    case_id = hygiene_until_verification(as_user)
    scheduler_pass(as_user, HYGIENE_AFTER_WINDOW)
    work_named(as_user, case_id, "verify")
    final = case_of(as_user, case_id)
    assert (final["status"], final["result"], final["open_tasks"]) == ("completed", "approved", [])
    cancelled = [e["payload"]["name"] for e in events(as_user, case_id) if e["type"] == "task_cancelled"]
    assert cancelled == ["escalate"]


def test_verifying_in_time_cancels_the_timer(app, as_user):
    log_in_everyone(as_user)
    case_id = hygiene_until_verification(as_user)
    work_named(as_user, case_id, "verify")
    assert _next_timer(app, case_id) is None
    after = scheduler_pass(as_user, HYGIENE_AFTER_WINDOW)
    assert after is not None and after["timers_fired"] == 0
    assert case_of(as_user, case_id)["result"] == "approved"


# --------------------------------------------------------------------------- the engine, saved between steps

DEFINITION = load_definition(BPMN.read_bytes())
FACTS = {
    "accepted_at": HYGIENE_ACCEPTED_AT.isoformat(),
    "promised_due": "2026-03-03T23:59:59.999999+08:00",
    "statutory_due": HYGIENE_VERIFICATION_DUE.isoformat(),
}
SUBMISSIONS = {
    "pledge": {"notice_given": True, "pledge_signed": True},
    "certify": {"certificate_no": "卫公字 001"},
    "deliver": {"method": "window"},
    "rectify": {"opinion": "限期整改"},
    "revoke": {"reason": "承诺不实"},
    "escalate": {"opinion": "督办"},
}


def _snapshot(run: Run) -> tuple:
    return [(t.id, t.spec.name) for t in run.ready_tasks()], run.data, run.completed, run.waiting_timers()


def _reload(run: Run) -> Run:
    state, version = run.dump()
    reloaded = Run.load(DEFINITION, state, version, facts=FACTS)
    assert _snapshot(reloaded) == _snapshot(run)
    return reloaded


@pytest.mark.parametrize(
    "answers,end,path",
    [
        ({"decide": True, "verify": True}, "end_approved", ["pledge", "decide", "certify", "deliver", "verify"]),
        ({"decide": False}, "end_rejected", ["pledge", "decide", "notify_refusal"]),
        (
            {"decide": True, "verify": False, "recheck": True},
            "end_corrected",
            ["pledge", "decide", "certify", "deliver", "verify", "rectify", "recheck"],
        ),
        (
            {"decide": True, "verify": False, "recheck": False},
            "end_revoked",
            ["pledge", "decide", "certify", "deliver", "verify", "rectify", "recheck", "revoke"],
        ),
    ],
)
def test_save_and_reload_between_every_step(db_session, answers, end, path):
    data = {"matter_code": HYGIENE, "materials_deferred": [], "verification_days": 20}
    run = Run.start(DEFINITION, data, at=HYGIENE_ACCEPTED_AT, facts=FACTS)
    walked = []
    while not run.completed:
        run = _reload(run)
        [task] = run.ready_tasks()
        name = task.spec.name
        if name == "decide":
            submitted = {"approved": answers[name], "opinion": "理由"}
        elif name in ("verify", "recheck"):
            submitted = {"pledge_true": answers[name], "opinion": "核查情况"}
        else:
            submitted = SUBMISSIONS.get(name, {"opinion": "ok"})
        if name == "verify":
            assert [e for e, _ in run.waiting_timers()] == ["verify_overdue"]
        run.complete(task.id, submitted, at=HYGIENE_ACCEPTED_AT)
        walked.append(name)
    assert (walked, run.end_reached()) == (path, end)
    assert run.result() == {"end_rejected": "rejected", "end_revoked": "revoked"}.get(end, "approved")
    assert run.waiting_timers() == []


def test_the_timer_fires_in_the_engine_after_a_reload(db_session):
    data = {"matter_code": HYGIENE, "materials_deferred": [], "verification_days": 20}
    run = Run.start(DEFINITION, data, at=HYGIENE_ACCEPTED_AT, facts=FACTS)
    for name in ("pledge", "decide", "certify", "deliver"):
        [task] = run.ready_tasks()
        assert task.spec.name == name
        run.complete(task.id, {"approved": True} if name == "decide" else SUBMISSIONS[name], at=HYGIENE_ACCEPTED_AT)
        run = _reload(run)
    assert run.next_timer_due() == HYGIENE_VERIFICATION_DUE.astimezone(UTC)
    assert run.fire_timers(at=HYGIENE_VERIFICATION_DUE - timedelta(seconds=1)) == []
    run = _reload(run)
    assert run.fire_timers(at=HYGIENE_AFTER_WINDOW) == ["verify_overdue"]
    run = _reload(run)
    assert sorted(t.spec.name for t in run.ready_tasks()) == ["escalate", "verify"]
    escalate = next(t for t in run.ready_tasks() if t.spec.name == "escalate")
    run.complete(escalate.id, SUBMISSIONS["escalate"], at=HYGIENE_AFTER_WINDOW)
    run = _reload(run)
    assert not run.completed and [t.spec.name for t in run.ready_tasks()] == ["verify"]
    [verify] = run.ready_tasks()
    run.complete(verify.id, {"pledge_true": True}, at=HYGIENE_AFTER_WINDOW)
    assert (run.end_reached(), run.result()) == ("end_approved", "approved")
