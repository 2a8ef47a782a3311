"""Stats benchmark: a year's period statistics (GET /api/supervision/stats) over 100,000 cases on PostgreSQL.

What is measured, and how
-------------------------
* Database: DATABASE_URL, PostgreSQL only (e.g. postgresql://postgres@127.0.0.1:5432/ow_sup_bench). Its
  `public` schema is dropped and recreated first (unless --no-fresh), then built by the project's own CLI
  (`flask db upgrade`, `calendar seed`, `demo seed`, `processes sync`, as benchmarks/sweep.py does).
* Data (not measured, printed): --cases cases (default 100,000) by one bulk INSERT ... SELECT FROM
  generate_series, accepted over the 365 days of 2026 across four matters and their departments (market,
  housing, health, civil; the civil one 即办件), by eight clerks: 85% completed 0-14 days after
  acceptance (promised limit 10 days, so some late), 10% still running, 5% withdrawn; 40% of the
  completed ones evaluated, one in ten of those badly, each bad one with a follow-up step (half done);
  and --refusals refusal filings (default 2,000). Then VACUUM ANALYZE.
* Timed: app.supervision.stats.figures (the function behind the API, JSON shape and labels included)
  for 2026-01-01..2026-12-31 by department, --runs times (default 30) after 3 warm-up runs: wall-clock
  p50/p95 and the process's CPU time per run. The other groupings (matter, clerk, month) are timed too.
* Target (issue 14): p95 by department <= 200 ms.

Run: `DATABASE_URL=postgresql://postgres@127.0.0.1:5432/ow_sup_bench .venv/bin/python -m benchmarks.stats`
Results are printed and written as JSON to bench-results/stats-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import UTC, date, datetime

from benchmarks.sweep import ROOT, BenchError, database_url, exclusive, libpq_url, prepare_schema

RESULTS_DIR = ROOT / "bench-results"
TARGET_P95_MS = 200.0

BULK_CASES = """
INSERT INTO cases (number, matter_code, department, process_version_id, status, result, applicant, materials,
                   accepted_at, accepted_by, completed_at, statutory_days, promised_days, statutory_due,
                   promised_due, warning_at, suspended_days, extended_days, provisional, warning, evaluation,
                   state_version, event_seq)
SELECT 'STAT' || lpad(i::text, 9, '0'), m.code, m.department, :version_id,
       CASE WHEN i % 20 = 0 THEN 'withdrawn' WHEN i % 10 = 1 THEN 'in_progress' ELSE 'completed' END,
       CASE WHEN i % 20 = 0 OR i % 10 = 1 THEN NULL WHEN i % 50 = 7 THEN 'rejected' ELSE 'approved' END,
       '{"name": "统计申请人"}'::json, '[]'::json,
       a.at, 'window' || (1 + i % 8),
       CASE WHEN i % 20 = 0 OR i % 10 = 1 THEN NULL ELSE a.at + make_interval(days => i % 15, hours => 3) END,
       20, 10, a.at + interval '28 days', a.at + interval '14 days', a.at + interval '13 days',
       i % 3, 0, false, CASE WHEN i % 10 = 1 AND i % 7 = 0 THEN 'overdue' ELSE 'ok' END,
       CASE WHEN i % 20 = 0 OR i % 10 = 1 OR i % 5 > 1 THEN NULL
            WHEN i % 50 = 2 THEN 'dissatisfied' ELSE 'satisfied' END,
       1, 0
FROM generate_series(1, :n) AS g(i)
CROSS JOIN LATERAL (SELECT timestamptz '2026-01-01 01:00+00' + make_interval(days => i % 365, hours => i % 9)
                    AS at) a
CROSS JOIN LATERAL (SELECT (ARRAY['SC-001', 'JS-001', 'WS-001', 'MZ-001'])[1 + i % 4] AS code,
                           (ARRAY['market', 'housing', 'health', 'civil'])[1 + i % 4] AS department) m
"""

BULK_FOLLOW_UPS = """
INSERT INTO tasks (case_id, engine_task_id, name, title, form, group_code, state, created_at, warning)
SELECT c.id, 'platform:follow-up:' || c.id, 'evaluation_follow_up', '差评整改回访', 'opinion',
       c.department || '.review', CASE WHEN c.id % 2 = 0 THEN 'completed' ELSE 'ready' END, c.completed_at, 'ok'
