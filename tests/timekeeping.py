"""Helpers of the tests that move the clock: Beijing times, scheduler passes, a case as the API shows it."""

from __future__ import annotations

from datetime import datetime

from app.clock import SHANGHAI
from app.extensions import db
from tests.conftest import row_counts


def bj(y: int, m: int, d: int, h: int = 10, mi: int = 0, s: int = 0, us: int = 0) -> datetime:
    """A Beijing wall-clock time."""
    return datetime(y, m, d, h, mi, s, us, tzinfo=SHANGHAI)


def end_of(day: str) -> str:
    """How the API writes the end of a working day (a due time)."""
    return f"{day}T23:59:59.999999+08:00"


def run_pass(app) -> dict | None:
    """One scheduler pass in its own app context (its own session), as the background thread runs it."""
    from app.deadlines.scheduler import run_once

    with app.app_context():
        try:
            return run_once()
        finally:
            db.session.remove()


def pass_result(**changed: int) -> dict[str, int]:
    """What a scheduler pass answers: `changed` for the jobs named, 0 for every other job."""
    from app.deadlines.scheduler import JOBS

    return {name: changed.get(name, 0) for name, _, _ in JOBS}


def show(as_user, case_id: str) -> dict:
    """The case as GET /api/cases/{id} shows it to an auditor."""
    response = as_user("auditor").get(f"/api/cases/{case_id}")
    assert response.status_code == 200
    return response.get_json()


def events(as_user, case_id: str, type_: str | None = None) -> list[dict]:
    """The case's events (of one type, when given)."""
    response = as_user("auditor").get(f"/api/cases/{case_id}/events")
    assert response.status_code == 200
    return [e for e in response.get_json()["items"] if type_ is None or e["type"] == type_]


def counts(app) -> dict[str, int]:
    """Rows per table, logins aside: proves a refused request changed nothing."""
    return {table: n for table, n in row_counts(app).items() if table not in ("api_tokens", "login_events")}
