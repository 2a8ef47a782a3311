"""Sweep benchmark: the scheduler's pass (app.deadlines.scheduler.run_once) over 100,000 open cases on PostgreSQL.

What is measured, and how
-------------------------
* Database: DATABASE_URL, PostgreSQL only (e.g. postgresql://postgres@127.0.0.1:5432/onewindow_sweep). Its
  `public` schema is dropped and recreated first (unless --no-fresh); an advisory lock refuses a second
  bench on the same database. The schema, calendar, demo center and processes come from the project's
  own CLI: `flask db upgrade`, `flask calendar seed`, `flask demo seed`, `flask processes sync`.
* Data (not measured, printed):
  - --real cases (default 200) accepted through the case runtime (app.cases.runtime.accept) with the
    clock set 16 days back: real workflows whose promised limit, review step limit and boundary timer at
    promised_due() have all passed, so the first pass fires their timers and raises their levels.
  - --cases open cases (default 100,000) by one bulk INSERT ... SELECT FROM generate_series: promised due
    at the end of a Beijing day spread over the next 60 days (statutory 14 days later, warning from the
    start of the promised day), a small fraction (--due-fraction, default 1%) already past promised,
    --suspended-fraction (default 2%) with stopped clocks. Each gets an open review step with its own
    due time (3 days, the same fraction already past) and, when its promised limit lies ahead, a
    boundary timer at it (next_timer_at), as the food license process has.
  - --closed completed cases (default 50,000), which the partial indexes leave out.
  Then VACUUM ANALYZE.
* Pass 1 (catch-up): everything that lags is raised (the already-due fraction, the real cases, the
  warnings of cases whose last day is today) and the real cases' timers fire. Timed, with its counts.
* Steady passes (--passes, default 8; median over them): nothing lags after pass 1, so a pass is the cost
  of finding nothing: jobs.fire_timers, jobs.sweep_cases and jobs.sweep_tasks, each its SELECT in its
  own transaction, the scheduler's lease taken first. Every steady pass must report zero changes (else exit 1).
  Each job is also timed alone over the same number of passes.
* Plans: the exact SELECT statements the jobs sent during a steady pass are captured (SQLAlchemy
  `before_cursor_execute`) and run again under EXPLAIN (ANALYZE, BUFFERS) with their parameters, on the
  same kind of connection: the plans show whether the partial indexes are used (their names are read
  from the models, app/cases/models.py and app/tasks/models.py: ix_cases_lag_*, ix_cases_timer,
  ix_tasks_lag_*, so they cannot go stale again).
* The catch-up target of issue 10: pass 1 with the default data (about 2,800 case and 2,800 step level
  changes and 200 timers) within 3 s.

Run: `DATABASE_URL=postgresql://postgres@127.0.0.1:5432/onewindow_sweep .venv/bin/python -m benchmarks.sweep`
Results are printed and written as JSON to bench-results/sweep-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench-results"
BENCH_LOCK = 0x73776570  # "swep": one sweep bench per database at a time
SWEEP_INDEX_PREFIXES = ("ix_cases_lag_", "ix_cases_timer", "ix_tasks_lag_")


# A complete application of the food business license (SC-001), as the front desk accepts it.
APPLICATION = {
    "matter_code": "SC-001",
    "applicant": {"name": "张三", "id_number": "330102199001011234", "phone": "13800000000"},
    "materials": [
        {"name": name, "provided": True}
        for name in ("食品经营许可申请书", "营业执照复印件", "法定代表人身份证明", "食品安全管理制度文本")
    ],
    "data": {},
}


class BenchError(Exception):
    """The bench cannot run or its results are wrong."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", type=int, default=100_000, help="open cases inserted in bulk")
    p.add_argument("--closed", type=int, default=50_000, help="completed cases inserted in bulk")
    p.add_argument("--real", type=int, default=200, help="cases accepted through the service, all lagging")
    p.add_argument("--due-fraction", type=float, default=0.01, help="share of bulk open cases already past due")
    p.add_argument("--suspended-fraction", type=float, default=0.02, help="share of bulk open cases suspended")
    p.add_argument("--passes", type=int, default=8, help="steady passes timed after the catch-up pass (>= 5)")
    p.add_argument("--no-fresh", action="store_true", help="keep the database's schema and data (no rebuild)")
    args = p.parse_args(argv)
    if args.passes < 5:
        p.error("--passes must be >= 5")
    return args


