"""schemathesis against a real server: no server error and no schema violation (issue 8, item 6).

A gunicorn server on a free loopback port, on its own database (a temporary SQLite file, or a
`fuzz` schema beside the suite's when TEST_DATABASE_URL is PostgreSQL), migrated and seeded as
`make run` does, with a few cases accepted. schemathesis runs every phase with `--checks all`,
authenticated with a demo token (FUZZ_USER, default admin), bounded by FUZZ_MAX_EXAMPLES per operation and FUZZ_MAX_TIME
seconds (`make fuzz` raises both). Settings: tests/test_fuzz.toml; hooks: tests/fuzz_hooks.py.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
import requests

from tests.factories import application

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CONFIG = Path(__file__).with_suffix(".toml")
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", 25))
MAX_TIME = int(os.environ.get("FUZZ_MAX_TIME", 60))
USER = os.environ.get("FUZZ_USER", "admin")  # whose demo token (admin holds every role, but no group)
SCHEMA = "fuzz"
WORKER_TMP_DIR = ["--worker-tmp-dir", "/dev/shm"] if Path("/dev/shm").is_dir() else []  # as `make run`


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database(tmp_path: Path) -> str:
    """The server's own database URL (a fresh `fuzz` schema on PostgreSQL)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_path / 'fuzz.db'}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        conn.execute(f"CREATE SCHEMA {SCHEMA}")
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{SCHEMA}"


def _drop_schema() -> None:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")


@pytest.fixture
def server(tmp_path):
    env = {**os.environ, "DATABASE_URL": _database(tmp_path), "FLASK_APP": "wsgi", "SCHEDULER_ENABLED": "0"}
    env.pop("TEST_DATABASE_URL", None)
    for command in (["db", "upgrade"], ["calendar", "seed"], ["demo", "seed"], ["processes", "sync"]):
        subprocess.run([BIN / "flask", *command], cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)
    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    # As `make run` serves it, but with no request-line limit: past gunicorn's 4094 bytes gunicorn itself
    # answers an HTML 400 before the application sees the request (outside the API's contract).
    gunicorn = [BIN / "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4"]
    gunicorn += ["--limit-request-line", "0", *WORKER_TMP_DIR, "wsgi:app"]
    process = subprocess.Popen(gunicorn, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(base, process)
        yield base, tmp_path / "server.log"
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
        _drop_schema()


def _wait_for(base: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited"
        try:
            if requests.get(f"{base}/api/health", timeout=5).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or a worker still booting
            pass
        time.sleep(0.3)
    raise AssertionError("the server did not answer /api/health within 60 s")


def _token(base: str, username: str) -> str:
    response = requests.post(f"{base}/api/auth/token", json={"username": username, "password": "demo123"}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["token"]


def _seed_cases(base: str) -> None:
    """A few cases (ids 1..3) with open tasks, so operations on ids reach real rows."""
    headers = {"Authorization": f"Bearer {_token(base, 'window1')}"}
    for _ in range(3):
        response = requests.post(f"{base}/api/cases", json=application(), headers=headers, timeout=30)
        assert response.status_code == 201, response.text


def test_schemathesis_finds_no_server_error_and_no_schema_violation(server, tmp_path):
    base, server_log = server
    _seed_cases(base)
    reports = tmp_path / "reports"
    command = [
        BIN / "schemathesis",
        "--config-file",
        CONFIG,
        "run",
        f"{base}/api/openapi.json",
        "--checks",
        "all",
        "--header",
        f"Authorization: Bearer {_token(base, USER)}",
        # Logging out revokes the fuzzer's own token: every later request would be a 401.
        "--exclude-path",
        "/api/auth/logout",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--max-time",
        str(MAX_TIME),
        # One worker: with two, hypothesis's ast.parse (describing filters) hit CPython 3.11.7's
        # spurious "SystemError: AST constructor recursion depth mismatch" (gh-106905) in the tool.
        "--workers",
        "1",
        "--report",
        "json",
        "--report-dir",
        reports,
    ]
    started = time.monotonic()
    hooks = {"SCHEMATHESIS_HOOKS": "tests.fuzz_hooks", "PYTHONPATH": str(ROOT)}
    env = {**os.environ, **hooks}
    run = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=MAX_TIME + 240)
    elapsed = time.monotonic() - started
    (tmp_path / "schemathesis.log").write_text(run.stdout + run.stderr)
    output = run.stdout[-6000:] + run.stderr[-2000:]
    report = json.loads(next(reports.glob("*.json")).read_text())
    print(f"schemathesis: {report['test_cases']} in {elapsed:.0f} s")
    # Every operation is tested but logout, excluded above (it would revoke the fuzzer's own token).
    assert report["operations"]["tested"] == report["operations"]["total"] - 1 >= 35, output
    assert report["test_cases"]["generated"] >= 500, output
    assert report["failures"] == [] and report["errors"] == [], output
    assert run.returncode == 0, output
    assert "unhandled error" not in server_log.read_text(), server_log.read_text()[-4000:]
