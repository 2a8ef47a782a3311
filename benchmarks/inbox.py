"""Inbox benchmark: GET /api/tasks over real HTTP against a database holding 100,000 open tasks.

Run `python -m benchmarks.sweep` first (it builds 100,000 open cases, each with an open review step
spread over six review groups, in DATABASE_URL), then
`DATABASE_URL=postgresql://postgres@127.0.0.1:5432/onewindow_sweep python -m benchmarks.inbox`.
It serves the app with gunicorn (as benchmarks/serial.py does), logs in as a reviewer and times the
inbox pages a reviewer actually asks for: the first and a deep page (100) of `scope=claimable`
(about 17,000 tasks of the reviewer's group), by due time (the default), reversed and by arrival; the
same with each filter (matter, warning level, a case number, an applicant name shared by every bulk
case); and `scope=mine` after the reviewer has claimed --claims tasks through the API (so "mine" is a
non-empty inbox: its first and its last page). Median and p95 over --requests each; the target is
p95 <= --target-ms (10) for every query, and the exit status is 1 when one misses it.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from urllib.parse import quote

from benchmarks.serial import (
    PASSWORD,
    Client,
    Database,
    Recorder,
    choose_database,
    cpu_seconds,
    gunicorn,
    libpq_url,
    percentile,
)

BASE = "/api/tasks?per_page=50&scope="


def queries(case_number: str, applicant: str, mine_pages: int) -> dict[str, str]:
    """Label -> path of every timed inbox query."""
    claimable = BASE + "claimable"
    return {
        "claimable p1": claimable,
        "claimable p100": claimable + "&page=100",
        "-due p1": claimable + "&sort=-due",
        "-due p100": claimable + "&sort=-due&page=100",
        "created p100": claimable + "&sort=created&page=100",
        "matter p1": claimable + "&matter_code=SC-001",
        "matter p100": claimable + "&matter_code=SC-001&page=100",
        "warning=overdue p1": claimable + "&warning=overdue",
        "q=number": claimable + f"&q={quote(case_number)}",
        "q=applicant p1": claimable + f"&q={quote(applicant)}",
        "q=applicant p100": claimable + f"&q={quote(applicant)}&page=100",
        "mine p1": BASE + "mine",
        f"mine p{mine_pages}": BASE + f"mine&page={mine_pages}",
    }


def claim_some(client: Client, token: str, n: int) -> int:
    """Claim the first `n` claimable tasks through the API (not timed); returns how many the user holds."""
    while n > 0:
        batch = client.call(None, "GET", BASE + f"claimable&per_page={min(n, 200)}", token=token)["items"]
        if not batch:
            break
        for item in batch:
            client.call(None, "POST", f"/api/tasks/{item['id']}/claim", token=token)
        n -= len(batch)
    return client.call(None, "GET", BASE + "mine", token=token)["total"]


def vacuum_tasks(db: Database) -> None:
    """VACUUM ANALYZE tasks after the claims, as autovacuum does once 1% of the table changed (migration 0008)."""
    if db.kind != "postgresql":
        return
    import psycopg

    with psycopg.connect(libpq_url(db.url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE tasks")


def time_queries(client: Client, token: str, paths: dict[str, str], requests: int, pid: int) -> list[tuple]:
    """(label, total, median ms, p95 ms, server CPU ms per request) per query, after one warm-up call each.

    The server's CPU (gunicorn master and workers, user + system) is what a request costs the app
    whatever else the machine is doing; wall-clock percentiles include the machine's noise.
    """
    rows = []
    for label, path in paths.items():
        total = client.call(None, "GET", path, token=token)["total"]
        client.recorder.samples[label] = []
        cpu_before = cpu_seconds(pid)
        for _ in range(requests):
            client.call(label, "GET", path, token=token)
        cpu_ms = (cpu_seconds(pid) - cpu_before) * 1000 / requests
        ms = [s * 1000 for s in client.recorder.samples[label]]
        rows.append((label, total, percentile(ms, 50), percentile(ms, 95), cpu_ms))
    return rows


def main(argv: list[str] | None = None) -> int:
    """Time the inbox queries; print median and p95 per query; exit 1 when a p95 misses the target."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--user", default="market_reviewer1")
    parser.add_argument("--claims", type=int, default=5000, help="tasks the user claims first (scope=mine)")
    parser.add_argument("--target-ms", type=float, default=10.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="onewindow-inbox-") as tmp:
        db = choose_database(Path(tmp))
        with gunicorn(db, workers=2, threads=4, log=Path(tmp) / "gunicorn.log") as server:
            client = Client(server.port, Recorder())
            body = {"username": args.user, "password": PASSWORD}
            token = client.call(None, "POST", "/api/auth/token", body=body)["token"]
            held = claim_some(
                client, token, max(0, args.claims - client.call(None, "GET", BASE + "mine", token=token)["total"])
            )
            vacuum_tasks(db)
            sample = client.call(None, "GET", BASE + "claimable&page=50", token=token)["items"][0]
            paths = queries(sample["case_number"], sample["applicant_name"], max(1, -(-held // 50)))
            print(f"inbox of {args.user} over real HTTP, {args.requests} requests per query; {held} tasks held")
            missed = 0
            for label, total, median, p95, cpu in time_queries(client, token, paths, args.requests, server.process.pid):
                verdict = "ok" if p95 <= args.target_ms else "MISSED"
                missed += verdict != "ok"
                print(
                    f"{label:20} total {total:6}  median {median:6.2f} ms  p95 {p95:6.2f} ms  "
                    f"server CPU {cpu:5.2f} ms/request  {verdict}"
                )
            client.close()
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
