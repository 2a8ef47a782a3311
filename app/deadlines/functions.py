"""Working-day functions in the BPMN expression vocabulary (timers on deadlines, 督办 escalations).

    workdays_after(start, n)  end of the n-th working day after `start` (ISO 8601 with +08:00)
    promised_due()            the case's promised due time (moves with suspensions)
    statutory_due()           the case's statutory due time (moves with suspensions and the extension)
    accepted_at()             when the case was accepted
    now()                     the engine's current time (the replayed time during a replay)

All return ISO 8601 strings, so a timer's timeDate can be e.g. `promised_due()` or
`workdays_after(accepted_at(), 20)`.
"""

from __future__ import annotations

from datetime import date, datetime

from app.deadlines import calendar
from app.deadlines.workdays import local_date
from app.engine import timers
from app.engine.expressions import ExpressionRefused, fact, register_function


def _as_date(value: str | date | datetime) -> date:
    if isinstance(value, datetime):
        return local_date(value)
    if isinstance(value, date):
        return value
    try:
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise ExpressionRefused(f"不是日期 not a date: {value!r}") from None
    return local_date(parsed) if parsed.tzinfo else parsed.date()


def workdays_after(start: str | date | datetime, n: int) -> str:
    """End of the n-th working day after `start`, as an ISO string."""
    if not isinstance(n, int) or not 0 <= n <= 1000:
        raise ExpressionRefused(f"工作日数须为 0-1000 的整数 n must be an integer 0..1000, got {n!r}")
    return calendar.current().due(_as_date(start), n)[1].isoformat()


def register() -> None:
    """Add the working-day functions to the expression vocabulary."""
    register_function("workdays_after", workdays_after)
    register_function("promised_due", lambda: fact("promised_due"))
    register_function("statutory_due", lambda: fact("statutory_due"))
    register_function("accepted_at", lambda: fact("accepted_at"))
    register_function("now", lambda: timers.now().isoformat())