def database_url() -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url.startswith(("postgres://", "postgresql://", "postgresql+psycopg://")):
        raise BenchError(
            "DATABASE_URL must name a PostgreSQL database, e.g. postgresql://postgres@127.0.0.1:5432/onewindow_sweep"
        )
    return url


def libpq_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1).replace("postgres://", "postgresql://", 1)


@contextmanager
def exclusive(url: str) -> Iterator[None]:
    """Hold an advisory lock for the whole run: two benches never rebuild one database under each other."""
    import psycopg

    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        if not conn.execute("SELECT pg_try_advisory_lock(%s)", (BENCH_LOCK,)).fetchone()[0]:
            raise BenchError("another sweep bench is running on this database")
        yield


def prepare_schema(url: str, *, fresh: bool) -> None:
    """Empty public schema, then the project's CLI: migrations, calendar, demo center, processes."""
    import psycopg

    if fresh:
        with psycopg.connect(libpq_url(url), autocommit=True) as conn:
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("CREATE SCHEMA public")
    env = dict(os.environ, FLASK_APP="wsgi", DATABASE_URL=url, SCHEDULER_ENABLED="0")
    for command in (["db", "upgrade"], ["calendar", "seed"], ["demo", "seed"], ["processes", "sync"]):
        done = subprocess.run(
            [sys.executable, "-m", "flask", *command], cwd=ROOT, env=env, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise BenchError(f"flask {' '.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")


# ---------------------------------------------------------------------------------------------
# Data


def accept_real_cases(n: int) -> float:
    """n cases through the service layer, accepted 16 days ago (their limits and timers have passed)."""
    from app import clock
    from app.cases import runtime as cases
    from app.extensions import db, unit_of_work
    from app.identity.service import get_user, to_principal

    started = time.perf_counter()
    principal = to_principal(get_user(username="window1"))
    clock.freeze(datetime.now(UTC) - timedelta(days=16))
    try:
        for i in range(n):
            with unit_of_work():
                cases.accept(principal=principal, **APPLICATION)
            if i % 50 == 49:
                clock.advance(timedelta(minutes=1))
    finally:
        clock.reset()
        db.session.remove()
    return time.perf_counter() - started


BULK_CASES = """
WITH src AS (
    SELECT i,
           date_trunc('day', now() AT TIME ZONE 'Asia/Shanghai') AS today,
           CASE WHEN i % 10000 < :due_permyriad THEN -(1 + i % 5) ELSE (i * 7919) % 60 END AS day_offset,
           i % 10000 >= 10000 - :suspended_permyriad AS suspended
    FROM generate_series(1, :n) AS g(i)
), dues AS (
    SELECT i, suspended,
           ((today + make_interval(days => day_offset + 1)) AT TIME ZONE 'Asia/Shanghai') - interval '1 microsecond'
               AS promised_due,
           ((today + make_interval(days => day_offset)) AT TIME ZONE 'Asia/Shanghai') AS warning_at
    FROM src
)
INSERT INTO cases (number, matter_code, department, process_version_id, status, applicant, materials,
                   accepted_at, accepted_by, statutory_days, promised_days, statutory_due, promised_due,
                   warning_at, suspended_days, extended_days, provisional, clock_stopped_since, warning,
                   next_timer_at, state_version, event_seq)
SELECT 'BULK' || lpad(i::text, 9, '0'), 'SC-001',
       (ARRAY['market', 'housing', 'health', 'civil', 'fire', 'resources'])[1 + i % 6],
       :version_id, CASE WHEN suspended THEN 'suspended' ELSE 'in_progress' END,
       '{"name": "批量申请人"}'::json, '[]'::json,
       promised_due - interval '14 days', 'window1', 20, 10,
       promised_due + interval '14 days', promised_due, warning_at, 0, 0, false,
       CASE WHEN suspended THEN now() - interval '2 days' END, 'ok',
       CASE WHEN promised_due > now() THEN promised_due END, 1, 0
FROM dues
"""

BULK_CLOSED = """
INSERT INTO cases (number, matter_code, department, process_version_id, status, result, applicant, materials,
                   accepted_at, accepted_by, completed_at, statutory_days, promised_days, statutory_due,
                   promised_due, warning_at, suspended_days, extended_days, provisional, warning,
                   state_version, event_seq)
SELECT 'DONE' || lpad(i::text, 9, '0'), 'SC-001', (ARRAY['market', 'housing', 'health'])[1 + i % 3],
       :version_id, 'completed', 'approved', '{"name": "批量申请人"}'::json, '[]'::json,
       now() - make_interval(days => 20 + i % 300), 'window1', now() - make_interval(days => 10 + i % 300),
       20, 10, now() - make_interval(days => i % 300), now() - make_interval(days => 6 + i % 300),
       now() - make_interval(days => 7 + i % 300), 0, 0, false, 'ok', 1, 0
FROM generate_series(1, :n) AS g(i)
"""

# One open review step per bulk open case, with its own limit: due with the case's promised limit (so the
# same small fraction is already past), warned from the start of its last day.
BULK_TASKS = """
INSERT INTO tasks (case_id, engine_task_id, name, title, form, group_code, state, created_at, due_at,
                   warning_at, warning, case_number, matter_code, applicant_name)
SELECT c.id, 'bulk:' || c.id, 'review', '承办人审查', 'review', c.department || '.review', 'ready',
       c.accepted_at, c.promised_due, c.warning_at, 'ok', c.number, c.matter_code, c.applicant->>'name'
FROM cases c
WHERE c.number LIKE 'BULK%'
"""


def bulk_insert(*, open_cases: int, closed: int, due_fraction: float, suspended_fraction: float) -> dict:
    from sqlalchemy import func, select, text

    from app.extensions import db
    from app.processes.models import ProcessVersion

    version_id = db.session.scalar(
        select(func.max(ProcessVersion.id)).where(ProcessVersion.key == "food_business_license")
    )
    timings = {}
    started = time.perf_counter()
    db.session.execute(
        text(BULK_CASES),
        {
            "n": open_cases,
            "version_id": version_id,
            "due_permyriad": round(due_fraction * 10000),
            "suspended_permyriad": round(suspended_fraction * 10000),
        },
    )
    timings["open_cases_s"] = time.perf_counter() - started
    started = time.perf_counter()
    db.session.execute(text(BULK_CLOSED), {"n": closed, "version_id": version_id})
    timings["closed_cases_s"] = time.perf_counter() - started
    started = time.perf_counter()
    db.session.execute(text(BULK_TASKS))
    timings["tasks_s"] = time.perf_counter() - started
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        started = time.perf_counter()
        conn.exec_driver_sql("VACUUM ANALYZE cases")
        conn.exec_driver_sql("VACUUM ANALYZE tasks")
        conn.exec_driver_sql("VACUUM ANALYZE events")
        timings["vacuum_analyze_s"] = time.perf_counter() - started
    return timings


def census() -> dict:
    """What the database holds, and what lags right now."""
    from sqlalchemy import text

    from app.extensions import db

    row = db.session.execute(
        text(
            """
            SELECT count(*) FILTER (WHERE status = 'in_progress') AS in_progress,
                   count(*) FILTER (WHERE status = 'suspended') AS suspended,
                   count(*) FILTER (WHERE status = 'completed') AS completed,
                   count(*) FILTER (WHERE status = 'in_progress' AND clock_stopped_since IS NULL AND (
                        (statutory_due < now() AND warning <> 'breach')
                        OR (promised_due < now() AND warning IN ('ok', 'warning'))
                        OR (warning_at <= now() AND warning = 'ok'))) AS cases_lagging,
                   count(*) FILTER (WHERE status = 'in_progress' AND next_timer_at <= now()) AS timers_due,
                   (SELECT count(*) FROM tasks WHERE state IN ('ready', 'claimed')) AS open_tasks,
                   (SELECT count(*) FROM events) AS events
            FROM cases
            """
        )
    ).one()
    db.session.rollback()
    return dict(row._mapping)


# ---------------------------------------------------------------------------------------------
# Measurements


def timed(fn) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def run_job(job) -> tuple[int, int]:
    """One batch of one job as run_once runs it: the scheduler's lease taken first, then the job in its
    own transaction."""
    from app.deadlines import lease, scheduler
    from app.extensions import unit_of_work

    with unit_of_work():
        if not lease.acquire(name=scheduler.LEASE, holder="sweep-bench", seconds=600):
            raise BenchError("the scheduler's lease is held by someone else")
    with unit_of_work():
        return job()


@contextmanager
def job_clocks(scheduler) -> Iterator[dict[str, float]]:
    """Time spent inside each job (its commits aside) while run_once runs, by wrapping the scheduler's
    JOBS (run_once calls the functions held there, not the jobs module's names)."""
    spent: dict[str, float] = {}
    originals = scheduler.JOBS

    def wrap(name, fn):
        def timed_job(*a, **kw):
            started = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                spent[name] = round(spent.get(name, 0.0) + (time.perf_counter() - started) * 1000, 1)

        return timed_job

    scheduler.JOBS = tuple((name, wrap(name, fn), batch) for name, fn, batch in originals)
    try:
        yield spent
    finally:
        scheduler.JOBS = originals


@contextmanager
def captured_selects() -> Iterator[list[tuple[str, object]]]:
    """The SELECT statements sent to the database meanwhile (the jobs' sweeps), with their parameters."""
    from sqlalchemy import event

    from app.extensions import db

    seen: list[tuple[str, object]] = []

    def listen(conn, cursor, statement, parameters, context, executemany):
        head = statement.lstrip().upper()
        # In a steady pass the jobs send nothing but their sweeps and the advisory lock.
        if head.startswith(("SELECT", "WITH")) and "ADVISORY" not in head and "FOR UPDATE" not in head:
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)


