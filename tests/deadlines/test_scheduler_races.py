"""Two schedulers at once write every timer and every warning exactly once.

Each pass runs in its own thread with its own app context, hence its own session and connection. The
passes meet at the scheduler's lease (the second returns None). When a lease expires while its runner
is still at work (a stuck runner), only idempotency and SKIP LOCKED row locks stand between the two:
that is exercised on PostgreSQL with leases that expire at once, and by two real
`flask scheduler run-once` processes. SQLite is one process by design (the embedded default).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from app import clock
from app.audit.models import Event
from app.extensions import db
from app.tasks.models import Task
from config import BASE_DIR
from tests.conftest import is_postgres
from tests.factories import accept
from tests.timekeeping import run_pass

SHANGHAI = ZoneInfo("Asia/Shanghai")
CASES = 12


def concurrently(app, count: int = 2) -> list:
    """`count` passes started together, each in its own thread and app context."""
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list[BaseException] = []

    def go(i: int) -> None:
        try:
            barrier.wait()
            results[i] = run_pass(app)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    return results


def accept_cases(as_user, at: datetime, n: int = CASES) -> list[str]:
    clock.freeze(at)
    return [accept(as_user)["id"] for _ in range(n)]


def tally(app) -> dict:
    """What the passes wrote: per case, the warning events by (task or case, level), timers, escalations."""
    with app.app_context():
        rows = db.session.execute(
            select(Event.case_id, Event.type, Event.task_id, Event.payload).where(
                Event.type.in_(("warning_changed", "timer_fired"))
            )
        ).all()
        escalations = Counter(db.session.scalars(select(Task.case_id).where(Task.name == "escalate")).all())
        db.session.remove()
    warnings = Counter((r.case_id, r.task_id, r.payload["level"]) for r in rows if r.type == "warning_changed")
    timers = Counter(r.case_id for r in rows if r.type == "timer_fired")
    return {"warnings": warnings, "timers": timers, "escalations": escalations}


def assert_exactly_once(app, case_ids: list[str]) -> dict:
    seen = tally(app)
    ids = {int(i) for i in case_ids}
    assert set(seen["timers"]) == ids and set(seen["timers"].values()) == {1}, seen["timers"]
    assert set(seen["escalations"]) == ids and set(seen["escalations"].values()) == {1}, seen["escalations"]
    assert seen["warnings"] and set(seen["warnings"].values()) == {1}, seen["warnings"]
    # Every case reached breach, and every review step overdue.
    assert {c for (c, task, level) in seen["warnings"] if task is None and level == "breach"} == ids
    assert {c for (c, task, level) in seen["warnings"] if task is not None and level == "overdue"} == ids
    return seen


def total_events(app) -> int:
    with app.app_context():
        n = db.session.scalar(select(func.count()).select_from(Event))
        db.session.remove()
        return n


def test_two_passes_in_one_process_write_each_event_once(app, as_user):
    cases = accept_cases(as_user, datetime(2026, 11, 2, 10, tzinfo=SHANGHAI))
    clock.freeze(datetime(2026, 12, 2, 9, tzinfo=SHANGHAI))  # past statutory, promised and every step limit
    results = concurrently(app)
    assert any(r is not None for r in results), results
    done = [r for r in results if r is not None]
    if len(done) == 1:
        # The other one found the lock taken and did nothing.
        assert done[0]["timers_fired"] == CASES and done[0]["case_warnings"] == CASES
    assert_exactly_once(app, cases)
    before = total_events(app)
    assert run_pass(app) == {"timers_fired": 0, "case_warnings": 0, "task_warnings": 0, "absences_applied": 0}
    assert total_events(app) == before


def test_two_schedulers_as_separate_processes_write_each_event_once(app, as_user, monkeypatch):
    """PostgreSQL: with leases that expire at once, SKIP LOCKED and idempotency keep the passes apart."""
    if is_postgres(app):
        # Leases that expire at once: every runner gets in, as if each found the other one stuck.
        monkeypatch.setitem(app.config, "SCHEDULER_LEASE_SECONDS", -1)
    cases = accept_cases(as_user, datetime(2026, 11, 2, 10, tzinfo=SHANGHAI), n=24)
    clock.freeze(datetime(2026, 12, 2, 9, tzinfo=SHANGHAI))
    results = concurrently(app, count=3)
    assert any(r is not None for r in results), results
    assert_exactly_once(app, cases)
    before = total_events(app)
    for result in concurrently(app, count=2):
        assert result in (None, {"timers_fired": 0, "case_warnings": 0, "task_warnings": 0, "absences_applied": 0})
    assert total_events(app) == before


def test_a_pass_that_finds_the_lease_held_does_nothing_until_it_expires(app, as_user):
    from app.deadlines import lease, scheduler
    from app.extensions import unit_of_work

    cases = accept_cases(as_user, datetime(2026, 11, 2, 10, tzinfo=SHANGHAI), n=2)
    clock.freeze(datetime(2026, 12, 2, 9, tzinfo=SHANGHAI))
    before = total_events(app)
    with app.app_context():
        with unit_of_work():  # another runner (e.g. stuck, or on another machine) holds the lease for 120 s
            assert lease.acquire(name=scheduler.LEASE, holder="other-runner", seconds=120)
        db.session.remove()
    assert run_pass(app) is None
    assert total_events(app) == before
    clock.freeze(datetime(2026, 12, 2, 9, 2, 1, tzinfo=SHANGHAI))  # its lease has expired
    result = run_pass(app)
    assert result == {"timers_fired": 2, "case_warnings": 2, "task_warnings": 2, "absences_applied": 0}
    assert_exactly_once(app, cases)
    with app.app_context():
        assert lease.holder(name=scheduler.LEASE) == (None, None)  # released at the end of the pass
        db.session.remove()


def test_two_cli_processes_write_each_event_once(app, as_user):
    """Two real `flask scheduler run-once` processes at real time (their clock is not frozen): on PostgreSQL
    they start together; SQLite, one process at a time by design, runs them one after the other."""
    real_now = datetime.now(UTC)
    cases = accept_cases(as_user, real_now - timedelta(days=60), n=20)  # every limit passed by real time
    clock.reset()
    env = {k: v for k, v in os.environ.items() if k not in ("TEST_DATABASE_URL", "SCHEDULER_ENABLED", "FLASK_DEBUG")}
    env.update(
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        FLASK_APP="wsgi",
        BPMN_DIR=str(BASE_DIR / "bpmn"),
        PYTHONPATH=str(BASE_DIR),
    )
    command = [sys.executable, "-m", "flask", "scheduler", "run-once"]

    def start() -> subprocess.Popen:
        return subprocess.Popen(
            command, cwd=BASE_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    if is_postgres(app):
        procs = [start(), start()]
    else:
        procs = []
        for _ in range(2):
            procs.append(start())
            procs[-1].wait(120)
    outputs = [p.communicate(timeout=120) for p in procs]
    for p, (_, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err[-2000:]
    lines = [out.strip().splitlines()[-1] for out, _ in outputs]
    # At least one pass ran to its end and printed its counts (the other may have found the lock taken).
    assert any("timers_fired=" in line for line in lines), lines
    assert_exactly_once(app, cases)
