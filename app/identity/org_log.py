"""The organisation log: every change of departments, groups, people and absences, append-only and
hash-chained like the case events (docs/organisation.md).

    hash = SHA-256(prev_hash || canonical(entry)); the first entry's prev_hash is 32 zero bytes.
One chain for the whole center: writers take a lock first (an advisory lock on PostgreSQL, SQLite's
write lock elsewhere), so two changes never fork it.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, func, select, text

from app import clock
from app.extensions import db
from app.identity.models import OrgLogEntry

GENESIS = bytes(32)
_LOCK_KEY = 0x6F72676C6F67  # "orglog"


class AppendOnly(Exception):
    """An attempt to change or remove a written log entry (a programming error)."""


@event.listens_for(OrgLogEntry, "before_update")
@event.listens_for(OrgLogEntry, "before_delete")
def _refuse_change(mapper, connection, target: OrgLogEntry) -> None:
    raise AppendOnly(f"the organisation log is append-only: seq {target.seq}")


def canonical(*, seq: int, at: datetime, actor: str, action: str, target: str, before: Any, after: Any) -> bytes:
    """The exact bytes an entry's hash covers (sorted keys, no spaces, UTF-8, UTC microseconds)."""
    body = {
        "seq": seq,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "target": target,
        "before": before,
        "after": after,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def record(*, actor: str, action: str, target: str, before: dict | None, after: dict | None) -> OrgLogEntry:
    """Append one change to the chain in the caller's transaction."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    head = db.session.execute(
        select(OrgLogEntry.seq, OrgLogEntry.hash).order_by(OrgLogEntry.seq.desc()).limit(1)
    ).first()
    seq, prev = (head.seq + 1, head.hash) if head else (1, GENESIS)
    at = clock.now()
    body = canonical(seq=seq, at=at, actor=actor, action=action, target=target, before=before, after=after)
    entry = OrgLogEntry(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        target=target,
        before=before,
        after=after,
        hash=hashlib.sha256(prev + body).digest(),
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def list_entries(*, page: int = 1, per_page: int = 50, target: str | None = None) -> tuple[list[dict], int]:
    """A page of the log, newest first, each entry with its hash and the previous one (hex)."""
    where = [OrgLogEntry.target == target] if target else []
    total = db.session.scalar(select(func.count()).select_from(OrgLogEntry).where(*where))
    rows = db.session.scalars(
        select(OrgLogEntry).where(*where).order_by(OrgLogEntry.seq.desc()).limit(per_page).offset((page - 1) * per_page)
    ).all()
    prevs = dict(
        db.session.execute(
            select(OrgLogEntry.seq, OrgLogEntry.hash).where(OrgLogEntry.seq.in_([r.seq - 1 for r in rows]))
        )
        .tuples()
        .all()
    )
    out = [{**_fields(r), "hash": r.hash.hex(), "prev_hash": prevs.get(r.seq - 1, GENESIS).hex()} for r in rows]
    return out, total


def verify() -> dict:
    """Re-hash the whole chain: {intact, entries_checked, first_broken (seq or None)}."""
    prev, checked = GENESIS, 0
    for row in db.session.scalars(select(OrgLogEntry).order_by(OrgLogEntry.seq)).yield_per(500):
        checked += 1
        digest = hashlib.sha256(prev + canonical(**_fields(row))).digest()
        if row.seq != checked or digest != row.hash:
            return {"intact": False, "entries_checked": checked, "first_broken": row.seq}
        prev = row.hash
    return {"intact": True, "entries_checked": checked, "first_broken": None}


def _fields(row: OrgLogEntry) -> dict:
    return {
        "seq": row.seq,
        "at": row.at,
        "actor": row.actor,
        "action": row.action,
        "target": row.target,
        "before": row.before,
        "after": row.after,
    }
