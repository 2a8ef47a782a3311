"""The one clock. Everything that needs "now" asks here; tests freeze and move it."""

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Times on the wire carry this fixed offset. It equals Asia/Shanghai for every date since 1992;
# before that the zone database gives summer time (1986-1991) and local mean time +08:05:43
# (before 1901), which no client of a government service center expects to see.
DISPLAY_ZONE = timezone(timedelta(hours=8), "+08:00")

_frozen: datetime | None = None


def now() -> datetime:
    """Return the current time as an aware UTC datetime (the frozen time under tests)."""
    if _frozen is not None:
        return _frozen
    return datetime.now(UTC)


def freeze(at: datetime) -> None:
    """Stop the clock at `at` (aware) until reset()."""
    if at.tzinfo is None:
        raise ValueError("clock.freeze needs an aware datetime")
    global _frozen
    _frozen = at.astimezone(UTC)


def advance(delta: timedelta) -> datetime:
    """Move a frozen clock forward and return the new now."""
    if _frozen is None:
        raise RuntimeError("clock.advance needs a frozen clock")
    freeze(_frozen + delta)
    return now()


def reset() -> None:
    """Let the clock run with real time again."""
    global _frozen
    _frozen = None


def is_frozen() -> bool:
    """True while a test holds the clock."""
    return _frozen is not None
