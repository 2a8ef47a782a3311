"""The matter catalog (事项目录): what a center handles, its limits, materials and process."""

from datetime import datetime

from sqlalchemy import JSON, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.types import UTCDateTime

KINDS = ("immediate", "promised")
MODES = ("serial", "parallel", "commitment")


class Matter(db.Model):
    __tablename__ = "matters"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    department: Mapped[str] = mapped_column(String(40))  # department code
    kind: Mapped[str] = mapped_column(String(12))
    mode: Mapped[str] = mapped_column(String(12))
    statutory_days: Mapped[int]
    promised_days: Mapped[int]
    process_key: Mapped[str] = mapped_column(String(100))
    # [{"name": str, "required": bool, "deferrable": bool}]
    materials: Mapped[list] = mapped_column(JSON, default=list)
    # Working days before the promised due date at which "warning" starts (None: the configured default).
    warning_days: Mapped[int | None]
    # Extra start data for the process (e.g. a verification window), from the catalog.
    process_data: Mapped[dict] = mapped_column(JSON, default=dict)
    # The 一次性告知单's texts: conditions, legal basis, fees, where and when (from the catalog).
    conditions: Mapped[str | None] = mapped_column(Text)
    legal_basis: Mapped[str | None] = mapped_column(Text)
    fees: Mapped[str | None] = mapped_column(Text)
    place: Mapped[str | None] = mapped_column(Text)


class MatterRevision(db.Model):
    """One change of a matter: who, when, the matter as it stood afterwards and what changed."""

    __tablename__ = "matter_revisions"
    __table_args__ = (UniqueConstraint("matter_code", "revision", name="uq_matter_revisions_code_revision"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    matter_code: Mapped[str] = mapped_column(String(40))
    revision: Mapped[int]
    changed_by: Mapped[str] = mapped_column(String(60))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The matter's fields after the change (MatterSchema's dump) and {field: [before, after]}.
    snapshot: Mapped[dict] = mapped_column(JSON)
    changes: Mapped[dict] = mapped_column(JSON)