def sweep_indexes() -> list[str]:
    """The partial indexes the sweep's probes are meant to use, by the names the models give them."""
    from app.cases.models import Case
    from app.tasks.models import Task

    tables = (Case.__table__, Task.__table__)
    return sorted(ix.name for t in tables for ix in t.indexes if ix.name.startswith(SWEEP_INDEX_PREFIXES))


def explain(statements: list[tuple[str, object]]) -> list[dict]:
    from app.extensions import db

    indexes = sweep_indexes()
    if not indexes:
        raise BenchError("the models declare none of the sweep's partial indexes")
    plans = []
    for statement, parameters in statements:
        with db.engine.connect() as conn:
            rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).all()
            conn.rollback()
        plan = "\n".join(r[0] for r in rows)
        used = [name for name in indexes if re.search(rf"\b{name}\b", plan)]
        plans.append({"statement": " ".join(statement.split()), "plan": plan, "indexes_used": used})
    return plans


def median_ms(values: list[float]) -> float:
    return round(statistics.median(values) * 1000, 2)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    url = database_url()
    os.environ["DATABASE_URL"] = url
    os.environ["SCHEDULER_ENABLED"] = "0"
    sys.path.insert(0, str(ROOT))
    results: dict = {"args": vars(args), "database": libpq_url(url).rsplit("@", 1)[-1]}

    with exclusive(url):
        if not args.no_fresh:
            started = time.perf_counter()
            prepare_schema(url, fresh=True)
            results["schema_s"] = round(time.perf_counter() - started, 2)

        from app import create_app
        from app.deadlines import jobs, scheduler
        from app.deadlines.scheduler import run_once
        from app.extensions import db

        app = create_app()
        with app.app_context():
            if not args.no_fresh:
                results["real_cases_s"] = round(accept_real_cases(args.real), 2)
                bulk = bulk_insert(
                    open_cases=args.cases,
                    closed=args.closed,
                    due_fraction=args.due_fraction,
                    suspended_fraction=args.suspended_fraction,
                )
                results["bulk_insert_s"] = {k: round(v, 2) for k, v in bulk.items()}
            results["before"] = census()
            print("data:", json.dumps(results["before"]), flush=True)

            with job_clocks(scheduler) as spent:
                seconds, first = timed(run_once)
            if first is None:
                raise BenchError("pass 1 found the scheduler lock taken")
            results["pass_1"] = {"ms": round(seconds * 1000, 1), **first, "job_ms": spent}
            print(f"pass 1 (catch-up): {seconds * 1000:.0f} ms {first}", flush=True)
            results["after_pass_1"] = census()

            steady = []
            for i in range(args.passes):
                seconds, totals = timed(run_once)
                if totals is None or any(totals.values()):
                    raise BenchError(f"steady pass {i + 2} changed something: {totals}")
                steady.append(seconds)
            results["steady_pass_ms"] = [round(s * 1000, 2) for s in steady]
            results["steady_pass_median_ms"] = median_ms(steady)

            per_job = {}
            for name, job in (
                ("fire_timers", jobs.fire_timers),
                ("sweep_cases", jobs.sweep_cases),
                ("sweep_tasks", jobs.sweep_tasks),
            ):
                times = []
                for _ in range(args.passes):
                    seconds, (examined, changed) = timed(lambda job=job: run_job(job))
                    if changed:
                        raise BenchError(f"{name} changed {changed} rows in a steady pass")
                    times.append(seconds)
                per_job[name] = {"median_ms": median_ms(times), "all_ms": [round(t * 1000, 2) for t in times]}
            results["per_job"] = per_job

            with captured_selects() as statements:
                run_once()
            results["plans"] = explain(statements)
            db.session.remove()

    print_report(results)
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"sweep-{datetime.now():%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    print(f"\nwritten to {out.relative_to(ROOT)}")
    return 0


