"""The organisation API: the authorization matrix, duplicates, unknown references, passwords never
shown, deactivation, and the hash-chained organisation log."""

from __future__ import annotations

import re

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


BAD_NAMES = ["", "   ", "\u3000", "市场\t监管局", "市场监管局\n", "第一行\r\n第二行", "铃\x07", "C1\x85", "分\u2028行"]
BAD_CODES = ["tax\n", "Tax", "tax office", "税务"]
BAD_USERNAMES = ["clerk8\n", "clerk 8", "8clerk", "张三"]


def test_names_are_one_line_of_visible_text_and_codes_whole_in_the_api_and_the_pages(app, as_user, client):
    """Names go on documents, lists and spreadsheet exports: a control character, a line break or a
    blank name is refused with 422 naming the field, and nothing is written. A code or username is
    matched whole (Python's `$` also matches before a final line feed). The admin pages call the
    same services without the API's schemas, and are held to the same rules."""
    admin = as_user("admin")
    before = row_counts(app)
    for name in BAD_NAMES:
        for path, body in (
            ("/api/departments", {"code": "tax", "name": name}),
            ("/api/groups", {"code": "tax.review", "name": name, "department": "market"}),
            ("/api/users", {"username": "clerk8", "password": "Strong-pass-8", "display_name": name}),
        ):
            response = admin.post(path, json=body)
            assert response.status_code == 422, (path, name, response.get_json())
            field = "display_name" if path == "/api/users" else "name"
            assert field in response.get_json()["errors"], response.get_json()
        renamed = send(admin, "patch", "/api/users/window2", {"display_name": name})
        assert renamed.status_code == 422 and "display_name" in renamed.get_json()["errors"]
    for code in BAD_CODES:
        assert admin.post("/api/departments", json={"code": code, "name": "税务局"}).status_code == 422, code
        assert admin.post("/api/groups", json={"code": code, "name": "岗", "department": "market"}).status_code == 422
    for username in BAD_USERNAMES:
        user = {"username": username, "password": "Strong-pass-8", "display_name": "新人"}
        assert admin.post("/api/users", json=user).status_code == 422, user
    assert row_counts(app) == before

    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/login", data={"username": "admin", "password": "demo123", "csrf_token": token})
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/admin").get_data(as_text=True)).group(1)
    before = row_counts(app)  # the login is recorded
    for form in (
        {"code": "tax", "name": "税务\x07局"},
        {"code": "tax office", "name": "税务局"},
        {"code": "", "name": "税务局"},
        {"code": "tax", "name": "税" * 101},
    ):
        refused = client.post("/admin/departments", data={**form, "csrf_token": token})
        assert refused.status_code == 422, form
        assert 'data-kind="error"' in refused.get_data(as_text=True)
    assert row_counts(app) == before
    created = client.post("/admin/departments", data={"code": "tax", "name": "税务局", "csrf_token": token})
    assert created.status_code == 302
    assert [d["name"] for d in admin.get("/api/departments").get_json() if d["code"] == "tax"] == ["税务局"]


@pytest.mark.parametrize("name", ["张三\n", "张\x00三", "\t", "李四\u2029"])
def test_an_applicant_name_with_a_control_character_is_refused_and_nothing_is_stored(app, as_user, name):
    from tests.factories import application

    clerk = as_user("window1")
    before = row_counts(app)
    response = clerk.post("/api/cases", json=application(name=name))
    assert response.status_code == 422, response.get_json()
    assert row_counts(app) == before
