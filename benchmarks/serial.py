"""Serial-matter benchmark: N food business license cases (SC-001) through a real HTTP server.

What is measured, and how
-------------------------
* Setup (not measured): a bench database is built with the project's own CLI, as subprocesses of
  this interpreter: `flask db upgrade`, `flask demo seed`, `flask processes sync`. PostgreSQL when
  DATABASE_URL is set (its `public` schema is dropped and recreated first, unless --no-fresh; an
  advisory lock refuses a second bench on the same database), else a fresh SQLite file in a
  temporary directory.
* Server: a separate gunicorn process (`wsgi:app`, --workers W, --threads T: T > 1 selects the
  gthread worker, the one `make run` uses, and the only one that keeps connections alive) on a free
  port of 127.0.0.1. The scheduler is off so that nothing but the bench's requests runs; the token
  cache keeps its configured default (TOKEN_CACHE_SECONDS, passed through when set).
* Load: C client threads, each with its own keep-alive `http.client` connection, each drives whole
  cases: accept (window1) then, for review, audit, decide, certify, deliver: claim + complete by the
  member of the step's group. A complete answers with the case's open tasks and status afterwards,
  which give the next task and, after the last step, prove the case ended `completed`/`approved`
  (11 requests per case). Every status is asserted (201 accept, 200 otherwise): anything
  else aborts the run with exit code 1. The first --warmup cases are driven the same way, unmeasured.
* Latency: client side, per request, from sending the request to having read the whole body
  (median, p95). Throughput: measured cases and task completions over the wall clock of the
  measured phase.
* App-server CPU per case: utime+stime (children included) of the gunicorn master and of its worker
  processes from /proc/<pid>/stat, before and after the measured phase, divided by measured cases.
  PostgreSQL backends are not counted in it; when the database runs on this machine, the CPU of its
  `postgres` processes over the same phase is reported beside it (all of them: the machine is the
  bench's), and the client's own.
* Storage per case, as left (no VACUUM FULL: what a running center keeps on disk), once the database
  holds --storage-cases cases (default 1,000): after the measured phase, further cases are driven the
  same way, unmeasured, until it does. PostgreSQL: `pg_total_relation_size` of cases, case_state,
  tasks, events (incl. indexes, TOAST, dead row versions and the audit chain), plus the raw payload
  bytes; SQLite: the `dbstat` virtual table (pages of each table and its indexes), else the growth of
  the database files.
* Engine floor, in this process, without HTTP or database: the same BPMN parsed once, then for M
  cases start + dump, and per step load (from the dumped state) + complete + ready_tasks + dump, the
  work a complete request does around the engine. The ratio of the HTTP complete median to the
  engine step median says how much the platform costs on top of the engine; it is reported only at
  --concurrency 1 (with several clients, queueing for the two cores is in the HTTP median).

Results are printed as a table and written as JSON to bench-results/serial-<timestamp>.json.
Run: `make bench BENCH_ARGS="--cases 300"` (with DATABASE_URL=postgresql://... for PostgreSQL).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BPMN_FILE = ROOT / "bpmn" / "food_business_license.bpmn"
RESULTS_DIR = ROOT / "bench-results"
PASSWORD = "demo123"
MATTER = "SC-001"
MATERIALS = ["食品经营许可申请书", "营业执照复印件", "法定代表人身份证明", "食品安全管理制度文本"]
CLERK = "window1"
# (BPMN element id, who works it, what they submit): the approved path of the serial process.
STEPS: list[tuple[str, str, dict[str, Any]]] = [
    ("review", "market_reviewer1", {"opinion": "材料齐全，符合法定形式"}),
    ("audit", "market_chief", {"opinion": "同意审查意见"}),
    ("decide", "market_leader", {"approved": True, "opinion": "同意"}),
    ("certify", "market_reviewer1", {"certificate_no": "JY13301020000001"}),
    ("deliver", "window1", {"method": "window"}),
]
USERS = sorted({CLERK, *(user for _, user, _ in STEPS)})
OPERATIONS = ("accept", "claim", "complete")
CLK_TCK = os.sysconf("SC_CLK_TCK")


class BenchError(Exception):
    """The run cannot be trusted (an unexpected status, a server that would not start): exit 1."""


# ---------------------------------------------------------------------------------------------
# Command line


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The options; see the module docstring for what each phase does."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.serial", description=__doc__.split("\n")[0])
    p.add_argument("--cases", type=int, default=200, help="measured cases (default 200)")
    p.add_argument("--concurrency", type=int, default=4, help="client threads, each driving whole cases")
    p.add_argument("--warmup", type=int, default=10, help="unmeasured cases first (default 10)")
    p.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2)")
    p.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker, as `make run` (default 4)")
    p.add_argument("--engine-cases", type=int, default=200, help="cases for the in-process engine floor")
    p.add_argument(
        "--storage-cases", type=int, default=1000, help="cases in the database when storage is read (default 1000)"
    )
    p.add_argument("--json", type=Path, default=None, help="result file (default bench-results/serial-<ts>.json)")
    p.add_argument(
        "--fresh",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="PostgreSQL: drop and recreate the public schema first (default on)",
    )
    args = p.parse_args(argv)
    if min(args.cases, args.concurrency, args.workers, args.threads, args.engine_cases) < 1 or args.warmup < 0:
        p.error("counts must be positive (--warmup may be 0)")
    return args


# ---------------------------------------------------------------------------------------------
# Database


@dataclass
class Database:
    url: str  # as the application reads DATABASE_URL
    kind: str  # "postgresql" or "sqlite"
    path: Path | None = None  # the SQLite file


def choose_database(tmp: Path) -> Database:
    """DATABASE_URL when set (PostgreSQL), else a new SQLite file under `tmp`."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        path = tmp / "bench.db"
        return Database(f"sqlite:///{path}", "sqlite", path)
    if url.startswith(("postgres://", "postgresql://", "postgresql+psycopg://")):
        return Database(url, "postgresql")
    raise BenchError(f"DATABASE_URL must be a PostgreSQL URL (or unset for SQLite), got {url!r}")


