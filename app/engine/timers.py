"""Engine time: SpiffWorkflow's timer module reads datetime.now() directly; here it reads app.clock,
or the instant a replay or a scheduler pass is running "at" (a context variable, so concurrent
requests never see each other's time). Naive timer strings are read as Beijing time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from SpiffWorkflow.bpmn.specs.event_definitions import timer as _timer_module

from app import clock

_engine_now: ContextVar[datetime | None] = ContextVar("engine_now", default=None)


class EngineDatetime(datetime):
    """datetime whose now() is the platform clock (or the instant set by engine_time)."""

    @classmethod
    def now(cls, tz=None):  # noqa: D102 - same contract as datetime.now
        at = _engine_now.get() or clock.now()
        return at.astimezone(tz) if tz is not None else at.astimezone(clock.SHANGHAI).replace(tzinfo=None)


def now() -> datetime:
    """The engine's current instant (aware UTC)."""
    return (_engine_now.get() or clock.now()).astimezone(UTC)


@contextmanager
def engine_time(at: datetime | None) -> Iterator[None]:
    """Run engine code as if it were `at` (no-op for None)."""
    if at is None:
        yield
        return
    token = _engine_now.set(at)
    try:
        yield
    finally:
        _engine_now.reset(token)


_timer_module.datetime = EngineDatetime
_timer_module.LOCALTZ = clock.SHANGHAI
