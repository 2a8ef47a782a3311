"""create_app itself: configuration, health, the OpenAPI document, problem+json for unknown paths."""

import os
import subprocess
import sys
from pathlib import Path

from app import create_app
from config import TestConfig


def test_create_app_reads_config_and_overrides():
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI="sqlite://", BPMN_MAX_BYTES=123)
    assert app.testing
    assert app.config["BPMN_MAX_BYTES"] == 123
    assert "scheduler" not in app.extensions or not app.config["SCHEDULER_ENABLED"]


def test_health_reports_database(client):
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"


def test_openapi_document_lists_the_contract(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    paths = response.get_json()["paths"]
    for path in (
        "/api/cases",
        "/api/cases/{case_id}",
        "/api/tasks/{task_id}/claim",
        "/api/tasks/{task_id}/complete",
        "/api/auth/token",
        "/api/processes",
        "/api/matters/{code}",
        "/api/cases/{case_id}/events",
    ):
        assert path in paths, path


def test_unknown_path_is_problem_json(client):
    response = client.get("/api/nothing-here")
    assert response.status_code in (401, 404)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == response.status_code and body["title"] and body["detail"]


def test_chinese_is_sent_as_is(client):
    response = client.post("/api/auth/token", json={"username": "nobody", "password": "x"})
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)


def test_the_served_app_freezes_its_startup_objects(tmp_path):
    """wsgi.py (what gunicorn loads) leaves what startup built out of the collector's passes."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}", "SCHEDULER_ENABLED": "0"}
    script = "import gc, wsgi; print(gc.get_freeze_count(), len(gc.get_objects()))"
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run([sys.executable, "-c", script], cwd=root, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    frozen, tracked = map(int, done.stdout.split())
    assert frozen > 50_000  # the parsed processes, mappers, schemas...
    assert tracked < frozen / 10  # ...and next to nothing left for the collector to walk