def libpq_url(url: str) -> str:
    """The URL psycopg itself accepts (no SQLAlchemy driver suffix)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def reset_pg_schema(db: Database) -> None:
    """Drop and recreate the public schema, so that repeated runs start from the same empty database."""
    import psycopg

    with psycopg.connect(libpq_url(db.url), autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


BENCH_LOCK = 0x6F6E6577  # a fixed pg advisory lock key: one bench per database at a time


@contextmanager
def exclusive(db: Database) -> Iterator[None]:
    """PostgreSQL: hold an advisory lock for the whole run, so that two benches never share (or drop)
    one database under each other. SQLite needs none: every run has its own temporary file.
    """
    if db.kind != "postgresql":
        yield
        return
    import psycopg

    with psycopg.connect(libpq_url(db.url), autocommit=True) as conn:
        if not conn.execute("SELECT pg_try_advisory_lock(%s)", (BENCH_LOCK,)).fetchone()[0]:
            raise BenchError("another bench is running on this database; wait for it (or use another database)")
        yield


def app_env(db: Database) -> dict[str, str]:
    """The environment of every application process: the bench database, no scheduler."""
    env = dict(os.environ, FLASK_APP="wsgi", DATABASE_URL=db.url, SCHEDULER_ENABLED="0")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def prepare_database(db: Database, *, fresh: bool) -> None:
    """Schema, demo accounts and published processes, with the project's own CLI."""
    if db.kind == "postgresql" and fresh:
        reset_pg_schema(db)
    for command in (["db", "upgrade"], ["demo", "seed"], ["processes", "sync"]):
        done = subprocess.run(
            [sys.executable, "-m", "flask", *command], cwd=ROOT, env=app_env(db), capture_output=True, text=True
        )
        if done.returncode != 0:
            raise BenchError(f"flask {' '.join(command)} failed ({done.returncode}):\n{done.stdout}{done.stderr}")


# ---------------------------------------------------------------------------------------------
# The server


