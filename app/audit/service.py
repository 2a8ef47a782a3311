"""Recording events: every state change writes its event in the same transaction, chained per case.

Canonical form (what `hash` covers), documented for outside tools in docs/audit.md:
    hash = SHA-256( prev_hash_bytes || canonical_json )
    canonical_json = JSON of {"case_id", "seq", "at", "actor", "type", "task_id", "payload"} with
    sorted keys, no whitespace (separators "," and ":"), UTF-8 without escaping, `at` as
    ISO 8601 UTC with microseconds and "+00:00", case_id and task_id as integers (task_id may be null).
    prev_hash of the first event of a case is 32 zero bytes.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from app import clock
from app.audit.models import Event
from app.extensions import db

GENESIS = bytes(32)


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


def chain_hash(prev_hash: bytes, canonical_bytes: bytes) -> bytes:
    """SHA-256 over the previous hash and the canonical form."""
    return hashlib.sha256(prev_hash + canonical_bytes).digest()


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
    at = at or clock.now()
    payload = payload or {}
    seq = case.event_seq + 1
    prev = case.last_hash or GENESIS
    digest = chain_hash(
        prev, canonical(case_id=case.id, seq=seq, at=at, actor=actor, type=type, task_id=task_id, payload=payload)
    )
    event = Event(
        case_id=case.id, seq=seq, at=at, actor=actor, type=type, task_id=task_id, payload=payload, hash=digest
    )
    db.session.add(event)
    case.event_seq = seq
    case.last_hash = digest
    return event


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
