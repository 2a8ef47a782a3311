"""The case runtime and the set-based catch-up: the events a sweep writes in bulk are the chain that
recording them one by one (audit.record) would have written, and the case row's chain head follows."""

from __future__ import annotations

from types import SimpleNamespace

from sqlalchemy import select

from app import clock
from app.audit import service as audit
from app.audit.models import Event
from app.cases.models import Case, CaseState
from app.extensions import db
from tests.factories import accept, work
from tests.timekeeping import bj, run_pass


def _events(case_id: int) -> list[Event]:
    return list(db.session.scalars(select(Event).where(Event.case_id == case_id).order_by(Event.seq)))


def test_a_catch_up_writes_the_chain_record_would_write(app, as_user):
    clock.freeze(bj(2026, 11, 2))
    ids = [int(accept(as_user)["id"]) for _ in range(3)]
    claimed = accept(as_user)
    work(as_user, claimed["open_tasks"][0], {"opinion": "材料齐全"}, user="market_reviewer1")
    ids.append(int(claimed["id"]))
    clock.freeze(bj(2026, 12, 2, 9))  # past every limit: case and step levels change, timers fire
    result = run_pass(app)
    assert result["case_warnings"] == 4 and result["task_warnings"] >= 3, result
    with app.app_context():
        for case_id in ids:
            stored = _events(case_id)
            swept = [e for e in stored if e.type == "warning_changed"]
            assert swept and {e.actor for e in swept} == {"system"}
            # Re-record every event one by one, as audit.record does, from the genesis of the chain.
            head = SimpleNamespace(id=case_id, event_seq=0, last_hash=None)
            for event in stored:
                fields = {"actor": event.actor, "payload": event.payload, "task_id": event.task_id, "at": event.at}
                assert audit.chain(head, event.type, **fields)["hash"] == event.hash, (case_id, event.seq)
            case = db.session.get(Case, case_id)
            assert (
                (case.event_seq, case.last_hash)
                == (head.event_seq, head.last_hash)
                == (stored[-1].seq, stored[-1].hash)
            )
        db.session.remove()
    verified = as_user("auditor").get("/api/audit/verify").get_json()
    assert verified["intact"] is True, verified
    for case_id in ids:
        assert as_user("auditor").get(f"/api/cases/{case_id}/replay").get_json()["consistent"] is True
    assert run_pass(app) == {"timers_fired": 0, "case_warnings": 0, "task_warnings": 0, "absences_applied": 0}


def test_the_state_lives_apart_from_the_case_row(app, as_user):
    case = accept(as_user)
    with app.app_context():
        state = db.session.get(CaseState, int(case["id"]))
        assert state is not None and state.format.startswith("spiff-") and len(state.state) > 100
        assert "state" not in Case.__table__.c and "state_format" not in Case.__table__.c
        before = state.state
        db.session.remove()
    work(as_user, case["open_tasks"][0], {"opinion": "材料齐全"}, user="market_reviewer1")
    with app.app_context():
        assert db.session.get(CaseState, int(case["id"])).state != before  # the complete stored the step
        db.session.remove()


def test_a_withdrawn_case_keeps_its_cancelled_workflow_and_is_not_completed(app, as_user):
    case = accept(as_user)
    response = as_user("window1").post(f"/api/cases/{case['id']}/withdraw", json={"reason": "申请人撤回"})
    assert response.status_code == 200 and response.get_json()["status"] == "withdrawn"
    types = [e["type"] for e in as_user("auditor").get(f"/api/cases/{case['id']}/events").get_json()["items"]]
    assert types[-2:] == ["task_cancelled", "case_withdrawn"] and "case_completed" not in types
    assert as_user("auditor").get(f"/api/cases/{case['id']}/replay").get_json()["consistent"] is True
