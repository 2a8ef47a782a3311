"""Document numbers (文号): one gap-free sequence per department, series and year.

The number is drawn in the issuing transaction by one conditional UPDATE ... RETURNING on the
sequence row: the row stays locked until the transaction ends, so concurrent issuers queue on it and
each gets the next number; a rolled-back issue rolls its number back too (no gap). The pattern and
the names in it are configuration (DOCUMENT_NUMBER_PATTERN, DOCUMENT_DEPARTMENT_SHORT,
DOCUMENT_SERIES), e.g. 市监受〔2026〕0012号.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from flask import current_app
from sqlalchemy import Row, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app import clock
from app.documents.models import DocumentSequence
from app.extensions import db, run_core

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


@dataclass(frozen=True)
class Drawn:
    """A document's number, and what was read with it."""

    number: str
    document_id: int | None  # PostgreSQL: the new document's id, drawn in the same statement
    row: Row | None  # the extra columns the caller asked to read in the same statement


def draw(
    *, department: str, kind: str, at: datetime | None = None, extra: tuple = (), params: dict[str, Any] | None = None
) -> Drawn:
    """The next number of `kind` for `department` in the year of `at` (Beijing time), in this transaction; on
    PostgreSQL also the new document's id, and `extra` (scalar columns over `params`) read in the
    same statement: a document costs one statement before its INSERT, which goes out with its step."""
    year = (at or clock.now()).astimezone(clock.SHANGHAI).year
    series = series_of(kind)
    key = {"p_department": department, "p_series": series, "p_year": year}
    if db.engine.dialect.name == "postgresql":
        row = run_core(_drawing(extra), key | (params or {})).one()
        seq = row.seq if row.seq is not None else _first_of_series(key)
        return Drawn(_formatted(department, series, year, seq), row.document_id, row)
    row = run_core(select(*extra), params or {}).one() if extra else None
    return Drawn(_formatted(department, series, year, _draw(department, series, year)), None, row)


def _formatted(department: str, series: str, year: int, seq: int) -> str:
    short = _config("DOCUMENT_DEPARTMENT_SHORT", DEFAULT_DEPARTMENT_SHORT).get(department, department)
    pattern = _config("DOCUMENT_NUMBER_PATTERN", DEFAULT_PATTERN)
    return pattern.format(department=short, series=series, year=year, seq=seq)


_KEY = (
    SEQUENCES.c.department == bindparam("p_department"),
    SEQUENCES.c.series == bindparam("p_series"),
    SEQUENCES.c.year == bindparam("p_year"),
)
_BUMP = update(SEQUENCES).where(*_KEY).values(last=SEQUENCES.c.last + 1).returning(SEQUENCES.c.last)  # built once
_BUMPED = _BUMP.cte("bumped")
_NEW_DOCUMENT_ID = select(func.nextval(func.pg_get_serial_sequence("documents", "id"))).scalar_subquery()


@cache
def _drawing(extra: tuple):
    """PostgreSQL: the bumped sequence value (NULL when the series has no row yet), a new document id
    and `extra`, in one statement; built once per shape of `extra`."""
    seq = select(_BUMPED.c.last).scalar_subquery().label("seq")
    return select(seq, _NEW_DOCUMENT_ID.label("document_id"), *extra).add_cte(_BUMPED)


def _draw(department: str, series: str, year: int) -> int:
    """Increment the sequence row (creating it at 0 first when missing) and return the new value."""
    key = {"p_department": department, "p_series": series, "p_year": year}
    value = run_core(_BUMP, key).scalar()
    return value if value is not None else _first_of_series(key)


def _first_of_series(key: dict) -> int:
    """The series has no row this year: create it at 0 (a concurrent creator's row is taken as it is),
    then increment it."""
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    row = {"department": key["p_department"], "series": key["p_series"], "year": key["p_year"], "last": 0}
    run_core(insert(SEQUENCES).values(**row).on_conflict_do_nothing())
    return run_core(_BUMP, key).scalar_one()
