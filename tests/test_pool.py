"""A connection the database dropped costs no request an error (pool_pre_ping, config.py; on PostgreSQL
the check looks at the connection's socket instead of a round trip, app/__init__.py).

The app under test is built from the shipped configuration (the session app's pool is tuned by
conftest). The database side drops the pooled connection: on PostgreSQL a separate connection
calls pg_terminate_backend on its backend; on SQLite the driver connection under the pool is
closed. Without pre-ping the next request fails (the control), with it the request succeeds.
"""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db
from config import Config, TestConfig
from tests.conftest import is_postgres


def test_shipped_config_pre_pings_pooled_connections():
    assert Config.SQLALCHEMY_ENGINE_OPTIONS["pool_pre_ping"] is True
    assert TestConfig.SQLALCHEMY_ENGINE_OPTIONS["pool_pre_ping"] is True


def _app_with(app, *, pre_ping: bool):
    options = {**TestConfig.SQLALCHEMY_ENGINE_OPTIONS, "pool_pre_ping": pre_ping}
    return create_app(
        TestConfig, SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"], SQLALCHEMY_ENGINE_OPTIONS=options
    )


def _pooled_connection(other) -> object:
    """Open the app's one pooled connection and return its driver connection (back in the pool)."""
    with other.app_context():
        assert other.test_client().get("/api/health").status_code == 200
        pooled = db.engine.raw_connection()
        driver = pooled.driver_connection
        pooled.close()  # back to the pool, still open
        assert db.engine.pool.checkedin() == 1
        return driver


def _drop(app, driver) -> None:
    """The database side drops the connection."""
    if is_postgres(app):
        url = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).set(drivername="postgresql")
        with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as admin:
            pid = driver.info.backend_pid
            # with a timeout: returns once the backend has ended (the connection is dropped, not dropping)
            assert admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,)).fetchone()[0] is True
    else:
        driver.close()


@pytest.mark.parametrize("pre_ping", [True, False])
def test_a_dropped_connection_costs_no_request_an_error(app, client, pre_ping):
    other = _app_with(app, pre_ping=pre_ping)
    try:
        _drop(app, _pooled_connection(other))
        login = other.test_client().post("/api/auth/token", json={"username": "window1", "password": "demo123"})
        if pre_ping:
            assert login.status_code == 200, login.get_json()
            token = login.get_json()["token"]
            me = other.test_client().get("/api/me", headers={"Authorization": f"Bearer {token}"})
            assert me.status_code == 200 and me.get_json()["username"] == "window1"
        else:
            # The control: the same drop without pre-ping answers an error on the next request.
            assert login.status_code == 503, login.get_json()
    finally:
        with other.app_context():
            db.engine.dispose()


def test_pooled_connections_are_checked_without_a_round_trip_on_postgresql(app):
    """PostgreSQL: the check at checkout is local (no `SELECT 1` per request); SQLite pre-pings (its
    connection is a local file, a ping costs no round trip)."""
    other = _app_with(app, pre_ping=True)
    pings: list[object] = []
    try:
        with other.app_context():
            dialect = db.engine.dialect
            original = dialect.do_ping
            dialect.do_ping = lambda conn: pings.append(conn) or original(conn)
        client = other.test_client()
        for _ in range(3):
            assert client.get("/api/health").status_code == 200
        # (a connection just opened is not pinged: three requests, two checkouts of a pooled one)
        assert len(pings) == (0 if is_postgres(app) else 2), pings
    finally:
        with other.app_context():
            db.engine.dispose()
