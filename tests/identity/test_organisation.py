"""The organisation API: the authorization matrix, duplicates, unknown references, passwords never
shown, deactivation, and the hash-chained organisation log."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app.extensions import db
from tests.conftest import row_counts

WRITES = [
    ("post", "/api/departments", {"code": "tax", "name": "税务局"}, 201),
    ("post", "/api/groups", {"code": "tax.review", "name": "税务审查岗", "department": "market"}, 201),
    (
        "post",
        "/api/users",
        {
            "username": "clerk7",
            "password": "Strong-pass-7",
            "display_name": "新窗口",
            "department": "center",
            "groups": ["center.window"],
            "roles": ["window"],
            "backup": "window1",
        },
        201,
    ),
    (
        "patch",
        "/api/users/window2",
        {"groups": ["center.window", "market.review"], "roles": ["window", "reviewer"]},
        200,
    ),
]
NON_ADMINS = ["window1", "market_reviewer1", "market_leader", "designer", "supervisor", "auditor"]


def send(actor, method: str, path: str, body: dict):
    return actor.client.open(path, method=method.upper(), headers=actor.headers, json=body)


def test_every_write_is_refused_to_every_other_role_and_allowed_to_admin(app, as_user):
    refused = 0
    actors = {username: as_user(username) for username in NON_ADMINS}  # logged in before counting
    before = row_counts(app)
    for method, path, body, _ in WRITES:
        for username in NON_ADMINS:
            response = send(actors[username], method, path, body)
            assert response.status_code == 403, (username, path, response.get_json())
            assert response.mimetype == "application/problem+json"
            refused += 1
    assert row_counts(app) == before, "a refused write changed something"
    assert refused == len(WRITES) * len(NON_ADMINS) == 24
    for method, path, body, status in WRITES:
        response = send(as_user("admin"), method, path, body)
        assert response.status_code == status, response.get_json()
        assert "password" not in response.get_json() and "password_hash" not in response.get_json()
    assert as_user("admin").get("/api/users/window2").get_json()["groups"] == ["center.window", "market.review"]
    clerk = as_user("window1").get("/api/users/clerk7").get_json()  # staff read
    assert clerk == {
        "username": "clerk7",
        "display_name": "新窗口",
        "department": "center",
        "groups": ["center.window"],
        "roles": ["window"],
        "active": True,
        "backup": "window1",
    }
    login = app.test_client().post("/api/auth/token", json={"username": "clerk7", "password": "Strong-pass-7"})
    assert login.status_code == 200


DUPLICATES = [
    ("/api/departments", {"code": "market", "name": "重复"}),
    ("/api/groups", {"code": "market.review", "name": "重复", "department": "market"}),
    ("/api/users", {"username": "window1", "password": "Strong-pass-1"}),
]

UNKNOWN = [
    ("post", "/api/groups", {"code": "x.review", "name": "某岗", "department": "nowhere"}, "department"),
    ("post", "/api/users", {"username": "u1", "password": "Strong-pass-1", "department": "nowhere"}, "department"),
    ("post", "/api/users", {"username": "u1", "password": "Strong-pass-1", "groups": ["no.such"]}, "groups"),
    ("post", "/api/users", {"username": "u1", "password": "Strong-pass-1", "backup": "ghost"}, "backup"),
    ("post", "/api/users", {"username": "u1", "password": "Strong-pass-1", "roles": ["emperor"]}, "roles"),
    ("post", "/api/users", {"username": "u1", "password": "short"}, "password"),
    ("post", "/api/users", {"username": "u1", "password": "xx-u1-long-enough"}, "password"),
    ("patch", "/api/users/window1", {"groups": ["no.such"]}, "groups"),
    ("patch", "/api/users/window1", {"backup": "window1"}, "backup"),
]


def test_duplicates_409_and_unknown_references_422_write_nothing(app, as_user):
    admin = as_user("admin")
    before = row_counts(app)
    for path, body in DUPLICATES:
        response = admin.post(path, json=body)
        assert response.status_code == 409, (path, response.get_json())
    for method, path, body, field in UNKNOWN:
        response = send(admin, method, path, body)
        assert response.status_code == 422, (body, response.get_json())
        assert field in response.get_json()["errors"], response.get_json()
    assert admin.client.patch("/api/users/ghost", headers=admin.headers, json={"active": False}).status_code == 404
    assert row_counts(app) == before


def test_lists_for_staff_and_passwords_never_returned(as_user):
    clerk = as_user("window1")
    departments = clerk.get("/api/departments").get_json()
    assert {"code": "market", "name": "市场监督管理局"} in departments
    groups = clerk.get("/api/groups?department=market").get_json()
    assert {g["code"] for g in groups} == {"market.review", "market.chief", "market.leader"}
    users = clerk.get("/api/users?group=market.review").get_json()
    assert users["total"] == 2 and [u["username"] for u in users["items"]] == ["market_reviewer1", "market_reviewer2"]
    assert users["items"][0]["backup"] == "market_reviewer2"
    everyone = clerk.get("/api/users?per_page=200").get_json()
    assert everyone["total"] == 17
    assert all(
        set(u) == {"username", "display_name", "department", "groups", "roles", "active", "backup"}
        for u in everyone["items"]
    )


def test_deactivated_person_is_out_at_once(app, as_user):
    clerk = as_user("window2")
    assert clerk.get("/api/me").status_code == 200  # the principal is now cached
    response = as_user("admin").client.patch(
        "/api/users/window2", headers=as_user("admin").headers, json={"active": False}
    )
    assert response.status_code == 200 and response.get_json()["active"] is False
    assert clerk.get("/api/me").status_code == 401
    login = app.test_client().post("/api/auth/token", json={"username": "window2", "password": "demo123"})
    assert login.status_code == 401


def test_the_organisation_log_is_chained_and_readable_by_auditors(app, as_user):
    admin = as_user("admin")
    assert (
        admin.client.patch("/api/users/window1", headers=admin.headers, json={"display_name": "王新"}).status_code
        == 200
    )
    assert (
        admin.client.patch("/api/users/window1", headers=admin.headers, json={"password": "New-secret-1"}).status_code
        == 200
    )
    assert as_user("window2").get("/api/admin/log").status_code == 403
    log = as_user("auditor").get("/api/admin/log?target=window1").get_json()
    reset, renamed = log["items"][0], log["items"][1]
    assert renamed["actor"] == "admin" and renamed["action"] == "user_saved"
    assert renamed["before"]["display_name"] == "王窗口" and renamed["after"]["display_name"] == "王新"
    assert reset["after"]["password"] == "已重置 reset"
    assert "demo123" not in str(log) and "New-secret-1" not in str(log)
    whole = as_user("auditor").get("/api/admin/log?per_page=200").get_json()
    assert whole["total"] >= 35  # the demo seed went through the same service functions
    for newer, older in zip(whole["items"], whole["items"][1:], strict=False):
        assert newer["prev_hash"] == older["hash"]
    assert as_user("auditor").get("/api/admin/log/verify").get_json() == {
        "intact": True,
        "entries_checked": whole["total"],
        "first_broken": None,
    }


def test_the_organisation_log_refuses_changes(app):
    with app.app_context():
        with pytest.raises(Exception, match="append-only"):
            db.session.execute(text("UPDATE org_log SET actor = 'mallory'"))
        db.session.rollback()
        with pytest.raises(Exception, match="append-only"):
            db.session.execute(text("DELETE FROM org_log"))
        db.session.rollback()
        db.session.remove()
