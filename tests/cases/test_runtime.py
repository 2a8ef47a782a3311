"""The case runtime and the set-based catch-up: the events a sweep writes in bulk are the chain that
recording them one by one (audit.record) would have written, and the case row's chain head follows."""

from __future__ import annotations

import re
from types import SimpleNamespace

from sqlalchemy import select, text

from app import clock
from app.audit import service as audit
from app.audit.models import Event
from app.cases import writeback
from app.cases.models import Case, CaseState
from app.extensions import db
from tests.factories import accept, application, work
from tests.timekeeping import bj, pass_result, run_pass


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
    assert run_pass(app) == pass_result(timers_fired=0, case_warnings=0, task_warnings=0)


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


def test_a_step_rolled_back_to_its_savepoint_leaves_no_trace_in_memory_or_database(app, as_user):
    """Inside a savepoint the step's writes go through the ORM, so a rollback to the savepoint undoes
    them in the session too (the one-statement write of app/cases/writeback.py is for plain steps)."""
    from app.cases import runtime
    from app.identity.service import get_user, to_principal

    case = accept(as_user)
    task_id = int(case["open_tasks"][0]["id"])
    assert as_user("market_reviewer1").post(f"/api/tasks/{task_id}/claim").status_code == 200
    with app.app_context():
        principal = to_principal(get_user(username="market_reviewer1"))
        before = db.session.get(Case, int(case["id"])).event_seq
        savepoint = db.session.begin_nested()
        _, stepped, _ = runtime.complete(task_id=task_id, principal=principal, data={"opinion": "材料齐全"})
        assert stepped.event_seq > before
        savepoint.rollback()
        assert db.session.get(Case, int(case["id"])).event_seq == before
        assert [e.type for e in _events(int(case["id"]))][-1] == "task_claimed"
        db.session.rollback()
        db.session.remove()


def _raw_rows(case_id: int) -> dict[str, list[tuple]]:
    """The case's rows as the database returns them (JSON columns as their stored text), without the
    ids that differ from one case to the next (nor the case row's version counter: the ORM writes a new
    case's row twice, the one-statement write once)."""
    queries = {
        "cases": "SELECT status, result, end_event, CAST(applicant AS TEXT), CAST(materials AS TEXT),"
        " accepted_at, accepted_by, completed_at, statutory_days, promised_days, statutory_due, promised_due,"
        " warning_at, suspended_days, extended_days, provisional, warning, next_timer_at,"
        " event_seq, length(last_hash) FROM cases WHERE id = :id",
        "tasks": "SELECT name, title, form, group_code, assignee, state, created_at, claimed_at, completed_at,"
        " completed_by, limit_days, shifted_days, due_at, warning_at, warning, matter_code, applicant_name"
        " FROM tasks WHERE case_id = :id ORDER BY id",
        "events": "SELECT seq, at, actor, type, task_id IS NULL, CAST(payload AS TEXT), length(hash)"
        " FROM events WHERE case_id = :id ORDER BY seq",
        "documents": "SELECT kind, title, department, created_at, created_by, length(html) > 1000, pdf, pdf_sha256"
        " FROM documents WHERE case_id = :id ORDER BY id",
    }
    return {name: [_masked(r) for r in db.session.execute(text(sql), {"id": case_id})] for name, sql in queries.items()}


def _masked(row) -> tuple:
    """Case and document numbers and digests (in payloads) masked: they differ from case to case."""
    masked = r"[0-9a-f]{16,}|\d{6,}|(?<=\"document_id\":)\d+|(?<=〔\d{4}〕)\d+"
    return tuple(re.sub(masked, "#", v) if isinstance(v, str) else v for v in row)


def _decided_case(as_user) -> int:
    """A case accepted with a deferred material and worked to its decision (a document on each of
    acceptance, deferral and decision)."""
    body = application(materials=["食品经营许可申请书", "营业执照复印件", "法定代表人身份证明"])
    case = accept(as_user, body)
    review = next(t for t in case["open_tasks"] if t["name"] == "review")
    done = work(as_user, review, {"opinion": "材料齐全", "needs_inspection": False}, user="market_reviewer1")
    audit_step = next(t for t in done["case"]["open_tasks"] if t["name"] == "audit")
    done = work(as_user, audit_step, {"opinion": "同意"}, user="market_chief")
    decide = next(t for t in done["case"]["open_tasks"] if t["name"] == "decide")
    work(as_user, decide, {"approved": True, "opinion": "同意"}, user="market_leader")
    return int(case["id"])


def test_the_one_statement_write_stores_the_rows_the_orm_stores(app, as_user, monkeypatch):
    """On PostgreSQL a step's rows go out as JSON read by json_populate_recordset (app/cases/writeback.py):
    every value (times to the microsecond, Chinese text, JSON documents, bytes) is stored as the ORM's own
    flush stores it. The same case is worked twice at the same instants, the second time with the ORM."""
    clock.freeze(bj(2026, 11, 2, 9, 30, 15, 123456))
    accept(as_user, application(materials=["食品经营许可申请书", "营业执照复印件", "法定代表人身份证明"]))
    one_statement = _decided_case(as_user)  # (the year's number series exist since the first acceptance)
    monkeypatch.setattr(writeback, "applies", lambda: False)
    by_orm = _decided_case(as_user)
    with app.app_context():
        ours, theirs = _raw_rows(one_statement), _raw_rows(by_orm)
        db.session.remove()
    assert ours == theirs
    assert [len(ours[t]) for t in ("cases", "tasks", "events", "documents")] == [1, 5, len(ours["events"]), 3]
    assert "2026-11-02 01:30:15" in str(ours["events"][0][1])  # in UTC (microseconds: compared above)
    assert ours["cases"][0][3].startswith('{"name":"张三"')  # JSON compact, Chinese as UTF-8
    for case_id in (one_statement, by_orm):
        assert as_user("auditor").get(f"/api/audit/verify?case_id={case_id}").get_json()["intact"] is True
