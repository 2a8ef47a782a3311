"""Document numbers (文号): one gap-free sequence per department, series and year.

The number is drawn in the issuing transaction by one conditional UPDATE ... RETURNING on the
sequence row: the row stays locked until the transaction ends, so concurrent issuers queue on it and
each gets the next number; a rolled-back issue rolls its number back too (no gap). The pattern and
the names in it are configuration (DOCUMENT_NUMBER_PATTERN, DOCUMENT_DEPARTMENT_SHORT,
DOCUMENT_SERIES), e.g. 市监受〔2026〕0012号.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import bindparam, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app import clock
from app.documents.models import DocumentSequence
from app.extensions import db

DEFAULT_PATTERN = "{department}{series}〔{year}〕{seq:04d}号"
DEFAULT_DEPARTMENT_SHORT = {
    "center": "政务",
    "market": "市监",
    "housing": "住建",
    "health": "卫健",
    "civil": "民政",
    "fire": "消防",
    "resources": "自然资源",
}
# The series (字) of each kind of document: 受理 notices share 受, decisions 许, and so on.
DEFAULT_SERIES = {
    "receipt": "受",
    "deferral_notice": "容",
    "correction_notice": "补",
    "refusal_notice": "不受",
    "decision": "许",
    "extension_notice": "延",
    "delivery_receipt": "送",
}
SEQUENCES = DocumentSequence.__table__


def _config(name: str, default: dict | str):
    value = current_app.config.get(name)
    if isinstance(default, dict):
        return {**default, **(value or {})}
    return value or default


def series_of(kind: str) -> str:
    """The series (字) a kind of document is numbered in."""
    return _config("DOCUMENT_SERIES", DEFAULT_SERIES).get(kind, kind)


def next_number(*, department: str, kind: str, at: datetime | None = None) -> str:
    """The next number of `kind` for `department` in the year of `at` (Beijing time), in this transaction."""
    year = (at or clock.now()).astimezone(clock.SHANGHAI).year
    series = series_of(kind)
    seq = _draw(department, series, year)
    short = _config("DOCUMENT_DEPARTMENT_SHORT", DEFAULT_DEPARTMENT_SHORT).get(department, department)
    pattern = _config("DOCUMENT_NUMBER_PATTERN", DEFAULT_PATTERN)
    return pattern.format(department=short, series=series, year=year, seq=seq)


_KEY = (
    SEQUENCES.c.department == bindparam("p_department"),
    SEQUENCES.c.series == bindparam("p_series"),
    SEQUENCES.c.year == bindparam("p_year"),
)
_BUMP = update(SEQUENCES).where(*_KEY).values(last=SEQUENCES.c.last + 1).returning(SEQUENCES.c.last)  # built once


def _draw(department: str, series: str, year: int) -> int:
    """Increment the sequence row (creating it at 0 first when missing) and return the new value."""
    key = {"p_department": department, "p_series": series, "p_year": year}
    value = db.session.execute(_BUMP, key).scalar()
    if value is not None:
        return value
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    row = {"department": department, "series": series, "year": year, "last": 0}
    db.session.execute(insert(SEQUENCES).values(**row).on_conflict_do_nothing())
    return db.session.execute(_BUMP, key).scalar_one()
