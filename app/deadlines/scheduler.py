"""APScheduler wiring: one pass = fire due timers, then sweep deadlines; one runner at a time.

With several app processes, every process schedules the pass, and each pass first takes the
scheduler's lease (app/deadlines/lease.py): whoever does not get it skips that pass. The lease is
renewed before each batch and expires, so a runner that dies or gets stuck loses its turn instead
of stopping every deadline. The jobs are idempotent, so a crash mid-pass or a second scheduler
never fires a timer or a warning twice; each case's timers fire in a savepoint of their own, so
one bad case is an incident and the pass goes on.
"""

from __future__ import annotations

import atexit
import logging
import os
import socket
import uuid

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask, current_app

from app import clock
from app.cases import intake
from app.deadlines import jobs, lease
from app.extensions import db, unit_of_work
from app.notifications import service as notifications
from app.supervision import cards
from app.tasks import backups

log = logging.getLogger(__name__)
LEASE = "deadlines"
# (name, job, batch size): a job that examined a full batch and changed something runs again.
JOBS = (
    ("timers_fired", jobs.fire_timers, jobs.BATCH),
    ("case_warnings", jobs.sweep_cases, jobs.BATCH),
    ("task_warnings", jobs.sweep_tasks, jobs.BATCH),
    ("corrections_lapsed", intake.close_lapsed, intake.BATCH),
    ("cards_escalated", cards.escalate_overdue, cards.BATCH),
    ("absences_applied", backups.apply_due, backups.BATCH),
)


def run_once() -> dict[str, int] | None:
    """One pass over every job, each batch in its own transaction; None when another runner holds the lease."""
    me = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    seconds = current_app.config.get("SCHEDULER_LEASE_SECONDS", 120)
    totals = {name: 0 for name, _, _ in JOBS}
    try:
        for name, job, batch in JOBS:
            while True:
                with unit_of_work():  # a short transaction of its own: a batch never holds the lease row
                    if not lease.acquire(name=LEASE, holder=me, seconds=seconds):
                        return None
                with unit_of_work():
                    examined, changed = job()
                totals[name] += changed
                # A full batch that changed something may have more behind it; otherwise the job is done.
                if examined < batch or changed == 0:
                    break
        return totals
    finally:
        with unit_of_work():
            lease.release(name=LEASE, holder=me)


def deliver_messages() -> int:
    """Send what waits in the notification outbox (after the commits that wrote it); the count sent.

    Outside the lease: rows are locked SKIP LOCKED, so two runners never send one message twice."""
    sent = 0
    while True:
        with unit_of_work():
            examined, delivered = notifications.deliver_outbox()
        sent += delivered
        if examined < notifications.BATCH:
            return sent


def start_scheduler(app: Flask) -> BackgroundScheduler:
    """Run a pass every SCHEDULER_INTERVAL_SECONDS in a background thread of this process."""

    def tick():
        with app.app_context():
            try:
                result = run_once()
                if result and any(result.values()):
                    log.info("scheduler pass: %s", result)
                sent = deliver_messages()
                if sent:
                    log.info("outbound messages sent: %s", sent)
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