def print_report(r: dict) -> None:
    b = r["before"]
    print("\n== sweep benchmark:", r["database"])
    print(
        f"cases: {b['in_progress']} in progress, {b['suspended']} suspended, {b['completed']} completed; "
        f"{b['open_tasks']} open tasks; lagging before pass 1: {b['cases_lagging']} cases, {b['timers_due']} timers"
    )
    if "bulk_insert_s" in r:
        print(
            f"build: schema {r['schema_s']} s, {r['args']['real']} real cases {r['real_cases_s']} s, "
            f"bulk {r['bulk_insert_s']}"
        )
    p1 = r["pass_1"]
    print(
        f"pass 1 (catch-up): {p1['ms']} ms: timers_fired={p1['timers_fired']} "
        f"case_warnings={p1['case_warnings']} task_warnings={p1['task_warnings']}; inside the jobs: {p1['job_ms']} ms"
    )
    print(
        f"steady passes ({len(r['steady_pass_ms'])}): median {r['steady_pass_median_ms']} ms; all {r['steady_pass_ms']}"
    )
    for name, figures in r["per_job"].items():
        print(f"  {name}: median {figures['median_ms']} ms; all {figures['all_ms']}")
    print("\n-- EXPLAIN (ANALYZE, BUFFERS) of the sweep's SELECTs (a steady pass)")
    for plan in r["plans"]:
        print(f"\n{plan['statement']}\n  indexes used: {', '.join(plan['indexes_used']) or 'NONE'}")
        for line in plan["plan"].splitlines():
            print("   ", line)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"sweep bench: {exc}", file=sys.stderr)
        sys.exit(1)
