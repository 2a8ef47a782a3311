"""bpmn/senior_card.bpmn (老年人优待证, an immediate matter): accepted and finished at the window in
one step, through the HTTP API and in the engine with a save and reload between steps."""

from pathlib import Path

import pytest

from app.engine.parser import load_definition
from app.engine.runtime import Run
from config import BASE_DIR
from tests.processes.scenarios import EXPECTED, SCENARIOS, SENIOR, accept, case_of, events, ok, open_tasks

BPMN = Path(BASE_DIR / "bpmn" / "senior_card.bpmn")


def test_catalog_entry(as_user):
    matter = ok(as_user("window1").get(f"/api/matters/{SENIOR}"))
    assert {k: matter[k] for k in ("code", "name", "department", "kind", "mode", "process_key")} == {
        "code": "MZ-001",
        "name": "老年人优待证办理",
        "department": "civil",
        "kind": "immediate",
        "mode": "serial",
        "process_key": "senior_card",
    }
    assert (matter["statutory_days"], matter["promised_days"]) == (0, 0)
    assert [m["name"] for m in matter["materials"] if m["required"]] == ["居民身份证", "近期一寸免冠彩色照片"]


def test_an_immediate_case_is_due_the_same_day(as_user):
    case = accept(as_user, SENIOR)
    accepted_on = case["accepted_at"][:10]
    assert case["deadlines"]["promised_due"][:10] == case["deadlines"]["statutory_due"][:10]
    due = ok(as_user("window1").get("/api/calendar/due", query_string={"from": accepted_on, "days": 0}))
    assert case["deadlines"]["promised_due"][:10] == due["due_date"]


def test_one_step_at_the_window(as_user):
    case = accept(as_user, SENIOR)
    [task] = open_tasks(as_user, case["id"])
    assert (task["name"], task["title"], task["group"]) == ("handle", "当场审核办结", "center.window")
    detail = ok(as_user("window1").get(f"/api/tasks/{task['id']}"))
    assert detail["form"] == "declared"
    approved, opinion = detail["fields"]
    assert (approved["name"], approved["type"], approved["required"]) == ("approved", "boolean", True)
    assert (opinion["name"], opinion["required_if"]) == ("opinion", "approved == False")
    # The civil affairs reviewers see the case (their department's) but the step is the window's.
    assert as_user("civil_reviewer").get(f"/api/cases/{case['id']}").status_code == 200
    assert as_user("civil_reviewer").post(f"/api/tasks/{task['id']}/claim").status_code == 403


def test_a_rejection_needs_its_reason(as_user):
    case = accept(as_user, SENIOR)
    [task] = open_tasks(as_user, case["id"])
    window = as_user("window1")
    window.post(f"/api/tasks/{task['id']}/claim")
    response = window.post(f"/api/tasks/{task['id']}/complete", json={"data": {"approved": False}})
    assert response.status_code == 422
    assert case_of(as_user, case["id"])["status"] == "in_progress"


@pytest.mark.parametrize("key,result", [("senior_card:approve", "approved"), ("senior_card:reject", "rejected")])
def test_scenario(as_user, key, result):
    case_id = SCENARIOS[key](as_user)  # the driver checks the path and the result itself
    assert EXPECTED[key].result == result
    record = events(as_user, case_id)
    assert [e["type"] for e in record] == [
        "case_accepted",
        "task_ready",
        "document_issued",  # the receipt (受理通知书)
        "task_claimed",
        "task_completed",
        "document_issued",  # the decision (准予/不予行政许可决定书)
        "case_completed",
        *(["case_filed"] if result == "rejected" else []),  # a rejection is filed (否定报备)
    ]
    completed = next(e for e in record if e["type"] == "case_completed")
    assert completed["payload"] == {"result": result, "end": f"end_{result}"}
    final = case_of(as_user, case_id)
    assert final["completed_at"] is not None


def test_every_scenario_of_the_process_is_registered():
    assert {k for k in SCENARIOS if k.startswith("senior_card:")} == {"senior_card:approve", "senior_card:reject"}


DEFINITION = load_definition(BPMN.read_bytes())


@pytest.mark.parametrize("approved,end", [(True, "end_approved"), (False, "end_rejected")])
def test_save_and_reload_between_every_step(approved, end):
    run = Run.start(DEFINITION, {"matter_code": SENIOR, "materials_deferred": []})
    state, version = run.dump()
    reloaded = Run.load(DEFINITION, state, version)
    assert [(t.id, t.spec.name) for t in reloaded.ready_tasks()] == [(t.id, t.spec.name) for t in run.ready_tasks()]
    assert reloaded.data == run.data
    [task] = reloaded.ready_tasks()
    reloaded.complete(task.id, {"approved": approved, "opinion": "理由"})
    state, version = reloaded.dump()
    final = Run.load(DEFINITION, state, version)
    assert final.completed and final.end_reached() == end
    assert final.result() == ("approved" if approved else "rejected")
    assert final.data["handle"] == {"approved": approved, "opinion": "理由"}
