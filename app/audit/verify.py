"""Verify the hash chains: every case's events 1..n in order, each hash recomputed, the head matched.

One streamed query (cases LEFT JOIN events ORDER BY case id, seq, fetched in batches): memory stays
flat however many cases there are, and the query's single snapshot sees every chain and its head
as of one instant, even while cases keep moving.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

from sqlalchemy import Row, select

from app.audit.models import Event
from app.audit.service import GENESIS, canonical_of, chain_hash
from app.cases.models import Case
from app.extensions import db

BATCH = 1000
KEEP = 100  # broken links listed in a report (the first one is what the contract asks for)


@dataclass(frozen=True)
class BrokenLink:
    """Where a case's chain stops holding: the first seq that does not check out, and why."""

    case_id: int
    seq: int
    reason: str

    def as_dict(self) -> dict[str, Any]:
        """The api.md shape of first_broken (plus the reason)."""
        return {"case_id": str(self.case_id), "seq": self.seq, "reason": self.reason}


@dataclass
class VerifyReport:
    """The result of checking chains."""

    events_checked: int = 0
    cases_checked: int = 0
    broken: list[BrokenLink] = field(default_factory=list)
    broken_cases: int = 0

    @property
    def intact(self) -> bool:
        """True when every chain checked holds."""
        return self.broken_cases == 0

    @property
    def first_broken(self) -> BrokenLink | None:
        """The first broken link, in case id order."""
        return self.broken[0] if self.broken else None

    def as_dict(self) -> dict[str, Any]:
        """The api.md shape (plus cases_checked and up to KEEP broken links)."""
        return {
            "intact": self.intact,
            "events_checked": self.events_checked,
            "cases_checked": self.cases_checked,
            "first_broken": self.first_broken.as_dict() if self.first_broken else None,
            "broken_cases": self.broken_cases,
            "broken": [b.as_dict() for b in self.broken],
        }


def verify(*, case_id: int | None = None, batch: int = BATCH) -> VerifyReport:
    """Check every case's chain (or one case's): seq continuity, each hash, and the head on the case row."""
    report = VerifyReport()
    for (cid, head_seq, head_hash), rows in groupby(_rows(case_id, batch), key=lambda r: r[:3]):
        checked, broken = check_chain(cid, head_seq, head_hash, rows)
        report.cases_checked += 1
        report.events_checked += checked
        if broken is not None:
            report.broken_cases += 1
            if len(report.broken) < KEEP:
                report.broken.append(broken)
    return report


def _rows(case_id: int | None, batch: int) -> Iterator[Row]:
    stmt = (
        select(
            Case.id,
            Case.event_seq,
            Case.last_hash,
            Event.seq,
            Event.at,
            Event.actor,
            Event.type,
            Event.task_id,
            Event.payload,
            Event.hash,
        )
        .select_from(Case)
        .outerjoin(Event, Event.case_id == Case.id)
        .order_by(Case.id, Event.seq)
    )
    if case_id is not None:
        stmt = stmt.where(Case.id == case_id)
    yield from db.session.execute(stmt.execution_options(yield_per=batch))


def check_chain(
    case_id: int, head_seq: int, head_hash: bytes | None, rows: Iterable[Row]
) -> tuple[int, BrokenLink | None]:
    """(events read, first broken link or None) for one case's rows in seq order."""
    prev, expected, read, broken = GENESIS, 1, 0, None
    for row in rows:
        if row.seq is None:  # a case without events (LEFT JOIN)
            break
        read += 1
        if broken is not None:
            continue  # keep counting what was read; the first break is what matters
        if row.seq != expected:
            broken = BrokenLink(case_id, expected, f"缺少第 {expected} 个事件 event {expected} is missing")
            continue
        body = canonical_of(case_id, row)
        digest = chain_hash(prev, body)
        if digest != bytes(row.hash):
            broken = BrokenLink(case_id, row.seq, "哈希值不符，事件或其前序被改动 the hash does not match: altered")
            continue
        prev, expected = digest, expected + 1
    return read, broken or _head_problem(case_id, head_seq or 0, head_hash, expected - 1, prev)


def _head_problem(
    case_id: int, head_seq: int, head_hash: bytes | None, last: int, last_hash: bytes
) -> BrokenLink | None:
    """The case row's head must name the last event: a deleted or appended last event shows here."""
    if head_seq > last:
        reason = f"链头为第 {head_seq} 个事件，第 {last + 1} 个缺失 events after {last} are missing"
        return BrokenLink(case_id, last + 1, reason)
    if head_seq < last:
        return BrokenLink(case_id, head_seq + 1, f"第 {head_seq + 1} 个事件在链头之后 event appended after the head")
    if last and bytes(head_hash or b"") != last_hash:
        return BrokenLink(case_id, last, "链头哈希与最后一个事件不符 the head hash differs from the last event")
    return None
