"""The event log: written with every change, chained per case, recomputable from the API output."""

import hashlib
import json
from datetime import UTC, datetime

from sqlalchemy import text

from app.extensions import db
from tests.factories import accept, work


def _recompute(event: dict, case_id: str) -> str:
    body = {
        "case_id": int(case_id),
        "seq": event["seq"],
        "at": datetime.fromisoformat(event["at"]).astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": event["actor"],
        "type": event["type"],
        "task_id": int(event["task_id"]) if event["task_id"] is not None else None,
        "payload": event["payload"],
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    return hashlib.sha256(bytes.fromhex(event["prev_hash"]) + canonical).hexdigest()


def test_chain_can_be_recomputed_by_an_outside_tool(as_user):
    case = accept(as_user)
    work(as_user, case["open_tasks"][0], {"opinion": "材料齐全"}, user="market_reviewer1")
    events = as_user("auditor").get(f"/api/cases/{case['id']}/events").get_json()["items"]
    assert len(events) == 6  # accepted, its task, the receipt issued, claimed, completed, the next task
    assert events[0]["prev_hash"] == "0" * 64
    for before, after in zip(events, events[1:], strict=False):
        assert after["prev_hash"] == before["hash"]
    for event in events:
        assert _recompute(event, case["id"]) == event["hash"]


def test_events_record_actor_and_time(as_user):
    case = accept(as_user, clerk="window2")
    first = as_user("auditor").get(f"/api/cases/{case['id']}/events").get_json()["items"][0]
    assert first["type"] == "case_accepted" and first["actor"] == "window2"
    assert first["payload"]["process_key"] == "food_business_license" and first["payload"]["process_version"] == 1
    assert first["at"] == case["accepted_at"]


def test_events_are_append_only_in_the_database(app, as_user):
    case = accept(as_user)
    with app.app_context():
        for statement in ("UPDATE events SET actor = 'mallory'", "DELETE FROM events"):
            try:
                db.session.execute(text(statement))
                raise AssertionError(f"{statement} was allowed")
            except Exception as exc:  # noqa: BLE001 - the database refuses; any driver error class will do
                assert "append-only" in str(exc)
            db.session.rollback()
    # accepted, its first task ready, its receipt issued
    assert as_user("auditor").get(f"/api/cases/{case['id']}/events").get_json()["total"] == 3


def test_documented_worked_example_holds():
    """docs/audit.md's worked example: each hash recomputes, chains, and is what the code writes."""
    import re

    from app.audit.service import canonical, chain_hash
    from config import BASE_DIR

    doc = (BASE_DIR / "docs" / "audit.md").read_text(encoding="utf-8")
    block = doc.split("<!-- worked-example -->", 1)[1].split("```text", 1)[1].split("```", 1)[0]
    triples = re.findall(r"prev_hash\s+(\w+)\ncanonical\s+(.+)\nhash\s+(\w+)", block)
    assert len(triples) == 3
    previous = "0" * 64
    for prev_hash, text_form, digest in triples:
        assert prev_hash == previous
        assert hashlib.sha256(bytes.fromhex(prev_hash) + text_form.encode("utf-8")).hexdigest() == digest
        fields = json.loads(text_form)
        fields["at"] = datetime.fromisoformat(fields["at"])
        assert canonical(**fields) == text_form.encode("utf-8")
        assert chain_hash(bytes.fromhex(prev_hash), canonical(**fields)).hex() == digest
        previous = digest


def test_no_code_path_changes_an_event(app, as_user):
    """The ORM refuses to update or delete an event, and no module of app/ writes SQL that would."""
    import re

    import pytest

    from app.audit.models import Event
    from app.audit.service import AppendOnly
    from config import BASE_DIR

    accept(as_user)
    with app.app_context():
        event = db.session.scalars(db.select(Event)).first()
        event.actor = "mallory"
        with pytest.raises(AppendOnly):
            db.session.flush()
        db.session.rollback()
        db.session.delete(db.session.scalars(db.select(Event)).first())
        with pytest.raises(AppendOnly):
            db.session.flush()
        db.session.rollback()
    pattern = re.compile(r"(update|delete)\(\s*Event\b|UPDATE\s+events\b|DELETE\s+FROM\s+events\b", re.IGNORECASE)
    offenders = [str(p) for p in (BASE_DIR / "app").rglob("*.py") if pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_json_columns_hold_chinese_as_utf8_compactly(app, as_user):
    """Every JSON column is written compact, Chinese as UTF-8 (app/types.column_json): a \\uXXXX escape
    takes six bytes where UTF-8 takes three, on every event and every case row version."""
    case = accept(as_user)
    work(as_user, case["open_tasks"][0], {"opinion": "材料齐全，符合法定形式"}, user="market_reviewer1")
    with app.app_context():
        payloads = db.session.scalars(
            text("SELECT CAST(payload AS TEXT) FROM events WHERE case_id = :c ORDER BY seq"), {"c": int(case["id"])}
        ).all()
        applicant = db.session.scalar(
            text("SELECT CAST(applicant AS TEXT) FROM cases WHERE id = :c"), {"c": int(case["id"])}
        )
    completed = next(p for p in payloads if "材料齐全，符合法定形式" in p)
    assert json.loads(completed)["data"]["opinion"] == "材料齐全，符合法定形式"
    assert all("\\u" not in p and '": ' not in p and '", "' not in p for p in payloads), payloads
    assert "\\u" not in applicant and json.loads(applicant)["name"]
    # and it reads back the same through the API
    events = as_user("auditor").get(f"/api/cases/{case['id']}/events").get_json()["items"]
    assert any(e["payload"].get("data", {}).get("opinion") == "材料齐全，符合法定形式" for e in events)
