"""Nothing a designer draws or a clerk sends can stall the platform: the hostile-design corpus
(tests/processes/hostile.py) is refused at upload, or stopped by the engine's budget when it runs,
in a dry run, in a case step and in a scheduler pass, each time naming the element and changing
nothing but the incident it records."""

from __future__ import annotations

import resource
import time

import pytest

from app import clock
from app.extensions import db
from app.matters.models import Matter
from tests.processes.fixtures import entries, upload
from tests.processes.hostile import RUN_TIME, RUN_TIME_CONDITIONS, TIMER_TRAP, UPLOAD_REFUSED, Design
from tests.timekeeping import bj, counts, events, run_pass, show

STOP_SECONDS = 3.0  # a hostile run must be stopped well within this


@pytest.mark.parametrize("hostile", UPLOAD_REFUSED, ids=lambda d: d.name)
def test_upload_refuses_the_design_naming_the_element(as_user, app, hostile: Design):
    before = counts(app)
    started = time.monotonic()
    response = upload(as_user("designer"), hostile.xml)
    assert time.monotonic() - started < STOP_SECONDS
    assert response.status_code == 422, response.get_json()
    errors = entries(response.get_json()["report"], severity="error")
    assert [e for e in errors if e["element"] == hostile.element], errors
    assert counts(app) == before


def _publish(as_user, hostile: Design) -> dict:
    designer = as_user("designer")
    response = upload(designer, hostile.xml)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    published = designer.post(f"/api/processes/{body['key']}/versions/{body['version']}/publish")
    assert published.status_code == 200, published.get_json()
    return body


def _simulate(as_user, uploaded: dict, data: dict):
    return as_user("designer").post(
        f"/api/processes/{uploaded['key']}/versions/{uploaded['version']}/simulate",
        json={"data": data, "tasks": {"review": {"opinion": "ok"}}},
    )


@pytest.mark.parametrize("hostile", RUN_TIME + RUN_TIME_CONDITIONS, ids=lambda d: d.name)
def test_dry_run_stops_within_the_budget_naming_the_element(as_user, app, hostile: Design):
    uploaded = _publish(as_user, hostile)
    before = counts(app)
    started = time.monotonic()
    response = _simulate(as_user, uploaded, hostile.data)
    assert time.monotonic() - started < STOP_SECONDS
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["element"] == hostile.element
    assert counts(app) == before


def _matter_for(app, key: str) -> str:
    """A matter of the market department whose process is `key` (the catalog API is another issue's)."""
    with app.app_context():
        db.session.add(
            Matter(
                code="HX-001",
                name="测试事项",
                department="market",
                kind="promised",
                mode="serial",
                statutory_days=20,
                promised_days=10,
                process_key=key,
                materials=[],
                process_data={},
            )
        )
        db.session.commit()
        db.session.remove()
    return "HX-001"


def _application(code: str, data: dict) -> dict:
    return {"matter_code": code, "applicant": {"name": "张三", "id_number": "330102199001011234"}, "data": data}


@pytest.mark.parametrize("hostile", [d for d in RUN_TIME if d.name != "fan_out_over_case_data"], ids=lambda d: d.name)
def test_acceptance_that_would_start_a_hostile_timer_is_409_and_stores_nothing(as_user, app, hostile: Design):
    uploaded = _publish(as_user, hostile)
    code = _matter_for(app, uploaded["key"])
    before = counts(app)
    response = as_user("window1").post("/api/cases", json=_application(code, hostile.data))
    assert response.status_code == 409, response.get_json()
    assert response.get_json()["element"] == hostile.element
    assert counts(app) == before


def test_a_fan_out_list_of_case_data_is_refused_at_acceptance(as_user, app):
    hostile = next(d for d in RUN_TIME if d.name == "fan_out_over_case_data")
    code = _matter_for(app, _publish(as_user, hostile)["key"])
    before = counts(app)
    response = as_user("window1").post("/api/cases", json=_application(code, hostile.data))
    assert response.status_code == 422, response.get_json()
    assert "items" in response.get_json()["errors"]["data"]
    assert counts(app) == before


@pytest.mark.parametrize("hostile", RUN_TIME_CONDITIONS, ids=lambda d: d.name)
def test_a_step_that_exceeds_the_budget_is_an_incident_and_changes_nothing_else(as_user, app, hostile: Design):
    code = _matter_for(app, _publish(as_user, hostile)["key"])
    case = as_user("window1").post("/api/cases", json=_application(code, hostile.data)).get_json()
    reviewer = as_user("market_reviewer1")
    task = case["open_tasks"][0]
    assert reviewer.post(f"/api/tasks/{task['id']}/claim").status_code == 200
    before_events = events(as_user, case["id"])
    for _attempt in range(2):
        started = time.monotonic()
        response = reviewer.post(f"/api/tasks/{task['id']}/complete", json={"data": {"opinion": "ok"}})
        assert time.monotonic() - started < STOP_SECONDS
        assert response.status_code == 409, response.get_json()
        assert response.get_json()["element"] == hostile.element
    # The task is still claimed, the case still waits on it, and exactly one incident was recorded.
    after = show(as_user, case["id"])
    assert [(t["id"], t["state"], t["assignee"]) for t in after["open_tasks"]] == [
        (task["id"], "claimed", "market_reviewer1")
    ]
    assert after["status"] == "in_progress" and after["incident"]
    added = events(as_user, case["id"])[len(before_events) :]
    assert [(e["type"], e["payload"]["element"]) for e in added] == [("case_incident", hostile.element)]
    assert as_user("auditor").get("/api/audit/verify").get_json()["intact"] is True