def free_port() -> int:
    """A TCP port of 127.0.0.1 nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    log: Path
    command: list[str]


# As `make run`: the workers' heartbeat files in memory (gunicorn touches one on every turn of a
# worker's loop; on a disk-backed directory that is a filesystem write per request).
WORKER_TMP_DIR = ["--worker-tmp-dir", "/dev/shm"] if Path("/dev/shm").is_dir() else []


def gunicorn_command(port: int, *, workers: int, threads: int) -> list[str]:
    """gunicorn on 127.0.0.1:port; more than one thread selects the gthread worker (keep-alive)."""
    bind = f"127.0.0.1:{port}"
    return [sys.executable, "-m", "gunicorn", "--bind", bind, "--workers", str(workers), "--threads", str(threads),
            *WORKER_TMP_DIR, "--graceful-timeout", "10", "wsgi:app"]  # fmt: skip


@contextmanager
def gunicorn(db: Database, *, workers: int, threads: int, log: Path) -> Iterator[Server]:
    """A gunicorn serving wsgi:app on a free port, ready (health 200) on entry, stopped on exit.

    A failure inside the block keeps the server log: its tail joins the error, the whole file is
    copied to bench-results/.
    """
    port = free_port()
    command = gunicorn_command(port, workers=workers, threads=threads)
    with open(log, "wb") as out:
        # Own session: a Ctrl-C in the terminal reaches only us; we stop the server in order below.
        process = subprocess.Popen(
            command, cwd=ROOT, env=app_env(db), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(process, port, log, command)
    try:
        wait_healthy(server)
        yield server
    except BenchError as exc:
        stop(process)
        kept = keep_log(log)
        raise BenchError(f"{exc}\n--- server log, tail (whole log: {kept}) ---\n{tail(log)}") from exc
    finally:
        stop(process)


def keep_log(log: Path) -> Path:
    """Copy a server log to bench-results/ (the temporary directory is about to go)."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    kept = RESULTS_DIR / f"serial-{datetime.now():%Y%m%d-%H%M%S}-gunicorn.log"
    shutil.copyfile(log, kept)
    return kept


