"""Numbered legal documents (文书): the bytes frozen at issue time, and the number sequences.

A document's HTML is rendered once, when it is issued, from the data of that moment, and stored;
its SHA-256 goes into the case's audit chain. The PDF is rendered once from those stored bytes
(on first download) and stored too. Neither ever changes afterwards.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.types import UTCDateTime


class Document(db.Model):
    __tablename__ = "documents"
    __table_args__ = (Index("ix_documents_case_id", "case_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    kind: Mapped[str] = mapped_column(String(30))
    number: Mapped[str] = mapped_column(String(60), unique=True)
    title: Mapped[str] = mapped_column(String(100))
    department: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(60))
    sha256: Mapped[str] = mapped_column(String(64))
    # The frozen bytes load only when read (a download, a check), never with a list of documents.
    html: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))


class DocumentSequence(db.Model):
    """The last number given in one series (文号序列) of one department and year: gap-free, row-locked."""

    __tablename__ = "document_sequences"
    department: Mapped[str] = mapped_column(String(40), primary_key=True)
    series: Mapped[str] = mapped_column(String(20), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last: Mapped[int]
