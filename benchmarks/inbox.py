"""Inbox benchmark: GET /api/tasks over real HTTP against a database holding 100,000 open tasks.

Run `python -m benchmarks.sweep` first (it builds 100,000 open cases, each with an open review step
spread over six review groups, in DATABASE_URL), then
`DATABASE_URL=postgresql://postgres@127.0.0.1:5432/onewindow_sweep python -m benchmarks.inbox`.
It serves the app with gunicorn (as benchmarks/serial.py does), logs in as a reviewer and times the
inbox pages a reviewer actually asks for: the first and a deep page of `scope=claimable` (about
17,000 tasks of the reviewer's group) and `scope=mine`. Median and p95 over --requests each.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from benchmarks.serial import PASSWORD, Client, Recorder, choose_database, gunicorn, percentile

QUERIES = {
    "claimable p1": "/api/tasks?scope=claimable&per_page=50",
    "claimable p100": "/api/tasks?scope=claimable&per_page=50&page=100",
    "mine": "/api/tasks?scope=mine",
}


def main(argv: list[str] | None = None) -> int:
    """Time the inbox queries; print median and p95 per query."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--user", default="market_reviewer1")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="onewindow-inbox-") as tmp:
        db = choose_database(Path(tmp))
        with gunicorn(db, workers=2, threads=4, log=Path(tmp) / "gunicorn.log") as server:
            client = Client(server.port, Recorder())
            body = {"username": args.user, "password": PASSWORD}
            token = client.call(None, "POST", "/api/auth/token", body=body)["token"]
            print(f"inbox of {args.user} over real HTTP, {args.requests} requests per query")
            for label, path in QUERIES.items():
                total = client.call(None, "GET", path, token=token)["total"]
                client.recorder.samples[label] = []
                for _ in range(args.requests):
                    client.call(label, "GET", path, token=token)
                ms = [s * 1000 for s in client.recorder.samples[label]]
                print(
                    f"{label:15} total {total:6}  median {percentile(ms, 50):6.2f} ms  p95 {percentile(ms, 95):6.2f} ms"
                )
            client.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
