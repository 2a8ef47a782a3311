"""Replay benchmark: how long re-running a case from its events takes (GET /api/cases/{id}/replay).

What is measured, and how
-------------------------
* Setup (not measured): the app in this process on a fresh SQLite file in a temporary directory
  (or on DATABASE_URL when set: migrations and the demo seed are idempotent, the bench only adds two
  cases); `flask db upgrade`, the demo center and bpmn/ as the test harness builds them. Two cases
  of the serial food business license (SC-001) are driven through the HTTP API (test client):
  - "serial": the approved path, 5 steps (accept + claim/complete x 5): 17 events;
  - "50 events": the same path, but the review is claimed and given back 16 times and delegated
    once before it is completed: 50 events.
* Measured, per case, `--runs` times after one unmeasured warm-up (the parsed definition is then
  in the per-version cache, as in a running server):
  - replay: `app.audit.replay.replay_case` (one query for the events, the version row, the replay
    itself, and the comparison with the stored state, which loads it), in a fresh session each run;
  - http: GET /api/cases/{id}/replay as the auditor (adds auth, the visibility check, JSON);
  - verify: GET /api/audit/verify?case_id=... (the chain of that case recomputed).
  Median, p90 and min in milliseconds.
* With --verify-cases N: N more cases whose chains copy the serial case's events (new case ids,
  hashes recomputed; inserted directly, they are not replayable) and one full
  GET /api/audit/verify, timed once: events per second; then a second verify for the peak memory
  Python allocated during it (tracemalloc), which stays flat because rows are streamed in batches.

Run: `.venv/bin/python -m benchmarks.replay [--runs 30]` (DATABASE_URL=postgresql://... for PostgreSQL).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "demo123"
MATERIALS = ["食品经营许可申请书", "营业执照复印件", "法定代表人身份证明", "食品安全管理制度文本"]
STEPS = [
    ("market_reviewer1", {"opinion": "材料齐全，符合法定形式"}),
    ("market_chief", {"opinion": "同意审查意见"}),
    ("market_leader", {"approved": True, "opinion": "同意"}),
    ("market_reviewer1", {"certificate_no": "JY13301020000001"}),
    ("window1", {"method": "window"}),
]


class Client:
    """Logged-in users of the in-process API."""

    def __init__(self, app) -> None:
        self.client = app.test_client()
        self.headers: dict[str, dict] = {}

    def call(self, user: str, method: str, path: str, body: dict | None = None, status: int = 200) -> dict:
        """Send a request as `user`; the status must be `status`."""
        if user not in self.headers:
            token = self.client.post("/api/auth/token", json={"username": user, "password": PASSWORD})
            self.headers[user] = {"Authorization": f"Bearer {token.get_json()['token']}"}
        response = self.client.open(path, method=method, json=body, headers=self.headers[user])
        if response.status_code != status:
            raise SystemExit(f"{method} {path} as {user}: {response.status_code} {response.get_data(as_text=True)}")
        return response.get_json()


def build(app) -> None:
    """Schema, demo center, process library (as the test harness does)."""
    from flask_migrate import upgrade

    from app.extensions import db
    from app.identity import demo
    from app.matters import service as matters
    from app.processes import service as processes

    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        demo.seed()
        processes.sync(directory=app.config["BPMN_DIR"])
        matters.load_catalog(path=Path(app.config["BPMN_DIR"]) / "catalog.toml")
        db.session.commit()


def drive(api: Client, *, give_backs: int = 0, delegate: bool = False) -> str:
    """One approved SC-001 case; the review claimed and given back `give_backs` times first."""
    body = {
        "matter_code": "SC-001",
        "applicant": {"name": "张三", "id_number": "330102199001011234"},
        "materials": [{"name": n, "provided": True} for n in MATERIALS],
        "data": {},
    }
    case = api.call("window1", "POST", "/api/cases", body, status=201)
    for user, data in STEPS:
        task = api.call("auditor", "GET", f"/api/cases/{case['id']}")["open_tasks"][0]
        if task["name"] == "review":
            for _ in range(give_backs):
                api.call(user, "POST", f"/api/tasks/{task['id']}/claim")
                api.call(user, "POST", f"/api/tasks/{task['id']}/unclaim")
        api.call(user, "POST", f"/api/tasks/{task['id']}/claim")
        if task["name"] == "review" and delegate:
            api.call(user, "POST", f"/api/tasks/{task['id']}/delegate", {"to": "market_reviewer2", "reason": "AB岗"})
            user = "market_reviewer2"
        api.call(user, "POST", f"/api/tasks/{task['id']}/complete", {"data": data})
    return case["id"]


def timed(fn: Callable[[], object], runs: int) -> dict:
    """Median, p90 and min of `runs` calls after one warm-up, in milliseconds."""
    fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {
        "median_ms": round(statistics.median(samples), 2),
        "p90_ms": round(samples[int(0.9 * (len(samples) - 1))], 2),
        "min_ms": round(samples[0], 2),
    }


def measure(app, api: Client, case_id: str, runs: int) -> dict:
    """Replay (service), replay (HTTP) and verify (HTTP) timings of one case."""
    from app.audit.replay import replay_case
    from app.cases.service import get
    from app.extensions import db

    def replay_in_service() -> None:
        with app.app_context():
            result = replay_case(case=get(case_id=int(case_id)))
            assert result.consistent, result
            db.session.remove()

    events = api.call("auditor", "GET", f"/api/cases/{case_id}/events")["total"]
    report = api.call("auditor", "GET", f"/api/cases/{case_id}/replay")
    assert report["consistent"], report
    return {
        "events": events,
        "steps": report["steps"],
        "replay": timed(replay_in_service, runs),
        "http_replay": timed(lambda: api.call("auditor", "GET", f"/api/cases/{case_id}/replay"), runs),
        "http_verify": timed(lambda: api.call("auditor", "GET", f"/api/audit/verify?case_id={case_id}"), runs),
    }


def clone_chains(app, template_id: str, count: int) -> None:
    """`count` cases carrying copies of one case's chain (hashes recomputed for each new case id)."""
    from sqlalchemy import insert, select, update

    from app.audit.models import Event
    from app.audit.service import GENESIS, canonical, chain_hash
    from app.cases.models import Case
    from app.extensions import db

    with app.app_context():
        template = db.session.get(Case, int(template_id))
        columns = ("matter_code", "department", "process_version_id", "status", "applicant", "materials")
        fields = {c: getattr(template, c) for c in columns}
        fields.update(accepted_at=template.accepted_at, accepted_by=template.accepted_by)
        events = db.session.execute(
            select(Event.seq, Event.at, Event.actor, Event.type, Event.task_id, Event.payload)
            .where(Event.case_id == template.id)
            .order_by(Event.seq)
        ).all()
        for start in range(0, count, 500):
            ids = db.session.scalars(insert(Case).returning(Case.id), [fields] * min(500, count - start)).all()
            rows = []
            for case_id in ids:
                prev = GENESIS
                for e in events:
                    prev = chain_hash(prev, canonical(case_id=case_id, **e._asdict()))
                    rows.append({"case_id": case_id, **e._asdict(), "hash": prev})
                db.session.execute(update(Case).where(Case.id == case_id).values(event_seq=len(events), last_hash=prev))
            db.session.execute(insert(Event), rows)
            db.session.commit()


