"""What a replay answers (app/audit/replay.py): the version it ran on, the first divergence, the report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.engine.parser import Definition


@dataclass(frozen=True)
class Pinned:
    """The process version a case runs on: what the record must name, and its parsed definition."""

    key: str
    version: int
    hash: str
    definition: Definition


@dataclass(frozen=True)
class Divergence:
    """The first event where the record and the process disagree."""

    seq: int
    message: str
    expected: Any
    actual: Any

    def as_dict(self) -> dict[str, Any]:
        """The api.md shape (plus a message for people)."""
        return {"seq": self.seq, "expected": self.expected, "actual": self.actual, "message": self.message}


@dataclass
class ReplayResult:
    """The outcome of a replay: consistent or the first divergence, and the state for ?upto=N."""

    consistent: bool
    steps: int
    divergence: Divergence | None = None
    state: dict[str, Any] | None = None

    def as_dict(self, *, case_id: int | str) -> dict[str, Any]:
        """The api.md shape of a replay report."""
        out = {
            "case_id": str(case_id),
            "consistent": self.consistent,
            "steps": self.steps,
            "divergence": self.divergence.as_dict() if self.divergence else None,
        }
        if self.state is not None:
            out["state"] = self.state
        return out


def mismatch(seq: int, message: str, expected: Any, actual: Any) -> ReplayResult:
    """A replay that could not even start (e.g. the recorded process version does not exist)."""
    return ReplayResult(False, 0, Divergence(seq, message, expected, actual))
