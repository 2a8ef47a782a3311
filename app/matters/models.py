"""The matter catalog (事项目录): what a center handles, its limits, materials and process."""

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db

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
