"""APScheduler wiring: one pass = fire due timers, then sweep deadlines; one runner at a time.

With several app processes on PostgreSQL, every process schedules the pass, and each pass first
takes a transaction-level advisory lock: whoever does not get it skips that pass. The jobs are
idempotent, so a crash mid-pass or a second scheduler never fires a timer or a warning twice.
"""

from __future__ import annotations

import atexit
import logging
import threading

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask
from sqlalchemy import text

from app import clock
from app.deadlines import jobs
from app.extensions import db, unit_of_work

log = logging.getLogger(__name__)
ADVISORY_KEY = 0x4F4E4557  # "ONEW"
_local_lock = threading.Lock()  # SQLite: one process, one pass at a time


def _leader() -> bool:
    """Take this pass's lock (released at commit); False when another scheduler holds it."""
    if db.engine.dialect.name == "postgresql":
        return bool(db.session.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": ADVISORY_KEY}).scalar())
    return True


def run_once() -> dict[str, int] | None:
    """One pass over every job, each batch in its own transaction; None when another runner holds the lock."""
    if not _local_lock.acquire(blocking=False):
        return None
    try:
        totals = {"timers_fired": 0, "case_warnings": 0, "task_warnings": 0}
        for name, job in (
            ("timers_fired", jobs.fire_timers),
            ("case_warnings", jobs.sweep_cases),
            ("task_warnings", jobs.sweep_tasks),
        ):
            while True:
                with unit_of_work():
                    if not _leader():
                        return None
                    examined, changed = job()
                totals[name] += changed
                # A full batch that changed something may have more behind it; otherwise the job is done.
                if examined < jobs.BATCH or changed == 0:
                    break
        return totals
    finally:
        _local_lock.release()


def start_scheduler(app: Flask) -> BackgroundScheduler:
    """Run a pass every SCHEDULER_INTERVAL_SECONDS in a background thread of this process."""

    def tick():
        with app.app_context():
            try:
                result = run_once()
                if result and any(result.values()):
                    log.info("scheduler pass: %s", result)
            except Exception:  # noqa: BLE001 - a failed pass is logged; the next one retries
                log.exception("scheduler pass failed")
            finally:
                db.session.remove()

    scheduler = BackgroundScheduler(timezone="Asia/Shanghai")
    scheduler.add_job(
        tick,
        "interval",
        seconds=app.config["SCHEDULER_INTERVAL_SECONDS"],
        id="deadlines",
        max_instances=1,
        coalesce=True,
        next_run_time=clock.now(),
    )
    scheduler.start()
    atexit.register(lambda: scheduler.shutdown(wait=False))
    app.extensions["scheduler"] = scheduler
    return scheduler
