"""No work repeated per request that could be done once: the hot path makes no marshmallow schema
(its argument schemas, its response schemas and a task's form schema are made once per process), and
an API request opens no cookie session (app/__init__.py)."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from flask.sessions import SecureCookieSessionInterface
from marshmallow import Schema, fields
from sqlalchemy import select

from app import clock
from app.extensions import db
from app.identity import service as identity
from app.identity.models import User
from app.tasks import service as tasks
from app.tasks.schemas import TaskListSchema, TaskSchema
from tests.factories import accept, work

DATA = {"opinion": "材料齐全", "needs_inspection": False}


def test_accept_claim_and_complete_make_no_schema_once_warm(as_user, monkeypatch):
    work(as_user, accept(as_user)["open_tasks"][0], DATA, user="market_reviewer1")  # every schema made once
    made: list[str] = []
    original = Schema.__init__

    def counting(schema, *args, **kwargs):
        made.append(type(schema).__name__)
        original(schema, *args, **kwargs)

    monkeypatch.setattr(Schema, "__init__", counting)
    case = accept(as_user)
    done = work(as_user, case["open_tasks"][0], DATA, user="market_reviewer1")
    assert done["state"] == "completed" and done["case"]["open_tasks"][0]["name"] == "audit"
    assert made == [], made


def test_an_api_request_has_no_session(client, monkeypatch):
    """The API authenticates by bearer token: a request to /api neither verifies the pages' session
    cookie (no signing serializer made) nor is authenticated by it, and its answer sets no cookie."""
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    logged_in = client.post("/login", data={"username": "window1", "password": "demo123", "csrf_token": token})
    assert logged_in.status_code == 302 and client.get("/accept").status_code == 200  # a live page session
    verified: list[object] = []
    original = SecureCookieSessionInterface.get_signing_serializer
    monkeypatch.setattr(
        SecureCookieSessionInterface,
        "get_signing_serializer",
        lambda interface, app: verified.append(app) or original(interface, app),
    )
    anonymous = client.get("/api/me")  # the session cookie is sent along, and ignored
    assert anonymous.status_code == 401 and "Set-Cookie" not in anonymous.headers
    login = client.post("/api/auth/token", json={"username": "window1", "password": "demo123"})
    me = client.get("/api/me", headers={"Authorization": f"Bearer {login.get_json()['token']}"})
    assert me.status_code == 200 and "Set-Cookie" not in me.headers and "Set-Cookie" not in login.headers
    assert verified == []
    assert client.get("/accept").status_code == 200 and verified  # the pages still read theirs


def test_an_inbox_page_is_dumped_exactly_as_its_schema_would(app, as_user):
    """FlatRows (app/schemas.py) gives the inbox the output of List(Nested(TaskSchema)), key for key and
    in order: rows with and without `on_behalf_of` (AB岗), due times set and absent."""
    for _ in range(2):
        accept(as_user)
    body = {"from": (clock.now() - timedelta(hours=1)).isoformat(), "to": (clock.now() + timedelta(days=1)).isoformat()}
    away = {**body, "reason": "病假", "backup": "market_chief"}
    assert as_user("market_leader").post("/api/users/market_reviewer1/absences", json=away).status_code == 201
    reference = Schema.from_dict({"items": fields.List(fields.Nested(TaskSchema)), "total": fields.Integer()})()
    seen_behalf = seen_plain = 0
    with app.app_context():
        for username in ("market_chief", "market_reviewer2"):
            user = db.session.scalar(select(User).where(User.username == username))
            principal = identity.session_principal(user_id=user.id)
            rows, total = tasks.list_tasks(principal=principal, scope="claimable", page=1, per_page=50)
            page = {"items": rows, "total": total}
            ours, theirs = TaskListSchema().dump(page), reference.dump(page)
            assert json.dumps(ours, ensure_ascii=False) == json.dumps(theirs, ensure_ascii=False)
            assert total >= 2 and len(ours["items"]) == total
            seen_behalf += sum("on_behalf_of" in item for item in ours["items"])
            seen_plain += sum("on_behalf_of" not in item for item in ours["items"])
            db.session.remove()  # a fresh session (identity map) for the next person
    assert seen_behalf >= 2 and seen_plain >= 2  # both kinds of row were compared
    answer = as_user("market_chief").get("/api/tasks?scope=claimable").get_json()
    assert {item.get("on_behalf_of") for item in answer["items"]} == {"张审查"}
