"""电子监察 rows: cards (红黄蓝牌 and 督办) with their answers, and 否定报备 filings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.cases.models import Case
from app.extensions import db
from app.types import UTCDateTime

OPEN, ANSWERED, CLOSED = "open", "answered", "closed"
COLORS = ("blue", "yellow", "red")
PENDING, ACCEPTED, QUESTIONED = "pending", "accepted", "questioned"
FILING_KINDS = ("refusal", "rejection", "revocation")
_OPEN_ONLY = text("state = 'open'")

# Period statistics select cases by the day they were accepted or completed (indexes on the cases table).
Index("ix_cases_accepted_at", Case.accepted_at)
Index("ix_cases_completed_at", Case.completed_at)


class Card(db.Model):
    """A card to a department (and the step's holder) that it answers in writing and a supervisor closes."""

    __tablename__ = "cards"
    __table_args__ = (
        Index("ix_cards_state_color", "state", "color"),
        Index("ix_cards_case", "case_id"),
        Index("ix_cards_answer_due", "answer_due", postgresql_where=_OPEN_ONLY, sqlite_where=_OPEN_ONLY),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    task_id: Mapped[int | None]
    color: Mapped[str] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(12))  # auto, manual, escalation, filing
    # Automatic cards: "<case>:<task or ->:<colour>", unique, so a level change opens its card once.
    auto_key: Mapped[str | None] = mapped_column(String(60), unique=True)
    reason: Mapped[str] = mapped_column(String(1000))
    department: Mapped[str] = mapped_column(String(40))
    holder: Mapped[str | None] = mapped_column(String(60))
    opened_by: Mapped[str] = mapped_column(String(60))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answer_due: Mapped[datetime] = mapped_column(UTCDateTime())
    answer: Mapped[str | None] = mapped_column(String(2000))
    answered_by: Mapped[str | None] = mapped_column(String(60))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(10), default=OPEN)
    closed_by: Mapped[str | None] = mapped_column(String(60))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(String(1000))
    escalated_to: Mapped[int | None]  # the red card opened when this one went unanswered past answer_due
    parent_id: Mapped[int | None]  # the card (or filing's card) this one escalates


class Filing(db.Model):
    """否定报备: a refusal, rejection or revocation with its reason and documents, for review."""

    __tablename__ = "filings"
    __table_args__ = (
        CheckConstraint("length(trim(reason)) > 0", name="reason_given"),
        Index("ix_filings_state", "state", "filed_at"),
        Index("ix_filings_filed_at", "filed_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(String(2000))
    documents: Mapped[list] = mapped_column(JSON, default=list)
    department: Mapped[str] = mapped_column(String(40))
    matter_code: Mapped[str] = mapped_column(String(40))
    applicant_name: Mapped[str | None] = mapped_column(String(100))
    filed_by: Mapped[str] = mapped_column(String(60))
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(12), default=PENDING)
    review_note: Mapped[str | None] = mapped_column(String(1000))
    reviewed_by: Mapped[str | None] = mapped_column(String(60))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    card_id: Mapped[int | None]
