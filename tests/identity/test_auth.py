"""Tokens and identity through the API."""

from datetime import timedelta

from app import clock


def test_login_and_me(client):
    response = client.post("/api/auth/token", json={"username": "market_leader", "password": "demo123"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["token"] and body["expires_at"].endswith("+08:00")
    me = client.get("/api/me", headers={"Authorization": f"Bearer {body['token']}"})
    assert me.status_code == 200
    assert me.get_json() == {
        "username": "market_leader",
        "display_name": "孙局长",
        "department": "market",
        "groups": ["market.leader"],
        "roles": ["leader"],
    }


def test_wrong_password_and_unknown_user_are_401(client):
    for body in ({"username": "window1", "password": "nope"}, {"username": "ghost", "password": "demo123"}):
        response = client.post("/api/auth/token", json=body)
        assert response.status_code == 401
        assert response.mimetype == "application/problem+json"


def test_no_token_or_bad_token_is_401(client):
    assert client.get("/api/me").status_code == 401
    assert client.get("/api/me", headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    assert client.get("/api/cases", headers={"Authorization": "Basic abc"}).status_code == 401


def test_token_expires(client, app):
    response = client.post("/api/auth/token", json={"username": "window1", "password": "demo123"})
    headers = {"Authorization": f"Bearer {response.get_json()['token']}"}
    assert client.get("/api/me", headers=headers).status_code == 200
    clock.freeze(clock.now() + timedelta(hours=app.config["TOKEN_TTL_HOURS"], seconds=1))
    assert client.get("/api/me", headers=headers).status_code == 401


def test_token_is_stored_hashed(client, db_session):
    from sqlalchemy import select

    from app.identity.models import ApiToken

    token = client.post("/api/auth/token", json={"username": "window1", "password": "demo123"}).get_json()["token"]
    stored = db_session.scalars(select(ApiToken.token_hash)).all()
    assert stored and all(token.encode() not in h for h in stored)
    assert all(len(h) == 32 for h in stored)


def test_users_create_cli(runner, client):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--username",
            "clerk9",
            "--password",
            "Clerk-pass-9",
            "--department",
            "center",
            "--group",
            "center.window",
            "--role",
            "window",
        ]
    )
    assert result.exit_code == 0, result.output
    response = client.post("/api/auth/token", json={"username": "clerk9", "password": "Clerk-pass-9"})
    assert response.status_code == 200
    bad = runner.invoke(args=["users", "create", "--username", "x", "--password", "y", "--role", "emperor"])
    assert bad.exit_code != 0 and "emperor" in bad.output


def test_demo_seed_is_idempotent(runner, db_session):
    from sqlalchemy import func, select

    from app.identity.models import User

    before = db_session.scalar(select(func.count()).select_from(User))
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(User)) == before
