"""Tampering the way an attacker with database access would: lift the append-only triggers, change
rows with raw SQL, put the triggers back. Used to prove that verify and replay catch it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.audit.service import GENESIS, canonical, canonical_of, chain_hash
from app.extensions import db

PG_TRIGGER = "events_append_only"


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _sqlite_triggers(session: Session) -> list[tuple[str, str]]:
    return list(
        session.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'"))
    )


def _restore_sqlite(session: Session, saved: list[tuple[str, str]]) -> None:
    present = {name for name, _ in _sqlite_triggers(session)}
    for name, sql in saved:
        if name not in present:
            session.execute(text(sql))


@contextmanager
def raw_access(app) -> Iterator[Session]:
    """A session with the events table's append-only triggers lifted (restored and committed after)."""
    with app.app_context():
        session = db.session
        postgres = _is_postgres(session)
        saved: list[tuple[str, str]] = []
        if postgres:
            session.execute(text(f"ALTER TABLE events DISABLE TRIGGER {PG_TRIGGER}"))
        else:
            saved = _sqlite_triggers(session)
            assert len(saved) == 2, saved
            for name, _ in saved:
                session.execute(text(f"DROP TRIGGER {name}"))
        try:
            yield session
        except BaseException:
            session.rollback()
            raise
        finally:
            if postgres:
                session.execute(text(f"ALTER TABLE events ENABLE TRIGGER {PG_TRIGGER}"))
            else:
                _restore_sqlite(session, saved)
            session.commit()
            session.remove()


def _json(session: Session) -> str:
    return "CAST(:payload AS json)" if _is_postgres(session) else ":payload"


def payload_of(session: Session, case_id: int, seq: int) -> dict:
    """An event's payload as stored."""
    raw = session.execute(
        text("SELECT payload FROM events WHERE case_id = :c AND seq = :s"), {"c": case_id, "s": seq}
    ).scalar_one()
    return raw if isinstance(raw, dict) else json.loads(raw)


def seq_of(session: Session, case_id: int, type: str, name: str | None = None) -> int:
    """The seq of the first event of `type` (about the task `name`, if given)."""
    rows = session.execute(
        text("SELECT seq, payload FROM events WHERE case_id = :c AND type = :t ORDER BY seq"), {"c": case_id, "t": type}
    ).all()
    for seq, payload in rows:
        payload = payload if isinstance(payload, dict) else json.loads(payload)
        if name is None or payload.get("name") == name:
            return seq
    raise AssertionError(f"no {type} {name or ''} in case {case_id}")


def edit_payload(session: Session, case_id: int, seq: int, payload: dict) -> None:
    """UPDATE one event's payload."""
    session.execute(
        text(f"UPDATE events SET payload = {_json(session)} WHERE case_id = :c AND seq = :s"),
        {"payload": json.dumps(payload, ensure_ascii=False), "c": case_id, "s": seq},
    )


def delete_event(session: Session, case_id: int, seq: int) -> None:
    """DELETE one event."""
    session.execute(text("DELETE FROM events WHERE case_id = :c AND seq = :s"), {"c": case_id, "s": seq})


def renumber_from(session: Session, case_id: int, seq: int, delta: int) -> None:
    """Shift the seq of every event from `seq` on by `delta` (through a gap, so the unique key holds)."""
    params = {"c": case_id, "s": seq}
    session.execute(text("UPDATE events SET seq = seq + 100000 WHERE case_id = :c AND seq >= :s"), params)
    session.execute(
        text("UPDATE events SET seq = seq - 100000 + :d WHERE case_id = :c AND seq >= 100000"), {**params, "d": delta}
    )


def swap(session: Session, case_id: int, a: int, b: int) -> None:
    """Exchange the positions of two events."""
    for old, new in ((a, -1), (b, a), (-1, b)):
        session.execute(
            text("UPDATE events SET seq = :new WHERE case_id = :c AND seq = :old"),
            {"c": case_id, "old": old, "new": new},
        )


def insert_event(session: Session, case_id: int, seq: int, *, type: str, payload: dict, digest: bytes | None) -> None:
    """INSERT a forged event at `seq` (later events move up), with `digest` or a correctly chained hash."""
    renumber_from(session, case_id, seq, 1)
    at, task_id = session.execute(
        text("SELECT at, task_id FROM events WHERE case_id = :c AND seq = :s"), {"c": case_id, "s": seq - 1}
    ).one()
    if digest is None:
        prev = _hash_at(session, case_id, seq - 1)
        at_value = _aware(at)
        digest = chain_hash(
            prev,
            canonical(
                case_id=case_id, seq=seq, at=at_value, actor="mallory", type=type, task_id=task_id, payload=payload
            ),
        )
    session.execute(
        text(
            "INSERT INTO events (case_id, seq, at, actor, type, task_id, payload, hash) "
            f"VALUES (:c, :s, :at, 'mallory', :t, :task, {_json(session)}, :h)"
        ),
        {"c": case_id, "s": seq, "at": at, "t": type, "task": task_id, "payload": json.dumps(payload), "h": digest},
    )


def _hash_at(session: Session, case_id: int, seq: int) -> bytes:
    if seq == 0:
        return GENESIS
    found = session.execute(
        text("SELECT hash FROM events WHERE case_id = :c AND seq = :s"), {"c": case_id, "s": seq}
    ).scalar_one()
    return bytes(found)


def _aware(at):
    from datetime import UTC, datetime

    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def rechain(session: Session, case_id: int) -> None:
    """Recompute every hash of a case and its head, as a careful attacker would after an edit."""
    from app.audit.models import Event

    prev, last = GENESIS, 0
    for event in session.query(Event).filter(Event.case_id == case_id).order_by(Event.seq).all():
        body = canonical_of(case_id, event)
        prev, last = chain_hash(prev, body), event.seq
        session.execute(
            text("UPDATE events SET hash = :h WHERE case_id = :c AND seq = :s"),
            {"h": prev, "c": case_id, "s": event.seq},
        )
    session.execute(
        text("UPDATE cases SET last_hash = :h, event_seq = :n WHERE id = :c"), {"h": prev, "n": last, "c": case_id}
    )
    session.expire_all()
