"""No work repeated per request that could be done once: the hot path makes no marshmallow schema
(its argument schemas, its response schemas and a task's form schema are made once per process), and
an API request opens no cookie session (app/__init__.py)."""

from __future__ import annotations

import re

from flask.sessions import SecureCookieSessionInterface
from marshmallow import Schema

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
