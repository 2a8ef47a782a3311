"""Login safety: 5 wrong passwords in 15 minutes lock the name for 15 minutes (unknown names alike),
every outcome is recorded, and logout revokes the token."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from app import clock
from app.extensions import db
from app.identity.models import LoginEvent
from tests.timekeeping import bj


def login(client, username: str, password: str):
    return client.post("/api/auth/token", json={"username": username, "password": password})


def outcomes(app, username: str) -> list[str]:
    with app.app_context():
        rows = db.session.scalars(
            select(LoginEvent.outcome).where(LoginEvent.username == username).order_by(LoginEvent.id)
        )
        found = list(rows)
        db.session.remove()
        return found


def test_five_wrong_passwords_lock_until_the_time_passes(app, client):
    clock.freeze(bj(2026, 12, 1, 9))
    for _ in range(4):
        assert login(client, "window1", "wrong").status_code == 401
        clock.advance(timedelta(minutes=1))
    fifth = login(client, "window1", "wrong")
    assert fifth.status_code == 429 and fifth.headers["Retry-After"] == "900"
    assert fifth.mimetype == "application/problem+json"
    clock.advance(timedelta(minutes=10))
    refused = login(client, "window1", "demo123")  # the right password, still locked
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "300"
    clock.advance(timedelta(minutes=5))
    assert login(client, "window1", "demo123").status_code == 200
    assert outcomes(app, "window1") == ["failed"] * 5 + ["locked", "succeeded"]


def test_failures_spread_over_more_than_fifteen_minutes_do_not_lock(client):
    clock.freeze(bj(2026, 12, 1, 9))
    for _ in range(8):
        assert login(client, "window1", "wrong").status_code == 401
        clock.advance(timedelta(minutes=4))
    assert login(client, "window1", "demo123").status_code == 200


def test_an_unknown_name_answers_the_same_way(app, client):
    clock.freeze(bj(2026, 12, 1, 9))
    answers = [login(client, "ghost", "whatever") for _ in range(6)]
    known = [login(client, "window2", "whatever") for _ in range(6)]
    assert [a.status_code for a in answers] == [r.status_code for r in known] == [401] * 4 + [429, 429]
    assert answers[-1].headers["Retry-After"] == known[-1].headers["Retry-After"] == "900"
    assert answers[-1].get_json()["detail"] == known[-1].get_json()["detail"]
    assert outcomes(app, "ghost") == ["failed"] * 5 + ["locked"]


def test_logout_revokes_the_token(client):
    token = login(client, "window1", "demo123").get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/me", headers=headers).status_code == 200
    assert client.post("/api/auth/logout", headers=headers).status_code == 204
    assert client.get("/api/me", headers=headers).status_code == 401
    assert client.post("/api/auth/logout", headers=headers).status_code == 401
    other = login(client, "window1", "demo123").get_json()["token"]
    assert client.get("/api/me", headers={"Authorization": f"Bearer {other}"}).status_code == 200


def test_the_login_page_shares_the_lockout(client):
    clock.freeze(bj(2026, 12, 1, 9))
    for _ in range(5):
        login(client, "window1", "wrong")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    page = client.post("/login", data={"username": "window1", "password": "demo123", "csrf_token": token})
    assert page.status_code == 429
    assert "账号已锁定" in page.get_data(as_text=True)
