"""Test harness: one app per session on a real database built by the migrations, a clean and
seeded database for every test, and actors that log in through the API.

SQLite (a file, so concurrent threads share it) by default; PostgreSQL when TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import select, text

from app import clock, create_app
from app.engine.runtime import definitions
from app.extensions import db
from app.identity import demo
from app.identity import service as identity_service
from config import BASE_DIR, TestConfig

# Tests that use any of these get an empty, freshly seeded database.
DB_FIXTURES = {"client", "as_user", "db_session", "runner"}
TABLES = [
    "filings",
    "cards",
    "org_log",
    "login_events",
    "absences",
    "outbound_messages",
    "notifications",
    "documents",
    "document_sequences",
    "events",
    "suspensions",
    "tasks",
    "cases",
    "matters",
    "matter_revisions",
    "process_publications",
    "process_versions",
    "api_tokens",
    "user_groups",
    "users",
    "groups",
    "departments",
]


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url.replace("postgresql://", "postgresql+psycopg://", 1)
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    url = _database_url(tmp_path_factory)
    options = {"pool_size": 30, "max_overflow": 10, "pool_pre_ping": True} if url.startswith("postgresql") else {}
    app = create_app(
        TestConfig, SQLALCHEMY_DATABASE_URI=url, SQLALCHEMY_ENGINE_OPTIONS=options, BPMN_DIR=str(BASE_DIR / "bpmn")
    )
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade(directory=str(BASE_DIR / "migrations"))
    yield app
    with app.app_context():
        db.engine.dispose()


def reset_database(app) -> None:
    """Empty every table and seed the demo center and bpmn/ again."""
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        else:
            # The append-only triggers refuse DELETE on events and org_log: lift them for the reset, then restore them.
            triggers = db.session.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ('events', 'org_log')")
            ).all()
            for name, _ in triggers:
                db.session.execute(text(f"DROP TRIGGER {name}"))
            for table in TABLES:
                db.session.execute(text(f"DELETE FROM {table}"))
            for _, sql in triggers:
                db.session.execute(text(sql))
        db.session.execute(text("UPDATE scheduler_leases SET holder = NULL, expires_at = NULL"))
        demo.seed()
        _reset_calendar()
        from app.matters import service as matters
        from app.processes import service as processes

        processes.sync(directory=app.config["BPMN_DIR"])
        matters.load_catalog(path=Path(app.config["BPMN_DIR"]) / "catalog.toml")
        db.session.commit()
        db.session.remove()


def _reset_calendar() -> None:
    """Back to the official arrangements only (tests load made-up years under other sources)."""
    from app.deadlines import calendar
    from app.deadlines.models import CalendarYear
    from app.deadlines.workdays import covered_years

    years = dict(db.session.execute(select(CalendarYear.year, CalendarYear.source)).all())
    official = {y: calendar.OFFICIAL_SOURCE for y in covered_years()}
    if years != official:
        db.session.execute(text("DELETE FROM calendar_days"))
        db.session.execute(text("DELETE FROM calendar_years"))
        calendar.seed_official()
    calendar.invalidate()


@pytest.fixture(autouse=True)
def _clean(request, app):
    if DB_FIXTURES.intersection(request.fixturenames):
        reset_database(app)
    definitions.clear()
    identity_service._principal_cache.clear()
    yield
    clock.reset()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def client(app):
    return app.test_client()


class Actor:
    """A user of the API: logs in through POST /api/auth/token and sends requests with the token."""

    def __init__(self, app, username: str, password: str = demo.DEMO_PASSWORD) -> None:
        self.client = app.test_client()
        self.username = username
        response = self.client.post("/api/auth/token", json={"username": username, "password": password})
        assert response.status_code == 200, response.get_json()
        self.headers = {"Authorization": f"Bearer {response.get_json()['token']}"}

    def get(self, path, **kw):
        return self.client.get(path, headers=self.headers, **kw)

    def post(self, path, json=None, **kw):
        return self.client.post(path, headers=self.headers, json=json, **kw)

    def put(self, path, json=None, **kw):
        return self.client.put(path, headers=self.headers, json=json, **kw)


@pytest.fixture
def as_user(app):
    """as_user("window1") -> an Actor logged in as that demo account.

    One login per user, and per hour of a frozen clock: tests that move the clock by days get a
    fresh token as a person would (a token lives TOKEN_TTL_HOURS of clock time).
    """
    actors: dict[tuple[str, object], Actor] = {}

    def make(username: str) -> Actor:
        hour = clock.now().replace(minute=0, second=0, microsecond=0) if clock.is_frozen() else None
        key = (username, hour)
        if key not in actors:
            actors[key] = Actor(app, username)
        return actors[key]

    return make


@pytest.fixture
def db_session(app):
    with app.app_context():
        yield db.session
        db.session.rollback()


def row_counts(app) -> dict[str, int]:
    """Rows per table: used to prove a refused request changed nothing."""
    with app.app_context():
        counts = {t: db.session.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in TABLES}
        db.session.remove()
        return counts


def is_postgres(app) -> bool:
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")


__all__ = ["Actor", "identity_service", "is_postgres", "row_counts"]