FROM cases c WHERE c.evaluation = 'dissatisfied'
"""

BULK_REFUSALS = """
INSERT INTO filings (kind, reason, documents, department, matter_code, filed_by, filed_at, state)
SELECT 'refusal', '不属于受理范围', '[]'::json, (ARRAY['market', 'housing', 'health', 'civil'])[1 + i % 4],
       (ARRAY['SC-001', 'JS-001', 'WS-001', 'MZ-001'])[1 + i % 4], 'window' || (1 + i % 8),
       timestamptz '2026-01-01 02:00+00' + make_interval(days => i % 365), 'pending'
FROM generate_series(1, :n) AS g(i)
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cases", type=int, default=100_000)
    p.add_argument("--refusals", type=int, default=2_000)
    p.add_argument("--runs", type=int, default=30)
    p.add_argument("--no-fresh", action="store_true", help="reuse the database as it is")
    return p.parse_args(argv)


def bulk_insert(*, cases: int, refusals: int) -> float:
    """The year's cases, follow-up steps and refusals; seconds taken."""
    from sqlalchemy import func, select, text

    from app.extensions import db
    from app.processes.models import ProcessVersion

    started = time.perf_counter()
    version_id = db.session.scalar(select(func.max(ProcessVersion.id)))
    db.session.execute(text(BULK_CASES), {"n": cases, "version_id": version_id})
    db.session.execute(text(BULK_FOLLOW_UPS))
    db.session.execute(text(BULK_REFUSALS), {"n": refusals})
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ("cases", "tasks", "filings"):
            conn.exec_driver_sql(f"VACUUM ANALYZE {table}")
    return time.perf_counter() - started


def measure(by: str, runs: int) -> dict:
    """Wall-clock and CPU milliseconds of `runs` calls of stats.figures for 2026 grouped `by`."""
    from app.identity.principal import Principal
    from app.supervision import stats

    supervisor = Principal(0, "supervisor", "电子监察", None, frozenset(), frozenset({"supervisor"}))
    call = {"principal": supervisor, "start": date(2026, 1, 1), "end": date(2026, 12, 31), "by": by}
    for _ in range(3):
        stats.figures(**call)
    wall, cpu, result = [], [], None
    for _ in range(runs):
        w, c = time.perf_counter(), time.process_time()
        result = stats.figures(**call)
        cpu.append((time.process_time() - c) * 1000)
        wall.append((time.perf_counter() - w) * 1000)
    wall.sort()
    return {
        "rows": len(result["rows"]),
        "accepted": result["total"]["accepted"],
        "completed": result["total"]["completed"],
        "p50_ms": round(statistics.median(wall), 1),
        "p95_ms": round(wall[max(0, round(0.95 * len(wall)) - 1)], 1),
        "max_ms": round(wall[-1], 1),
        "cpu_median_ms": round(statistics.median(cpu), 1),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    url = database_url()
    os.environ.update(DATABASE_URL=url, SCHEDULER_ENABLED="0")
    sys.path.insert(0, str(ROOT))
    results: dict = {"args": vars(args), "database": libpq_url(url).rsplit("@", 1)[-1]}
    with exclusive(url):
        if not args.no_fresh:
            prepare_schema(url, fresh=True)
        from app import create_app
        from app.extensions import db

        app = create_app()
        with app.app_context():
            if not args.no_fresh:
                results["data_s"] = round(bulk_insert(cases=args.cases, refusals=args.refusals), 1)
            results["cases_in_db"] = db.session.execute(db.text("SELECT count(*) FROM cases")).scalar()
            results["timings"] = {by: measure(by, args.runs) for by in ("department", "matter", "clerk", "month")}
            db.session.remove()
    p95 = results["timings"]["department"]["p95_ms"]
    results["target_met"] = p95 <= TARGET_P95_MS
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"stats-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"p95 of a year's stats by department: {p95} ms (target <= {TARGET_P95_MS} ms) -> {out}")
    return 0 if results["target_met"] else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"stats bench: {exc}", file=sys.stderr)
        sys.exit(2)
