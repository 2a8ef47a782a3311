"""The hot path's SQL, as the database receives it: a claim never reads the workflow state, and a
complete reads case, tasks and state in one locking statement."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from app.extensions import db
from tests.conftest import is_postgres
from tests.documents.helpers import documents_of, html_of
from tests.factories import accept, application, work
from tests.timekeeping import events as events_of


@contextmanager
def statements(app) -> Iterator[list[str]]:
    """Every SQL statement sent meanwhile (transaction control aside), lower-cased."""
    seen: list[str] = []

    def listen(conn, cursor, statement, parameters, context, executemany):
        text = " ".join(statement.split()).lower()
        if not re.match(r"(begin|commit|rollback|savepoint|release)\b", text):
            seen.append(text)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listen)


def _writes(sent: list[str]) -> list[str]:
    """The table-level writes, in order; a PostgreSQL statement of data-modifying CTEs counts each."""
    found = []
    for s in sent:
        for match in re.finditer(r"(?:^|\bas \()(insert into \w+|update \w+|delete from \w+)", s):
            found.append(match.group(1))
    return found


def _claim_writes(app, sent: list[str]) -> None:
    """A claim writes the task, the case's chain head and its event: one statement on PostgreSQL."""
    assert sorted(_writes(sent)) == ["insert into events", "update cases", "update tasks"], sent
    writing = [s for s in sent if _writes([s])]
    assert len(writing) == (1 if is_postgres(app) else 3), writing


def test_a_claim_never_reads_the_workflow_state(app, as_user):
    case = accept(as_user)
    task = case["open_tasks"][0]
    reviewer = as_user("market_reviewer1")
    with statements(app) as sent:
        response = reviewer.post(f"/api/tasks/{task['id']}/claim")
    assert response.status_code == 200 and response.get_json()["assignee"] == "market_reviewer1"
    assert sent, "the listener saw nothing"
    assert not [s for s in sent if "case_state" in s], sent
    # Nor the case's heavy columns: the lock reads the chain head and the task's own columns.
    assert not [s for s in sent if re.search(r"cases\.(applicant|materials)\b", s)], sent
    _claim_writes(app, sent)
    assert events_of(as_user, case["id"])[-1]["type"] == "task_claimed"


def test_unclaim_is_as_lean_as_a_claim(app, as_user):
    task = accept(as_user)["open_tasks"][0]
    reviewer = as_user("market_reviewer1")
    assert reviewer.post(f"/api/tasks/{task['id']}/claim").status_code == 200
    with statements(app) as sent:
        response = reviewer.post(f"/api/tasks/{task['id']}/unclaim")
    assert response.status_code == 200 and response.get_json()["assignee"] is None
    assert not [s for s in sent if "case_state" in s], sent
    _claim_writes(app, sent)


def test_a_complete_reads_case_tasks_and_state_in_one_locking_statement(app, as_user):
    task = accept(as_user)["open_tasks"][0]
    reviewer = as_user("market_reviewer1")
    assert reviewer.post(f"/api/tasks/{task['id']}/claim").status_code == 200
    with statements(app) as sent:
        response = reviewer.post(f"/api/tasks/{task['id']}/complete", json={"data": {"opinion": "材料齐全"}})
    assert response.status_code == 200, response.get_json()
    assert [t["name"] for t in response.get_json()["case"]["open_tasks"]] == ["audit"]
    reads_state = [s for s in sent if s.startswith("select") and "case_state" in s]
    assert len(reads_state) == 1, reads_state
    assert " from cases join tasks" in reads_state[0] and "left outer join case_state" in reads_state[0]
    if is_postgres(app):
        assert reads_state[0].endswith("for update of cases")
    # The state is written once, by one UPDATE of its own row; the case row never carries it.
    assert _writes(sent).count("update case_state") == 1, sent
    if is_postgres(app):  # the read (which draws the new task's id) and one write: two statements in all
        step = [s for s in sent if "api_tokens" not in s and "user_groups" not in s]  # the login aside
        assert len(step) == 2 and "nextval" in step[0], step
        assert {"insert into tasks", "insert into events", "update tasks", "update cases"} <= set(_writes(step[1:]))
    assert not [s for s in sent if s.startswith("update cases") and "state =" in s.split(" where ")[0]], sent


