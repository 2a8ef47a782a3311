"""Robustness against a real server: the hostile-design corpus, and a fault run.

Against gunicorn as `make run` starts it (2 workers x 4 threads), on the bench database (PostgreSQL
when DATABASE_URL is set, else a temporary SQLite file), built with the project's own CLI:

* corpus: every design of tests/processes/hostile.py is uploaded; those the upload check must refuse
  are counted (422 naming the element); each run-time one is published and dry-run with the data
  that trips it, eight at once, while /api/health is polled; the time each dry run takes to be
  stopped, the health latencies and the server's resident memory (gunicorn and every child, sampled
  at 20 Hz) are reported.
* faults (PostgreSQL only): C clients drive food-licence cases for D seconds; at D/3 one gunicorn
  worker is killed (SIGKILL; gunicorn starts another), at 2D/3 every database connection of the
  bench database is terminated. Clients count errors and carry on with a new case. Afterwards the
  database must show every acknowledged completion (a 200 from complete) with exactly one
  task_completed event, no task completed twice, no running case without an open task or a timer,
  and `flask audit verify` intact.

Run: `python -m benchmarks.robustness [--duration 120 --clients 8]` (DATABASE_URL for PostgreSQL).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from statistics import median

import requests

from benchmarks.serial import (
    MATERIALS,
    PASSWORD,
    ROOT,
    STEPS,
    BenchError,
    Database,
    app_env,
    children_of,
    choose_database,
    exclusive,
    gunicorn,
    libpq_url,
    prepare_database,
)
from tests.processes.hostile import RUN_TIME, RUN_TIME_CONDITIONS, UPLOAD_REFUSED


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.robustness", description=__doc__.split("\n")[0])
    p.add_argument("--duration", type=float, default=120, help="seconds of the fault run (default 120)")
    p.add_argument("--clients", type=int, default=8, help="client threads of the fault run (default 8)")
    p.add_argument("--skip-faults", action="store_true", help="only the corpus")
    return p.parse_args(argv)


def token(base: str, username: str) -> dict[str, str]:
    response = requests.post(f"{base}/api/auth/token", json={"username": username, "password": PASSWORD}, timeout=30)
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['token']}"}


def rss_bytes(pid: int) -> int:
    """Memory of a process and its descendants (gunicorn's workers and their dry-run children), as
    proportional set size: pages a forked child still shares with its parent count once, not twice."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            for line in Path(f"/proc/{current}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
        stack.extend(children_of(current))
    return total


class MemorySampler(threading.Thread):
    """Samples rss_bytes(pid) at 20 Hz until stopped; keeps the peak."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.first = pid, 0, rss_bytes(pid)
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, rss_bytes(self.pid))
            time.sleep(0.05)


def corpus(base: str, pid: int) -> dict:
    """The corpus against the server: refused at upload, stopped at run time, times, memory."""
    designer = token(base, "designer")
    xml = {**designer, "Content-Type": "application/xml"}
    refused = []
    for design in UPLOAD_REFUSED:
        r = requests.post(f"{base}/api/processes", data=design.xml, headers=xml, timeout=60)
        named = [e for e in r.json().get("report", []) if e["severity"] == "error" and e["element"] == design.element]
        refused.append(r.status_code == 422 and bool(named))
    published = []
    for design in RUN_TIME + RUN_TIME_CONDITIONS:
        r = requests.post(f"{base}/api/processes", data=design.xml, headers=xml, timeout=60)
        body = r.json()
        p = requests.post(
            f"{base}/api/processes/{body['key']}/versions/{body['version']}/publish", headers=designer, timeout=60
        )
        if r.status_code != 201 or p.status_code != 200:
            raise BenchError(f"{design.name}: upload {r.status_code}, publish {p.status_code}")
        published.append((body, design))

    def dry_run(item):
        body, design = item
        started = time.monotonic()
        r = requests.post(
            f"{base}/api/processes/{body['key']}/versions/{body['version']}/simulate",
            json={"data": design.data, "tasks": {"review": {"opinion": "ok"}}},
            headers=designer,
            timeout=120,
        )
        return r.status_code == 422 and r.json().get("element") == design.element, time.monotonic() - started

    sampler = MemorySampler(pid)
    sampler.start()
    health = []
    with ThreadPoolExecutor(max_workers=8) as pool:
        runs = pool.map(dry_run, published)
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            started = time.monotonic()
            requests.get(f"{base}/api/health", timeout=30).raise_for_status()
            health.append(time.monotonic() - started)
        stopped = list(runs)
    sampler.done.set()
    sampler.join()
    times = [seconds for _, seconds in stopped]
    return {
        "refused_at_upload": f"{sum(refused)}/{len(refused)}",
        "stopped_at_run_time": f"{sum(ok for ok, _ in stopped)}/{len(stopped)}",
        "time_to_stop_ms": {"median": round(median(times) * 1000, 1), "max": round(max(times) * 1000, 1)},
        "health_ms": {"requests": len(health), "max": round(max(health) * 1000, 1)},
        "server_pss_mb": {"before": round(sampler.first / 2**20, 1), "peak": round(sampler.peak / 2**20, 1)},
    }


class FaultClient(threading.Thread):
    """Drives food-licence cases until told to stop; records every acknowledged completion."""

    def __init__(self, base: str, tokens: dict[str, dict], stop: threading.Event, n: int) -> None:
        super().__init__(daemon=True)
        self.base, self.tokens, self.stop, self.n = base, tokens, stop, n
        self.acknowledged: list[int] = []
        self.errors: Counter[str] = Counter()
        self.http = requests.Session()

    def post(self, path: str, user: str, body: dict | None = None) -> requests.Response | None:
        try:
            r = self.http.post(f"{self.base}{path}", json=body, headers=self.tokens[user], timeout=60)
        except requests.RequestException as exc:
            self.errors[type(exc).__name__] += 1
            return None
        if r.status_code >= 500:
            self.errors[str(r.status_code)] += 1
        return r

    def run(self) -> None:
        count = 0
        while not self.stop.is_set():
            count += 1
            body = {
                "matter_code": "SC-001",
                "applicant": {"name": f"故障{self.n}-{count}", "id_number": "330102199001011234"},
                "materials": [{"name": name, "provided": True} for name in MATERIALS],
                "data": {},
            }
            r = self.post("/api/cases", "window1", body)
            if r is None or r.status_code != 201:
                continue
            progress = r.json()
            for name, user, data in STEPS:
                tasks = [t for t in progress.get("open_tasks", []) if t["name"] == name]
                if not tasks or self.stop.is_set():
                    break
                task_id = tasks[0]["id"]
                claimed = self.post(f"/api/tasks/{task_id}/claim", user)
                if claimed is None or claimed.status_code != 200:
                    break
                done = self.post(f"/api/tasks/{task_id}/complete", user, {"data": data})
                if done is None or done.status_code != 200:
                    break
                self.acknowledged.append(int(task_id))
                progress = done.json()["case"]


def terminate_connections(db: Database) -> int:
    """pg_terminate_backend for every other connection to the bench database; how many."""
    import psycopg

    with psycopg.connect(libpq_url(db.url), autocommit=True) as conn:
        name = conn.execute("SELECT current_database()").fetchone()[0]
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        ).fetchall()
    return len(rows)


def faults(base: str, server_pid: int, db: Database, args: argparse.Namespace) -> dict:
    """The fault run and what the database shows afterwards."""
    users = {"window1"} | {user for _, user, _ in STEPS}
    tokens = {user: token(base, user) for user in users}
    stop = threading.Event()
    clients = [FaultClient(base, tokens, stop, n) for n in range(args.clients)]
    for c in clients:
        c.start()
    time.sleep(args.duration / 3)
    workers = children_of(server_pid)
    os.kill(workers[0], signal.SIGKILL)
    time.sleep(args.duration / 3)
    terminated = terminate_connections(db)
    time.sleep(args.duration / 3)
    stop.set()
    for c in clients:
        c.join(120)
    acknowledged = [task for c in clients for task in c.acknowledged]
    errors = sum((c.errors for c in clients), Counter())
    return {
        "clients": args.clients,
        "seconds": args.duration,
        "worker_killed": workers[0],
        "connections_terminated": terminated,
        "acknowledged_completions": len(acknowledged),
        "client_errors": dict(errors),
        **check_database(db, acknowledged),
    }


def check_database(db: Database, acknowledged: list[int]) -> dict:
    """Every acknowledged completion stored with one event; no double completion; nothing stuck; chains intact."""
    import psycopg

    with psycopg.connect(libpq_url(db.url)) as conn:
        completed = dict(
            conn.execute(
                "SELECT task_id, count(*) FROM events WHERE type = 'task_completed' GROUP BY task_id"
            ).fetchall()
        )
        states = dict(conn.execute("SELECT id, state FROM tasks WHERE id = ANY(%s)", (acknowledged,)).fetchall())
        stuck = conn.execute(
            """SELECT count(*) FROM cases c WHERE c.status = 'in_progress' AND c.next_timer_at IS NULL
               AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.case_id = c.id AND t.state IN ('ready', 'claimed'))"""
        ).fetchone()[0]
    verify = subprocess.run(
        [sys.executable, "-m", "flask", "audit", "verify"], cwd=ROOT, env=app_env(db), capture_output=True, text=True
    )
    return {
        "acknowledged_found": sum(1 for t in acknowledged if states.get(t) == "completed" and completed.get(t) == 1),
        "completed_twice": sum(1 for n in completed.values() if n > 1),
        "cases_stuck": stuck,
        "audit_verify": _verdict(verify),
    }


def _verdict(verify: subprocess.CompletedProcess) -> dict | str:
    """What `flask audit verify` found (its JSON answer), or its error output."""
    try:
        found = json.loads(verify.stdout)
    except ValueError:
        return verify.stderr[-300:]
    return {key: found.get(key) for key in ("intact", "events_checked", "first_broken")}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        db = choose_database(Path(tmp))
        with exclusive(db):
            prepare_database(db, fresh=True)
            with gunicorn(db, workers=2, threads=4, log=Path(tmp) / "gunicorn.log") as server:
                base = f"http://127.0.0.1:{server.port}"
                results = {"database": db.kind, "corpus": corpus(base, server.process.pid)}
                if db.kind == "postgresql" and not args.skip_faults:
                    results["faults"] = faults(base, server.process.pid, db, args)
    print(json.dumps(results, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
