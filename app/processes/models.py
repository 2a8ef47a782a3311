"""Process versions: immutable BPMN files keyed by content hash, draft -> published -> retired."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.types import UTCDateTime

DRAFT, PUBLISHED, RETIRED = "draft", "published", "retired"


class ProcessVersion(db.Model):
    __tablename__ = "process_versions"
    __table_args__ = (
        UniqueConstraint("key", "version"),
        UniqueConstraint("key", "hash", name="uq_process_versions_key_hash"),
        Index("ix_process_versions_key_state", "key", "state"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100))
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    hash: Mapped[str] = mapped_column(String(64))  # SHA-256 hex of the exact bytes
    xml: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)  # loaded when read, not with the row
    state: Mapped[str] = mapped_column(String(12), default=DRAFT)
    report: Mapped[list] = mapped_column(JSON, default=list, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ProcessPublication(db.Model):
    """Every publication of a version, rollbacks included: who made which version current, when."""

    __tablename__ = "process_publications"
    __table_args__ = (Index("ix_process_publications_key", "key", "id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100))
    version: Mapped[int]
    previous_version: Mapped[int | None]
    rollback: Mapped[bool] = mapped_column(default=False)
    published_by: Mapped[str] = mapped_column(String(60))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())