def test_a_timer_that_exceeds_the_budget_in_a_scheduler_pass_is_an_incident_and_the_pass_goes_on(as_user, app):
    from tests.factories import accept

    code = _matter_for(app, _publish(as_user, TIMER_TRAP)["key"])
    clock.freeze(bj(2026, 11, 2, 10))
    trapped = as_user("window1").post("/api/cases", json=_application(code, TIMER_TRAP.data)).get_json()
    healthy = [accept(as_user)["id"] for _ in range(3)]  # food licenses: a timer at the promised due date
    clock.freeze(bj(2026, 12, 2, 9))  # past every deadline and every timer
    result = run_pass(app)
    # Every case is past its deadlines (the trapped one too: its warnings are raised as usual).
    assert result == {"timers_fired": 3, "case_warnings": 4, "task_warnings": 3, "absences_applied": 0}
    for case_id in healthy:
        assert events(as_user, case_id, "timer_fired") and events(as_user, case_id, "warning_changed")
    incidents = events(as_user, trapped["id"], "case_incident")
    assert [e["payload"]["element"] for e in incidents] == [TIMER_TRAP.element]
    assert not events(as_user, trapped["id"], "timer_fired")
    assert show(as_user, trapped["id"])["open_tasks"][0]["state"] == "ready"  # left as it was
    # The lease was released, and the next pass neither retries the trap nor records it again.
    assert run_pass(app) == {"timers_fired": 0, "case_warnings": 0, "task_warnings": 0, "absences_applied": 0}
    assert len(events(as_user, trapped["id"], "case_incident")) == 1


def test_eight_hostile_dry_runs_at_once_leave_the_server_answering(as_user, app):
    """Over real HTTP: eight dry runs of run-time-hostile designs at once all stop within the budget,
    while /api/health keeps answering promptly and the server's memory stays put."""
    from concurrent.futures import ThreadPoolExecutor

    import requests

    from tests.live import serving, token

    hostile = RUN_TIME + RUN_TIME_CONDITIONS
    uploaded = [(_publish(as_user, d), d) for d in hostile]
    with serving(app) as base:
        headers = token(base, "designer")

        def dry_run(item):
            body, design_ = item
            started = time.monotonic()
            response = requests.post(
                f"{base}/api/processes/{body['key']}/versions/{body['version']}/simulate",
                json={"data": design_.data, "tasks": {"review": {"opinion": "ok"}}},
                headers=headers,
                timeout=30,
            )
            return response.status_code, response.json().get("element"), design_.element, time.monotonic() - started

        rss_before = _rss()
        with ThreadPoolExecutor(max_workers=8) as pool:
            runs = pool.map(dry_run, uploaded)
            health = []
            for _ in range(10):
                started = time.monotonic()
                assert requests.get(f"{base}/api/health", timeout=5).status_code == 200
                health.append(time.monotonic() - started)
            results = list(runs)
        assert [(status, element) for status, element, _, _ in results] == [(422, d.element) for _, d in uploaded]
        assert max(seconds for *_, seconds in results) < 10
        assert max(health) < 1.0, health
        assert _rss() - rss_before < 200 * 1024 * 1024


def _rss() -> int:
    """This process's resident memory in bytes."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


def test_processes_check_published_reports_a_version_published_before_the_rules(app, runner):
    """A version stored before today's rules (written here straight to the table, as an older release
    would have accepted it) is reported by `flask processes check --published`, exit status 1."""
    import hashlib

    from app.processes.models import ProcessVersion

    stale = next(d for d in UPLOAD_REFUSED if d.name == "cycle_unbounded_zero")
    with app.app_context():
        db.session.add(
            ProcessVersion(
                key="hostile_cycle_unbounded_zero",
                version=1,
                name="恶意流程",
                hash=hashlib.sha256(stale.xml).hexdigest(),
                xml=stale.xml,
                state="published",
                report=[],
                created_at=clock.now(),
                published_at=clock.now(),
            )
        )
        db.session.commit()
        db.session.remove()
    result = runner.invoke(args=["processes", "check", "--published"])
    assert result.exit_code == 1, result.output
    assert "hostile_cycle_unbounded_zero v1 (published): refused" in result.output
    assert "[escalate]" in result.output
    # Every shipped process still passes.
    assert "food_business_license v1 (published): ok" in result.output