def _decide_claimed(as_user) -> tuple[dict, dict]:
    """A new case, its review and audit done, its decision claimed by the leader: (case, decide task)."""
    case = accept(as_user)
    task = work(
        as_user, case["open_tasks"][0], {"opinion": "材料齐全", "needs_inspection": False}, user="market_reviewer1"
    )
    task = work(as_user, task["case"]["open_tasks"][0], {"opinion": "同意"}, user="market_chief")
    decide = task["case"]["open_tasks"][0]
    assert (
        decide["name"] == "decide"
        and as_user("market_leader").post(f"/api/tasks/{decide['id']}/claim").status_code == 200
    )
    return case, decide


def test_a_complete_that_issues_a_document_adds_one_statement_and_writes_it_with_the_step(app, as_user):
    """The decision (准予行政许可决定书): its number, its id and the names it prints are drawn in one
    statement, and on PostgreSQL the document row goes out with the step's one write."""
    leader = as_user("market_leader")
    first, decide = _decide_claimed(as_user)  # the year's first decision also creates its number series
    assert leader.post(f"/api/tasks/{decide['id']}/complete", json={"data": {"approved": True}}).status_code == 200
    case, decide = _decide_claimed(as_user)
    with statements(app) as sent:
        response = leader.post(
            f"/api/tasks/{decide['id']}/complete", json={"data": {"approved": True, "opinion": "同意"}}
        )
    assert response.status_code == 200, response.get_json()
    numbers = []
    for case_id in (first["id"], case["id"]):
        decision = [d for d in documents_of(as_user, case_id) if d["kind"] == "decision"]
        assert len(decision) == 1 and decision[0]["title"] == "准予行政许可决定书"
        html = html_of(as_user, decision[0])
        assert decision[0]["number"] in html and "市场监督管理局" in html  # the drawn number, the names read with it
        numbers.append(decision[0]["number"])
    assert [n[-5:] for n in numbers] == ["0001号", "0002号"], numbers
    if is_postgres(app):
        step = [s for s in sent if "api_tokens" not in s and "user_groups" not in s]
        assert len(step) == 3, [s[:160] for s in step]  # the locking read, the document's draw, the step's write
        assert "update document_sequences" in step[1] and "nextval" in step[1] and "departments" in step[1]
        assert {"insert into documents", "insert into events", "update cases"} <= set(_writes(step[2:]))


def test_an_acceptance_writes_the_case_whole_in_one_statement(app, as_user):
    """On PostgreSQL: the matter and its version read, the case's and its first task's ids drawn, the
    receipt's number, id and names drawn, then one write: the case row (its chain head final), its
    state, its task, its receipt and their events (four statements). With deferred materials: two
    tasks (one more id drawn) and two papers."""
    clerk = as_user("window1")
    deferring = application(materials=["食品经营许可申请书", "营业执照复印件", "法定代表人身份证明"])
    assert clerk.post("/api/cases", json=deferring).status_code == 201  # the year's number series exist
    for body, tasks, papers in (
        (application(), ["review"], ["receipt"]),
        (deferring, ["review", "supplement"], ["receipt", "deferral_notice"]),
    ):
        with statements(app) as sent:
            response = clerk.post("/api/cases", json=body)
        assert response.status_code == 201, response.get_json()
        case = response.get_json()
        assert sorted(t["name"] for t in case["open_tasks"]) == tasks
        assert [d["kind"] for d in documents_of(as_user, case["id"])] == papers
        verified = as_user("auditor").get(f"/api/audit/verify?case_id={case['id']}").get_json()
        assert verified["intact"] is True and verified["events_checked"] == 1 + len(tasks) + len(papers), verified
        review = next(t for t in case["open_tasks"] if t["name"] == "review")
        done = work(as_user, review, {"opinion": "材料齐全", "needs_inspection": False}, user="market_reviewer1")
        assert done["state"] == "completed"  # the rows written whole are the rows the next step works on
        if is_postgres(app):
            step = [s for s in sent if "api_tokens" not in s and "user_groups" not in s]
            # the matter, the ids (one more read when a second task opens), a read per paper, the write
            assert len(step) == 3 + (len(tasks) > 1) + len(papers), [s[:120] for s in step]
            written = {"insert into cases", "insert into case_state", "insert into tasks", "insert into events"}
            assert written | {"insert into documents"} <= set(_writes(step[-1:])), step[-1][:300]
            assert not _writes(step[:-1]) or set(_writes(step[:-1])) == {"update document_sequences"}
            assert not [s for s in step if s.startswith("update cases")]  # the chain head goes out in the INSERT
