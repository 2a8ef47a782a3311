"""Replay: every scenario of every process in bpmn/ replays consistent, every prefix too; ?upto=N gives
the state as it stood; a record that no longer matches the process is a divergence."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree

from app import clock
from config import BASE_DIR
from tests.audit import joint_process, tamper
from tests.audit.scenarios import all_scenarios, covered_processes, food_approve, food_suspend_extend, ok
from tests.factories import accept, application, open_tasks, work

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def _replay(as_user, case_id, **query) -> dict:
    return ok(as_user("auditor").get(f"/api/cases/{case_id}/replay", query_string=query))


def _events(as_user, case_id) -> list[dict]:
    return ok(as_user("auditor").get(f"/api/cases/{case_id}/events"))["items"]


def test_every_process_in_bpmn_has_a_scenario():
    keys = set()
    for path in Path(BASE_DIR / "bpmn").glob("*.bpmn"):
        root = etree.parse(str(path)).getroot()
        keys |= {p.get("id") for p in root.iter(f"{{{BPMN_NS}}}process") if p.get("isExecutable") == "true"}
    missing = keys - covered_processes()
    assert not missing, f"register a scenario in tests/audit/scenarios.py for: {sorted(missing)}"


@pytest.mark.parametrize("name", sorted(all_scenarios()))
def test_scenario_replays_consistent(as_user, name):
    case_id = all_scenarios()[name](as_user)
    events = _events(as_user, case_id)
    report = _replay(as_user, case_id)
    workflow = ("case_accepted", "task_completed", "timer_fired", "timers_rescheduled", "case_withdrawn")
    workflow_steps = sum(e["type"] in workflow for e in events)
    assert report == {"case_id": case_id, "consistent": True, "steps": workflow_steps, "divergence": None}
    for event in events:  # every prefix is consistent too, and its state is the record's
        prefix = _replay(as_user, case_id, upto=event["seq"])
        assert prefix["consistent"] is True, (event, prefix)
        assert prefix["state"]["seq"] == event["seq"]


def test_upto_gives_the_state_after_each_event(as_user):
    case_id = food_suspend_extend(as_user)
    events = _events(as_user, case_id)
    seq = {(e["type"], e["payload"].get("name")): e["seq"] for e in reversed(events)}

    accepted = _replay(as_user, case_id, upto=seq[("task_ready", "review")])["state"]
    assert accepted["status"] == "in_progress" and accepted["result"] is None
    assert [(t["name"], t["group"], t["assignee"]) for t in accepted["open_tasks"]] == [
        ("review", "market.review", None)
    ]
    assert accepted["data"]["matter_code"] == "SC-001"
    first_due = events[0]["payload"]["deadlines"]
    assert accepted["deadlines"]["statutory_due"] == first_due["statutory_due"]
    assert accepted["deadlines"]["suspended_days"] == 0

    claimed = _replay(as_user, case_id, upto=seq[("task_claimed", "review")])["state"]
    assert claimed["open_tasks"][0]["assignee"] == "market_reviewer1"

    suspended = _replay(as_user, case_id, upto=seq[("case_suspended", None)])["state"]
    assert suspended["status"] == "suspended" and suspended["deadlines"]["clock_stopped"] is True
    assert suspended["data"]["review"]["opinion"] == "材料齐全，符合要求"

    extended = _replay(as_user, case_id, upto=seq[("case_extended", None)])["state"]
    resumed = next(e for e in events if e["type"] == "case_resumed")["payload"]
    assert extended["status"] == "in_progress" and extended["deadlines"]["suspended_days"] == resumed["added_days"] > 0
    assert extended["deadlines"]["extended_days"] == 10
    assert extended["deadlines"]["promised_due"] == resumed["promised_due"]
    assert extended["deadlines"]["statutory_due"] != resumed["statutory_due"]

    final = _replay(as_user, case_id, upto=events[-1]["seq"])["state"]
    assert final["status"] == "completed" and final["result"] == "approved" and final["open_tasks"] == []
    assert final["data"]["decide"]["approved"] is True and final["data"]["decide"]["opinion"] == "同意"
    assert _replay(as_user, case_id, upto=10_000)["state"] == final


def test_upto_must_be_positive(as_user):
    case = accept(as_user)
    response = as_user("auditor").get(f"/api/cases/{case['id']}/replay?upto=0")
    assert response.status_code == 422


def test_parallel_tasks_of_one_name_and_a_timer(app, as_user):
    """Three READY tasks share one element id; they are completed out of order; a timer then moves the case."""
    joint_process.install(app, as_user)
    clock.freeze(datetime(2025, 3, 4, 1, 0, tzinfo=UTC))
    case = accept(as_user, application(joint_process.MATTER, materials=[]))
    reviews = case["open_tasks"]
    assert [t["name"] for t in reviews] == ["joint"] * 3
    order = [(reviews[1], "market_reviewer1"), (reviews[2], "market_reviewer2"), (reviews[0], "market_reviewer1")]
    for task, user in order:
        clock.advance(timedelta(minutes=5))
        work(as_user, task, {"opinion": f"{user} 同意"}, user=user)
    assert [t["name"] for t in open_tasks(as_user, case["id"])] == ["decide"]
    assert _replay(as_user, case["id"])["consistent"] is True

    clock.advance(timedelta(hours=3))
    joint_process.fire_timers(app)
    escalated = open_tasks(as_user, case["id"])
    assert [t["name"] for t in escalated] == ["escalated"]
    work(as_user, escalated[0], {"opinion": "督办后同意"}, user="market_chief")

    types = [e["type"] for e in _events(as_user, case["id"])]
    assert "timer_fired" in types and "task_cancelled" in types and types[-1] == "case_completed"
    report = _replay(as_user, case["id"])
    assert report["consistent"] is True, report
    assert report["steps"] == 1 + 3 + 1 + 1
    for seq in range(1, len(types) + 1):
        assert _replay(as_user, case["id"], upto=seq)["consistent"] is True


def _chained_edit(app, case_id, edit):
    """Edit the record and recompute every hash and the head: verify can no longer see it."""
    with tamper.raw_access(app) as session:
        edit(session, case_id)
        tamper.rechain(session, case_id)


def test_edited_decision_is_a_divergence(app, as_user, runner):
    case_id = food_approve(as_user)

    def flip(session, cid):
        decided = tamper.seq_of(session, cid, "task_completed", "decide")
        tamper.edit_payload(session, cid, decided, {"name": "decide", "data": {"approved": False, "opinion": "不予"}})

    _chained_edit(app, int(case_id), flip)
    assert ok(as_user("auditor").get("/api/audit/verify"))["intact"] is True
    report = _replay(as_user, case_id)
    certify_ready = next(e for e in _events(as_user, case_id) if e["payload"].get("name") == "certify")
    assert report["consistent"] is False
    assert report["divergence"]["seq"] == certify_ready["seq"]
    assert report["divergence"]["expected"] == {"task_ready": "certify"}
    assert report["divergence"]["actual"] == {"new_tasks": ["notify_refusal"]}

    result = runner.invoke(args=["audit", "replay", case_id])
    assert result.exit_code == 1 and json.loads(result.output)["divergence"]["seq"] == certify_ready["seq"]


def test_deleted_task_ready_is_a_divergence(app, as_user):
    case_id = food_approve(as_user)
    with tamper.raw_access(app) as session:
        ready = tamper.seq_of(session, int(case_id), "task_ready", "audit")
    _chained_edit(
        app,
        int(case_id),
        lambda s, cid: (tamper.delete_event(s, cid, ready), tamper.renumber_from(s, cid, ready + 1, -1)),
    )
    divergence = _replay(as_user, case_id)["divergence"]
    assert divergence["seq"] == ready  # the claim that now sits there names a task the record never opened


def test_edited_start_data_is_a_divergence_in_the_stored_data(app, as_user):
    case_id = food_approve(as_user)

    def edit(session, cid):
        payload = tamper.payload_of(session, cid, 1)
        payload["data"]["matter_code"] = "SC-999"
        tamper.edit_payload(session, cid, 1, payload)

    _chained_edit(app, int(case_id), edit)
    divergence = _replay(as_user, case_id)["divergence"]
    assert divergence["seq"] == len(_events(as_user, case_id))
    assert divergence["expected"] == {"matter_code": "SC-001"} and divergence["actual"] == {"matter_code": "SC-999"}


def test_changed_process_file_is_a_divergence(app, as_user):
    case_id = food_approve(as_user)
    with app.app_context():
        from sqlalchemy import text

        from app.extensions import db

        db.session.execute(text("UPDATE process_versions SET xml = :x"), {"x": b"<changed/>"})
        db.session.commit()
    divergence = _replay(as_user, case_id)["divergence"]
    assert divergence["seq"] == 1 and "hash" in divergence["message"]


def test_replay_from_the_command_line(as_user, runner):
    case_id = food_approve(as_user)
    result = runner.invoke(args=["audit", "replay", case_id, "--upto", "2"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["consistent"] is True and [t["name"] for t in report["state"]["open_tasks"]] == ["review"]
    missing = runner.invoke(args=["audit", "replay", "999999"])
    assert missing.exit_code == 1 and "No such case" in missing.output


def test_replay_visibility(as_user):
    case = accept(as_user)
    assert as_user("housing_reviewer").get(f"/api/cases/{case['id']}/replay").status_code == 403
    assert as_user("market_reviewer1").get(f"/api/cases/{case['id']}/replay").status_code == 200
    assert as_user("auditor").get("/api/cases/999999/replay").status_code == 404
