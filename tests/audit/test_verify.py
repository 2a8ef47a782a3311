"""verify: every chain checked; tampering through raw SQL is reported with the right case and seq."""

import json

import pytest
from sqlalchemy import text

from tests.audit import tamper
from tests.audit.scenarios import food_approve, food_reject
from tests.factories import accept


def _verify(as_user, **query):
    response = as_user("auditor").get("/api/audit/verify", query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _three_cases(as_user) -> list[int]:
    """A finished case, the case to tamper with, and a case after it (so the case id must be right)."""
    return [int(food_approve(as_user)), int(food_reject(as_user)), int(accept(as_user)["id"])]


def _event_count(app) -> int:
    with app.app_context():
        from app.extensions import db

        return db.session.execute(text("SELECT count(*) FROM events")).scalar()


def test_intact_chains(as_user, app, runner):
    _three_cases(as_user)
    report = _verify(as_user)
    assert report["intact"] is True and report["first_broken"] is None
    assert report["events_checked"] == _event_count(app) and report["cases_checked"] == 3
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["intact"] is True


def _forge_claim(session, case_id, seq, digest):
    tamper.insert_event(session, case_id, seq, type="task_claimed", payload={"name": "review"}, digest=digest)


# (what the attacker does, the seq verify must name); n is the number of events of the case.
TAMPERINGS = {
    "edited payload": (lambda s, c, n: tamper.edit_payload(s, c, 4, {"name": "review", "data": {"opinion": "改"}}), 4),
    "edited actor": (lambda s, c, n: s.execute(text(f"UPDATE events SET actor='x' WHERE case_id={c} AND seq=2")), 2),
    "deleted event": (lambda s, c, n: tamper.delete_event(s, c, 3), 3),
    "deleted last event": (lambda s, c, n: tamper.delete_event(s, c, n), "n"),
    "deleted and renumbered": (lambda s, c, n: (tamper.delete_event(s, c, 3), tamper.renumber_from(s, c, 4, -1)), 3),
    "swapped events": (lambda s, c, n: tamper.swap(s, c, 3, 4), 3),
    "inserted event": (lambda s, c, n: _forge_claim(s, c, 3, b"\x00" * 32), 3),
    "inserted and chained": (lambda s, c, n: _forge_claim(s, c, 3, None), 4),
    "appended and chained": (lambda s, c, n: _forge_claim(s, c, n + 1, None), "n+1"),
}


@pytest.mark.parametrize("kind", sorted(TAMPERINGS))
def test_tampering_is_caught_with_case_and_seq(as_user, app, runner, kind):
    first, target, third = _three_cases(as_user)
    with app.app_context():
        from app.extensions import db

        n = db.session.execute(text(f"SELECT event_seq FROM cases WHERE id = {target}")).scalar()
    action, seq = TAMPERINGS[kind]
    with tamper.raw_access(app) as session:
        action(session, target, n)
    expected_seq = {"n": n, "n+1": n + 1}.get(seq, seq)

    report = _verify(as_user)
    assert report["intact"] is False
    assert report["first_broken"]["case_id"] == str(target) and report["first_broken"]["seq"] == expected_seq
    assert report["broken_cases"] == 1 and report["cases_checked"] == 3
    assert _verify(as_user, case_id=first)["intact"] is True
    assert _verify(as_user, case_id=third)["intact"] is True
    assert _verify(as_user, case_id=target)["first_broken"]["seq"] == expected_seq

    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert json.loads(result.output)["first_broken"]["case_id"] == str(target)
    _assert_still_append_only(app)


def _assert_still_append_only(app):
    """The triggers are back after the attack (the attacker's trace is the broken chain)."""
    with app.app_context():
        from app.extensions import db

        for statement in ("UPDATE events SET actor = 'x'", "DELETE FROM events"):
            with pytest.raises(Exception, match="append-only"):
                db.session.execute(text(statement))
            db.session.rollback()


def test_all_events_of_a_case_deleted(as_user, app):
    _, target, _ = _three_cases(as_user)
    with tamper.raw_access(app) as session:
        session.execute(text(f"DELETE FROM events WHERE case_id = {target}"))
    broken = _verify(as_user)["first_broken"]
    assert (broken["case_id"], broken["seq"]) == (str(target), 1)


def test_verify_needs_auditor_or_supervisor(as_user):
    accept(as_user)
    assert as_user("window1").get("/api/audit/verify").status_code == 403
    assert as_user("market_reviewer1").get("/api/audit/verify").status_code == 403
    for user in ("auditor", "supervisor", "admin"):
        assert as_user(user).get("/api/audit/verify").status_code == 200


def test_verify_streams_in_batches(as_user, app):
    """A batch smaller than a case's chain gives the same answer (chains are cut across fetches)."""
    _three_cases(as_user)
    with app.app_context():
        from app.audit.verify import verify

        small, whole = verify(batch=3).as_dict(), verify().as_dict()
    assert small == whole and small["intact"] is True
