"""The append-only event log: one hash chain per case (see docs/audit.md for the canonical form)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.types import UTCDateTime


class Event(db.Model):
    __tablename__ = "events"
    # The natural key is the primary key: one index, and inserts need nothing back from the database.
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(60))
    type: Mapped[str] = mapped_column(String(40))
    task_id: Mapped[int | None]
    payload: Mapped[dict] = mapped_column(JSON)
    # SHA-256 over the previous event's hash and this event's canonical form; prev_hash is the
    # previous row's hash (derived on read, so a chain stores each hash once).
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))