def wait_healthy(server: Server, timeout: float = 60.0) -> None:
    """Poll GET /api/health until 200 (BenchError if the server exits or the time runs out)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise BenchError(f"gunicorn exited with {server.process.returncode}:\n{tail(server.log)}")
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        try:
            conn.request("GET", "/api/health")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.1)
    raise BenchError(f"gunicorn not healthy after {timeout:.0f}s:\n{tail(server.log)}")


def stop(process: subprocess.Popen) -> None:
    """SIGTERM to the gunicorn master (it stops its workers), SIGKILL to the group if it hangs."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def tail(path: Path, lines: int = 30) -> str:
    """The last lines of a log file."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# ---------------------------------------------------------------------------------------------
# CPU time from /proc


def proc_stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (index 0 is field 3, `state`)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()


def children_of(ppid: int) -> list[int]:
    """The pids whose parent is `ppid` (gunicorn's workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = proc_stat(int(entry.name))
            if fields is not None and int(fields[1]) == ppid:
                found.append(int(entry.name))
    return found


def cpu_seconds(pid: int) -> float:
    """utime + stime + cutime + cstime of a process and its live children, in seconds."""
    total = 0
    for p in [pid, *children_of(pid)]:
        fields = proc_stat(p)
        if fields is not None:
            total += sum(int(v) for v in fields[11:15])  # fields 14-17 of proc(5)
    return total / CLK_TCK


def postgres_cpu_seconds() -> float | None:
    """utime + stime of every process of this machine named `postgres` (server and backends), in
    seconds; None when there is none (SQLite, or a database on another machine). Backends that exit
    in between take their time with them: the bench keeps its connections, so that is rare.
    """
    total, seen = 0, False
    for entry in Path("/proc").iterdir():
        try:
            named = entry.name.isdigit() and (entry / "comm").read_text().strip() == "postgres"
        except OSError:
            continue
        fields = proc_stat(int(entry.name)) if named else None
        if fields is not None:
            seen = True
            total += sum(int(v) for v in fields[11:13])  # fields 14-15 of proc(5): its own time only
    return total / CLK_TCK if seen else None


# ---------------------------------------------------------------------------------------------
# The HTTP client


class Connection(http.client.HTTPConnection):
    """A keep-alive connection that counts how often it had to (re)connect."""

    def __init__(self, port: int) -> None:
        super().__init__("127.0.0.1", port, timeout=120)
        self.connects = 0

    def connect(self) -> None:
        super().connect()
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.connects += 1


@dataclass
class Recorder:
    """One thread's latencies (seconds) per operation; merged once the threads are done."""

    samples: dict[str, list[float]] = field(default_factory=lambda: {op: [] for op in OPERATIONS})
    completions: int = 0
    cases: int = 0
    stale_retries: int = 0


class Client:
    """One thread's connection to the server; every call asserts its status."""

    def __init__(self, port: int, recorder: Recorder) -> None:
        self.conn = Connection(port)
        self.recorder = recorder

    def call(
        self,
        op: str | None,
        method: str,
        path: str,
        *,
        token: str | None = None,
        body: dict | None = None,
        expect: int = 200,
    ) -> Any:
        """Send one request, time it under `op` (None: not timed), return the decoded JSON body."""
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        payload = None
        if body is not None:
            payload = json.dumps(body, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        status, raw = self._send(method, path, payload, headers)
        elapsed = time.perf_counter() - started
        if status != expect:
            raise BenchError(f"{method} {path}: expected {expect}, got {status}: {raw[:500].decode(errors='replace')}")
        if op is not None:
            self.recorder.samples[op].append(elapsed)
        return json.loads(raw) if raw else None

    def _send(self, method: str, path: str, payload: bytes | None, headers: dict) -> tuple[int, bytes]:
        """One exchange; once more on a fresh connection if a kept-alive one was closed by the server."""
        reused = self.conn.sock is not None
        try:
            self.conn.request(method, path, body=payload, headers=headers)
            response = self.conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            if not reused:
                raise
            self.conn.close()
            self.recorder.stale_retries += 1
            self.conn.request(method, path, body=payload, headers=headers)
            response = self.conn.getresponse()
        return response.status, response.read()

    def close(self) -> None:
        self.conn.close()


def login(port: int) -> dict[str, str]:
    """A bearer token for every user the cases need."""
    client = Client(port, Recorder())
    try:
        return {
            user: client.call(None, "POST", "/api/auth/token", body={"username": user, "password": PASSWORD})["token"]
            for user in USERS
        }
    finally:
        client.close()


# ---------------------------------------------------------------------------------------------
# Driving cases


def application(n: int) -> dict:
    """A POST /api/cases body for case number `n` (every required material provided)."""
    return {
        "matter_code": MATTER,
        "applicant": {"name": f"申请人{n}", "id_number": "330102199001011234", "phone": "13800000000"},
        "materials": [{"name": name, "provided": True} for name in MATERIALS],
        "data": {},
    }


def only_open_task(case: dict, name: str) -> str:
    """The id of the case's single open task, which must be the step `name`."""
    names = [t["name"] for t in case["open_tasks"]]
    if names != [name]:
        raise BenchError(f"case {case['id']}: expected open task [{name!r}], found {names}")
    return case["open_tasks"][0]["id"]


def drive_case(client: Client, tokens: dict[str, str], n: int) -> None:
    """One case from acceptance to the delivered licence: 1 accept, 5 claims, 5 completes.

    The accept answer lists the first open task; each complete answers with the case's open tasks
    and status afterwards, so no extra GET is needed between steps.
    """
    case = client.call("accept", "POST", "/api/cases", token=tokens[CLERK], body=application(n), expect=201)
    progress = {"id": case["id"], "open_tasks": case["open_tasks"]}
    for name, user, data in STEPS:
        task_id = only_open_task(progress, name)
        client.call("claim", "POST", f"/api/tasks/{task_id}/claim", token=tokens[user])
        done = client.call(
            "complete", "POST", f"/api/tasks/{task_id}/complete", token=tokens[user], body={"data": data}
        )
        if done["state"] != "completed":
            raise BenchError(f"task {task_id} answered state {done['state']!r} after complete")
        progress = done["case"]
        client.recorder.completions += 1
    if (progress["status"], progress["result"], progress["open_tasks"]) != ("completed", "approved", []):
        raise BenchError(f"case {case['id']} ended {progress['status']}/{progress['result']}")
    client.recorder.cases += 1


@dataclass
class Phase:
    wall: float
    recorders: list[Recorder]
    connects: int


def run_phase(port: int, tokens: dict[str, str], *, cases: int, concurrency: int, first: int) -> Phase:
    """Drive `cases` cases with `concurrency` threads pulling case numbers from a shared counter."""
    numbers = iter(range(first, first + cases))
    take = threading.Lock()
    failed = threading.Event()
    errors: list[BaseException] = []
    clients = [Client(port, Recorder()) for _ in range(min(concurrency, cases))]

    def worker(client: Client) -> None:
        try:
            while not failed.is_set():
                with take:
                    n = next(numbers, None)
                if n is None:
                    return
                drive_case(client, tokens, n)
        except BaseException as exc:  # handed to the main thread
            errors.append(exc)
            failed.set()

    threads = [threading.Thread(target=worker, args=(c,), daemon=True) for c in clients]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    for c in clients:
        c.close()
    if errors:
        raise errors[0]
    return Phase(wall, [c.recorder for c in clients], sum(c.conn.connects for c in clients))


# ---------------------------------------------------------------------------------------------
# Statistics


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # ceil(n*q/100), at least 1
    return ordered[int(rank) - 1]


def summary_ms(values: list[float]) -> dict[str, float | int]:
    """count, median, p95, mean, min, max of seconds, in milliseconds."""
    if not values:
        return {"count": 0}
    return {
        "count": len(values),
        "median_ms": round(percentile(values, 50) * 1000, 3),
        "p95_ms": round(percentile(values, 95) * 1000, 3),
        "mean_ms": round(sum(values) / len(values) * 1000, 3),
        "min_ms": round(min(values) * 1000, 3),
        "max_ms": round(max(values) * 1000, 3),
    }


def http_results(phase: Phase, server_cpu: float, client_cpu: float, db_cpu: float | None) -> dict[str, Any]:
    """Latency per operation, throughput and CPU per case of a measured phase."""
    merged = {op: [s for r in phase.recorders for s in r.samples[op]] for op in OPERATIONS}
    cases = sum(r.cases for r in phase.recorders)
    completions = sum(r.completions for r in phase.recorders)
    requests = sum(len(v) for v in merged.values())
    return {
        "latency": {op: summary_ms(merged[op]) for op in OPERATIONS},
        "cases": cases,
        "task_completions": completions,
        "requests": requests,
        "wall_s": round(phase.wall, 3),
        "cases_per_s": round(cases / phase.wall, 3),
        "completions_per_s": round(completions / phase.wall, 3),
        "requests_per_s": round(requests / phase.wall, 3),
        "app_server_cpu_ms_per_case": round(server_cpu / cases * 1000, 3),
        "app_server_cpu_utilisation": round(server_cpu / phase.wall, 3),
        "client_cpu_ms_per_case": round(client_cpu / cases * 1000, 3),
        "database_cpu_ms_per_case": None if db_cpu is None else round(db_cpu / cases * 1000, 3),
        "connections_opened": phase.connects,
        "stale_keepalive_retries": sum(r.stale_retries for r in phase.recorders),
    }


# ---------------------------------------------------------------------------------------------
# Storage


PG_STORAGE = """
SELECT (SELECT count(*) FROM cases),
       pg_total_relation_size('cases'), pg_total_relation_size('case_state'),
       pg_total_relation_size('tasks'), pg_total_relation_size('events'),
       (SELECT coalesce(sum(octet_length(state)), 0) FROM case_state),
       (SELECT count(*) FROM events),
       (SELECT coalesce(sum(pg_column_size(e.*)), 0) FROM events e),
       (SELECT coalesce(sum(octet_length(payload::text)), 0) FROM events),
       (SELECT coalesce(sum(pg_column_size(c.*)), 0) FROM cases c)
         + (SELECT coalesce(sum(pg_column_size(s.*)), 0) FROM case_state s)
         + (SELECT coalesce(sum(pg_column_size(t.*)), 0) FROM tasks t)
         + (SELECT coalesce(sum(pg_column_size(e.*)), 0) FROM events e)
"""
TABLES = ("cases", "case_state", "tasks", "events")


def pg_storage(db: Database) -> dict[str, Any]:
    """Bytes per case of cases, case_state, tasks and events on PostgreSQL as the run left them, and
    the raw bytes inside them."""
    import psycopg

    with psycopg.connect(libpq_url(db.url), autocommit=True) as conn:
        n, *sizes, state, n_events, event_rows, payload, live = conn.execute(PG_STORAGE).fetchone()
    per_table = {table: size / n for table, size in zip(TABLES, sizes, strict=True)}
    return {
        "method": "pg_total_relation_size (incl. indexes, TOAST and audit chain), as left by the run "
        "(dead row versions incl., no VACUUM FULL)",
        "cases_in_db": n,
        "bytes_per_case": {**per_table, "total": sum(per_table.values())},
        "raw": {
            "state_bytes_per_case": state / n,
            "events_per_case": n_events / n,
            "event_row_bytes": event_rows / max(n_events, 1),
            "event_payload_bytes": payload / max(n_events, 1),
            "live_row_bytes_per_case": live / n,
        },
    }


def sqlite_storage(db: Database, baseline: int) -> dict[str, Any]:
    """Bytes per case of cases, tasks and events on SQLite (dbstat pages, else file growth)."""
    with sqlite3.connect(db.path) as conn:
        n = conn.execute("SELECT count(*) FROM cases").fetchone()[0]
        state = conn.execute("SELECT coalesce(sum(length(state)), 0) FROM case_state").fetchone()[0]
        n_events, payload = conn.execute(
            "SELECT count(*), coalesce(sum(length(CAST(payload AS BLOB))), 0) FROM events"
        ).fetchone()
        try:
            rows = conn.execute(
                "SELECT m.tbl_name, sum(d.pgsize) FROM dbstat d JOIN sqlite_schema m ON m.name = d.name "
                "WHERE m.tbl_name IN ('cases', 'case_state', 'tasks', 'events') GROUP BY m.tbl_name"
            ).fetchall()
            sizes, method = {name: size / n for name, size in rows}, "dbstat pages (tables and their indexes)"
            sizes["total"] = sum(sizes.values())
        except sqlite3.OperationalError:
            sizes, method = {"total": (files_size(db.path) - baseline) / n}, "database file growth (no dbstat)"
    return {
        "method": method,
        "cases_in_db": n,
        "bytes_per_case": sizes,
        "raw": {
            "state_bytes_per_case": state / n,
            "events_per_case": n_events / n,
            "event_payload_bytes": payload / max(n_events, 1),
        },
        "file_bytes": files_size(db.path),
    }


def files_size(path: Path | None) -> int:
    """Bytes of a SQLite database file and its write-ahead log."""
    if path is None:
        return 0
    return sum(p.stat().st_size for p in (path, path.with_name(path.name + "-wal")) if p.exists())


# ---------------------------------------------------------------------------------------------
# The engine floor


# What the platform tells the engine about a case (app.cases.runtime.facts): its deadlines, as a case
# accepted now would have them (the engine's budget refuses timers beyond ENGINE_TIMER_HORIZON_DAYS).
_NOW = datetime.now().astimezone()
FACTS = {
    "promised_due": (_NOW + timedelta(days=14)).isoformat(),
    "statutory_due": (_NOW + timedelta(days=28)).isoformat(),
    "accepted_at": _NOW.isoformat(),
}


def engine_case(definition: Any, run_cls: Any, times: dict[str, list[float]]) -> None:
    """One case through the engine alone: start + dump, then per step load + complete + dump."""
    clock = time.perf_counter
    t0 = clock()
    run = run_cls.start(definition, {"matter_code": MATTER, "materials_deferred": []}, facts=FACTS)
    state, fmt = run.dump()
    times["start"].append(clock() - t0)
    for name, _, data in STEPS:
        t0 = clock()
        run = run_cls.load(definition, state, fmt, facts=FACTS)
        t1 = clock()
        (task,) = [t for t in run.ready_tasks() if t.spec.name == name]
        run.complete(task.id, data)
        run.ready_tasks()  # what tasks.sync asks after every completion
        t2 = clock()
        state, fmt = run.dump()
        t3 = clock()
        times["load"].append(t1 - t0)
        times["complete"].append(t2 - t1)
        times["dump"].append(t3 - t2)
        times["step"].append(t3 - t0)
        times["state_bytes"].append(len(state))
    if run.result() != "approved":
        raise BenchError(f"engine floor: the case ended {run.result()!r}")


def engine_floor(cases: int, warmup: int = 5) -> dict[str, Any]:
    """The engine's own cost for the bench's steps, in this process (no HTTP, no database)."""
    from app.deadlines import functions
    from app.engine.parser import load_definition
    from app.engine.runtime import Run

    functions.register()  # the vocabulary create_app registers (the review's timer reads promised_due())
    started = time.perf_counter()
    definition = load_definition(BPMN_FILE.read_bytes(), filename=BPMN_FILE.name)
    parse = time.perf_counter() - started
    keys = ("start", "load", "complete", "dump", "step", "state_bytes")
    for _ in range(warmup):
        engine_case(definition, Run, {k: [] for k in keys})
    times: dict[str, list[float]] = {k: [] for k in keys}
    started = time.perf_counter()
    for _ in range(cases):
        engine_case(definition, Run, times)
    per_case = (time.perf_counter() - started) / cases
    return {
        "cases": cases,
        "parse_ms": round(parse * 1000, 3),
        "latency": {k: summary_ms(times[k]) for k in ("start", "load", "complete", "dump", "step")},
        "per_case_ms": round(per_case * 1000, 3),
        "state_bytes_after_last_step": times["state_bytes"][-1],
        "state_bytes_max": max(times["state_bytes"]),
    }


# ---------------------------------------------------------------------------------------------
# Report


def kib(value: float) -> str:
    """Bytes as KiB with one decimal."""
    return f"{value / 1024:.1f} KiB"


def format_http(r: dict[str, Any], meta: dict[str, Any]) -> list[str]:
    """The HTTP half of the table."""
    lines = [
        f"OneWindow serial bench: {MATTER}, accept + {len(STEPS)} steps (claim, complete)",
        f"server   gunicorn {meta['workers']} workers x {meta['threads']} threads, {meta['database']}, "
        f"TOKEN_CACHE_SECONDS={meta['token_cache_seconds']}, {meta['cpus']} CPUs (client, server and DB share them)",
        f"load     {r['cases']} cases measured (+{meta['warmup']} warmup), concurrency {meta['concurrency']}, "
        f"{r['connections_opened']} connections opened, {r['stale_keepalive_retries']} stale keep-alive retries",
        "",
        f"{'operation':<12}{'count':>7}{'median ms':>12}{'p95 ms':>10}{'max ms':>10}",
    ]
    for op, s in r["latency"].items():
        lines.append(f"{op:<12}{s['count']:>7}{s['median_ms']:>12.2f}{s['p95_ms']:>10.2f}{s['max_ms']:>10.2f}")
    lines += [
        "",
        f"throughput        {r['cases_per_s']:.2f} cases/s, {r['completions_per_s']:.1f} task completions/s, "
        f"{r['requests_per_s']:.0f} requests/s (wall {r['wall_s']:.1f} s)",
        f"app-server CPU    {r['app_server_cpu_ms_per_case']:.1f} ms/case (gunicorn master+workers only, "
        f"database excluded; {r['app_server_cpu_utilisation']:.2f} CPUs busy)",
        f"bench client CPU  {r['client_cpu_ms_per_case']:.1f} ms/case",
    ]
    if r["database_cpu_ms_per_case"] is not None:
        db_cpu = r["database_cpu_ms_per_case"]
        lines.append(f"database CPU      {db_cpu:.1f} ms/case (this machine's postgres processes)")
    return lines


def format_storage(s: dict[str, Any], kind: str) -> list[str]:
    """The storage lines."""
    b = s["bytes_per_case"]
    parts = ", ".join(f"{k} {kib(v)}" for k, v in b.items() if k != "total")
    label = "as left, incl. indexes, dead rows and audit chain" if kind == "postgresql" else s["method"]
    raw = s["raw"]
    lines = [
        f"storage/case      {kib(b['total'])} ({label}; {parts}; over {s['cases_in_db']} cases)",
        f"  raw             workflow state {raw['state_bytes_per_case']:.0f} B, "
        f"{raw['events_per_case']:.0f} events x {raw['event_payload_bytes']:.0f} B payload",
    ]
    if "event_row_bytes" in raw:
        lines[-1] += f" ({raw['event_row_bytes']:.0f} B per event row)"
    if "live_row_bytes_per_case" in raw:
        lines.append(
            f"  live rows       {kib(raw['live_row_bytes_per_case'])}/case in cases+tasks+events "
            "(the rest: indexes, dead row versions, free space)"
        )
    return lines


def format_engine(e: dict[str, Any], ratio: float | None) -> list[str]:
    """The engine floor and the ratio (at concurrency 1 only)."""
    lat = e["latency"]
    lines = [
        f"engine floor      in-process, no HTTP/DB, {e['cases']} cases (parse once {e['parse_ms']:.1f} ms)",
        f"  start+dump      median {lat['start']['median_ms']:.2f} ms",
        f"  step            median {lat['step']['median_ms']:.2f} ms (load {lat['load']['median_ms']:.2f} + "
        f"complete {lat['complete']['median_ms']:.2f} + dump {lat['dump']['median_ms']:.2f}), "
        f"p95 {lat['step']['p95_ms']:.2f} ms",
        f"  per case        {e['per_case_ms']:.2f} ms; "
        f"state {e['state_bytes_after_last_step']} B compressed at the end",
    ]
    if ratio is None:
        return lines + ["RATIO             not reported: it means something at --concurrency 1 only (no queueing)"]
    return lines + [f"RATIO             HTTP complete median / engine step median = {ratio:.1f}x (concurrency 1)"]


def write_json(results: dict[str, Any], path: Path | None) -> Path:
    """Write the results; the default path is bench-results/serial-<timestamp>.json."""
    if path is None:
        path = RESULTS_DIR / f"serial-{datetime.now():%Y%m%d-%H%M%S}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n")
    return path


# ---------------------------------------------------------------------------------------------
# Main


def measure_http(db: Database, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    """Server up, log in, warm up, measured phase with CPU readings, server down."""
    with gunicorn(db, workers=args.workers, threads=args.threads, log=tmp / "gunicorn.log") as server:
        tokens = login(server.port)
        if args.warmup:
            run_phase(server.port, tokens, cases=args.warmup, concurrency=args.concurrency, first=0)
        baseline = files_size(db.path)
        db_before = postgres_cpu_seconds() if db.kind == "postgresql" else None
        server_before, client_before = cpu_seconds(server.process.pid), time.process_time()
        phase = run_phase(server.port, tokens, cases=args.cases, concurrency=args.concurrency, first=args.warmup)
        server_cpu = cpu_seconds(server.process.pid) - server_before
        client_cpu = time.process_time() - client_before
        db_after = postgres_cpu_seconds() if db_before is not None else None
        db_cpu = None if db_after is None else db_after - db_before
        driven = args.warmup + args.cases
        if driven < args.storage_cases:  # unmeasured: the database fills up to the storage point
            run_phase(server.port, tokens, cases=args.storage_cases - driven, concurrency=4, first=driven)
    results = http_results(phase, server_cpu, client_cpu, db_cpu)
    results["storage"] = pg_storage(db) if db.kind == "postgresql" else sqlite_storage(db, baseline)
    return results


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every phase; the results as written to JSON."""
    with tempfile.TemporaryDirectory(prefix="onewindow-bench-") as tmp:
        db = choose_database(Path(tmp))
        with exclusive(db):
            prepare_database(db, fresh=args.fresh)
            http = measure_http(db, args, Path(tmp))
    engine = engine_floor(args.engine_cases)
    meta = {
        "database": db.kind,
        "workers": args.workers,
        "threads": args.threads,
        "concurrency": args.concurrency,
        "warmup": args.warmup,
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "token_cache_seconds": os.environ.get("TOKEN_CACHE_SECONDS", "30 (default)"),
        "at": datetime.now().astimezone().isoformat(timespec="seconds"),
    }
    ratio = None
    if args.concurrency == 1:  # with queueing, the HTTP median is no longer the platform's own cost
        ratio = round(http["latency"]["complete"]["median_ms"] / engine["latency"]["step"]["median_ms"], 2)
    return {"meta": meta, "http": http, "engine": engine, "ratio_complete_to_engine_step": ratio}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        results = run(args)
    except BenchError as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench interrupted; server stopped", file=sys.stderr)
        return 130
    http, meta = results["http"], results["meta"]
    lines = format_http(http, meta) + format_storage(http["storage"], meta["database"])
    lines += format_engine(results["engine"], results["ratio_complete_to_engine_step"])
    path = write_json(results, args.json)
    print("\n".join(lines + [f"json              {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
