"""PostgreSQL cursors whose `description` costs nothing until a column is read.

psycopg builds `cursor.description` anew at every access: one `Column` object per result column
(its name decoded, its type looked up). SQLAlchemy reads `description` after every statement, but for a
statement it has run before it only asks whether there is one: the result's column metadata is cached
with the compiled statement. So the step's locking read, with its 40-odd columns, paid for 40-odd
Column objects that nobody looked at (the read: about 525 -> 400 µs of CPU without them, measured).

`LazyDescriptionCursor.description` answers the same thing: None when psycopg's would be None,
otherwise a sequence of the same length whose Column objects are made, from the result it describes,
the first time one of them is read. A Column is made as psycopg makes it, from what it reads of a
cursor (the result, the encoding, the adapters), for the pinned psycopg (requirements.txt);
tests/test_pgcursor.py compares the two descriptions, so a psycopg that changes this fails there.
"""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
from psycopg import Column
from psycopg.pq import ExecStatus

_TUPLES = (ExecStatus.TUPLES_OK, ExecStatus.SINGLE_TUPLE, ExecStatus.TUPLES_CHUNK)


class _Described:
    """What a `Column` reads of its cursor, fixed to one result: the result, the connection's encoding
    and the adapters (the cursor itself moves on to the next statement's result)."""

    __slots__ = ("pgresult", "_encoding", "adapters")

    def __init__(self, pgresult, encoding: str, adapters) -> None:
        self.pgresult = pgresult
        self._encoding = encoding
        self.adapters = adapters


class LazyDescription(Sequence):
    """`cursor.description` of one result: its length known at once, its Column objects made when
    first read."""

    __slots__ = ("_count", "_described", "_columns")

    def __init__(self, described: _Described, count: int) -> None:
        self._described = described
        self._count = count
        self._columns: list[Column] | None = None

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index):
        if self._columns is None:
            self._columns = [Column(self._described, i) for i in range(self._count)]
        return self._columns[index]

    def __eq__(self, other) -> bool:
        return list(self) == list(other) if isinstance(other, Sequence) else NotImplemented

    def __repr__(self) -> str:
        return repr(list(self))


class LazyDescriptionCursor(psycopg.Cursor):
    """A psycopg cursor whose `description` is a `LazyDescription` (set as the connection's
    `cursor_factory`, app/__init__.py)."""

    @property
    def description(self) -> LazyDescription | None:
        res = self.pgresult
        if res is None or not (res.nfields or res.status in _TUPLES):  # as psycopg decides it
            return None
        return LazyDescription(_Described(res, self._encoding, self.adapters), res.nfields)