def verify_at_scale(app, api: Client, template_id: str, count: int) -> dict:
    """One full verify over every chain, timed, with Python's peak allocation during it."""
    import tracemalloc

    clone_chains(app, template_id, count)
    start = time.perf_counter()
    report = api.call("auditor", "GET", "/api/audit/verify")
    seconds = time.perf_counter() - start
    tracemalloc.start()  # a second pass for memory only (tracing slows Python down)
    api.call("auditor", "GET", "/api/audit/verify")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert report["intact"], report["first_broken"]
    return {
        "cases": report["cases_checked"],
        "events": report["events_checked"],
        "seconds": round(seconds, 2),
        "events_per_second": round(report["events_checked"] / seconds),
        "peak_python_mb": round(peak / 1e6, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="measured runs per figure (>= 20 recommended)")
    parser.add_argument("--verify-cases", type=int, default=0, help="also time one verify over N more chains")
    args = parser.parse_args(argv)

    from app import create_app
    from config import Config

    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("DATABASE_URL")
        url = url.replace("postgresql://", "postgresql+psycopg://", 1) if url else f"sqlite:///{tmp}/bench.db"
        app = create_app(Config, SQLALCHEMY_DATABASE_URI=url, SCHEDULER_ENABLED=False, TOKEN_CACHE_SECONDS=30.0)
        build(app)
        api = Client(app)
        cases = {"serial": drive(api), "50 events": drive(api, give_backs=16, delegate=True)}
        results = {name: measure(app, api, case_id, args.runs) for name, case_id in cases.items()}
        if args.verify_cases:
            results["verify"] = verify_at_scale(app, api, cases["serial"], args.verify_cases)
        with app.app_context():
            from app.extensions import db

            db.engine.dispose()
    print(f"database: {url.split('://')[0]}   runs: {args.runs}")
    header = ("case", "events", "steps", "replay median/p90", "HTTP replay", "HTTP verify")
    print("{:<10} {:>6} {:>5}  {:>18}  {:>12}  {:>12}".format(*header))
    for name, r in results.items():
        if name == "verify":
            print(
                f"verify: {r['cases']} cases, {r['events']} events in {r['seconds']} s "
                f"({r['events_per_second']}/s), peak Python memory {r['peak_python_mb']} MB"
            )
            continue
        print(
            f"{name:<10} {r['events']:>6} {r['steps']:>5}  "
            f"{r['replay']['median_ms']:>8.2f} / {r['replay']['p90_ms']:<7.2f}  "
            f"{r['http_replay']['median_ms']:>9.2f} ms  {r['http_verify']['median_ms']:>9.2f} ms"
        )
    print(json.dumps(results, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
