"""Recording events: every state change writes its event in the same transaction, chained per case.

    hash = SHA-256(prev_hash || canonical(event)); prev_hash of a case's first event is 32 zero bytes.
The canonical form (`canonical` below) is specified, with a worked example an outside tool can
follow, in docs/audit.md. Events are never updated or deleted (triggers refuse it, migration 0002).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, event, insert, select

from app import clock
from app.audit.models import Event
from app.extensions import db

GENESIS = bytes(32)


class AppendOnly(Exception):
    """An attempt to change or remove a written event (a programming error: events are only appended)."""


@event.listens_for(Event, "before_update")
@event.listens_for(Event, "before_delete")
def _refuse_change(mapper, connection, target: Event) -> None:
    # The database triggers refuse it too; this names the culprit before the SQL is even sent.
    raise AppendOnly(f"events are append-only: case {target.case_id} seq {target.seq}")


def canonical(
    *, case_id: int, seq: int, at: datetime, actor: str, type: str, task_id: int | None, payload: dict
) -> bytes:
    """The exact bytes an event's hash covers."""
    body = {
        "case_id": case_id,
        "seq": seq,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": actor,
        "type": type,
        "task_id": task_id,
        "payload": payload,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def canonical_of(case_id: int, event: Any) -> bytes:
    """The canonical form of a stored event (anything with seq, at, actor, type, task_id, payload)."""
    return canonical(
        case_id=case_id,
        seq=event.seq,
        at=event.at,
        actor=event.actor,
        type=event.type,
        task_id=event.task_id,
        payload=event.payload,
    )


def chain_hash(prev_hash: bytes, canonical_bytes: bytes) -> bytes:
    """SHA-256 over the previous hash and the canonical form."""
    return hashlib.sha256(prev_hash + canonical_bytes).digest()


def chain(
    head: Any,
    type: str,
    *,
    actor: str,
    payload: dict | None = None,
    task_id: int | None = None,
    at: datetime | None = None,
) -> dict:
    """The next event of `head`'s chain as a row (its hash computed); moves head.event_seq and last_hash.

    `head` is the case row or anything with id, event_seq and last_hash: record() and the set-based
    passes both chain through here, so their events are the same bytes and hashes.
    """
    at = at or clock.now()
    payload = payload or {}
    seq = head.event_seq + 1
    body = canonical(case_id=head.id, seq=seq, at=at, actor=actor, type=type, task_id=task_id, payload=payload)
    digest = chain_hash(head.last_hash or GENESIS, body)
    head.event_seq, head.last_hash = seq, digest
    return {
        "case_id": head.id,
        "seq": seq,
        "at": at,
        "actor": actor,
        "type": type,
        "task_id": task_id,
        "payload": payload,
        "hash": digest,
    }


def record(
    case: Any,
    type: str,
    *,
    actor: str,
    payload: dict | None = None,
    task_id: int | None = None,
    at: datetime | None = None,
) -> Event:
    """Append an event to `case`'s chain; the caller holds the case row (locked) and commits."""
    event = Event(**chain(case, type, actor=actor, payload=payload, task_id=task_id, at=at))
    db.session.add(event)
    return event


def append_all(rows: list[dict]) -> None:
    """Insert rows made by chain() in one executemany; the caller moves the cases' chain heads."""
    if rows:
        db.session.execute(insert(Event.__table__), rows)


def list_events(*, case_id: int) -> list[dict]:
    """The case's events in order, each with its hash and the previous one (hex)."""
    rows = db.session.scalars(select(Event).where(Event.case_id == case_id).order_by(Event.seq)).all()
    out = []
    prev = GENESIS
    for e in rows:
        out.append(
            {
                "seq": e.seq,
                "at": e.at,
                "actor": e.actor,
                "type": e.type,
                "task_id": e.task_id,
                "payload": e.payload,
                "hash": e.hash.hex(),
                "prev_hash": prev.hex(),
            }
        )
        prev = e.hash
    return out


def chain_events(*, case_id: int) -> list[Row]:
    """The case's events in order, as light rows with the columns replay and history read (one query)."""
    return list(
        db.session.execute(
            select(Event.seq, Event.at, Event.actor, Event.type, Event.task_id, Event.payload)
            .where(Event.case_id == case_id)
            .order_by(Event.seq)
        ).all()
    )
