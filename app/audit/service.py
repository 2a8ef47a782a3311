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

from sqlalchemy import Row, event, select

from app import clock
from app.audit.models import Event
from app.audit.replay import Pinned, ReplayResult, mismatch, replay
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


def chain_events(*, case_id: int) -> list[Row]:
    """The case's events in order, as light rows with the columns replay and history read (one query)."""
    return list(
        db.session.execute(
            select(Event.seq, Event.at, Event.actor, Event.type, Event.task_id, Event.payload)
            .where(Event.case_id == case_id)
            .order_by(Event.seq)
        ).all()
    )


def replay_case(*, case: Any, upto: int | None = None) -> ReplayResult:
    """Replay a case from its events on the process version they name; compare with its stored state."""
    from app.cases.service import load_run  # cases imports audit: resolve at call time

    events = chain_events(case_id=case.id)
    pinned = _pinned(case, events)
    if isinstance(pinned, ReplayResult):
        return pinned
    stored = (lambda: load_run(case).data) if case.state is not None else None
    return replay(pinned, events, upto=upto, stored_data=stored)


def _pinned(case: Any, events: list[Row]) -> Pinned | ReplayResult:
    """The version the first event names, checked against the case row and its own stored bytes."""
    from app.processes import service as processes

    first = (events[0].payload or {}) if events else {}
    key, number = first.get("process_key"), first.get("process_version")
    version = processes.get(key=key, version=number) if key and number else None
    named = {"process_key": key, "process_version": number}
    if version is None:
        return mismatch(1, "记录的流程版本不存在 the recorded process version does not exist", named, None)
    if version.id != case.process_version_id:
        return mismatch(
            1,
            "办件固定的流程版本与记录不符 the case is pinned to another version than its record names",
            named,
            {"process_version_id": case.process_version_id},
        )
    if hashlib.sha256(version.xml).hexdigest() != version.hash:
        return mismatch(
            1, "流程版本文件已被改动 the stored process file no longer matches its hash", version.hash, "changed"
        )
    return Pinned(version.key, version.version, version.hash, processes.definition(version.id))
