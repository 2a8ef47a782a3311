"""OneWindow (一窗): the approval platform of a government service center."""

from __future__ import annotations

import logging
import os
import select

from flask import Flask, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy.exc import DisconnectionError

from app.errors import register_error_handlers
from app.extensions import api, db, migrate, unit_of_work
from app.hygiene import StrictJSONProvider
from app.types import column_json

READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class PagesOnlySessions(SecureCookieSessionInterface):
    """The signed-cookie session of the pages; the API (bearer tokens) has none. An /api request
    neither reads nor verifies a session cookie, nor ever sets one."""

    def open_session(self, app, request):
        if request.path.startswith("/api/"):
            return self.make_null_session(app)
        return super().open_session(app, request)


class OneWindowFlask(Flask):
    """Flask with one transaction per request: a mutating request commits once, here, or rolls back."""

    json_provider_class = StrictJSONProvider  # NaN, huge numbers, runaway nesting: 422 (app/hygiene.py)
    session_interface = PagesOnlySessions()

    def dispatch_request(self):
        if request.method in READ_ONLY_METHODS:
            return super().dispatch_request()
        with unit_of_work():
            return super().dispatch_request()


def create_app(config: object | None = None, **overrides) -> Flask:
    """Build the application: config, extensions, blueprints, CLI and (optionally) the scheduler."""
    app = OneWindowFlask(__name__, instance_relative_config=True)
    app.config.from_object(config or "config.Config")
    app.config.update(overrides)
    app.json.ensure_ascii = False  # Chinese stays readable in every JSON answer
    os.makedirs(app.instance_path, exist_ok=True)
    logging.getLogger("spiff").setLevel(logging.WARNING)  # at DEBUG it dumps task data (personal data)

    local_liveness = _local_liveness_check(app)
    options = app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {}
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {"json_serializer": column_json, **options}
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"))
    api.init_app(app)
    _configure_database(app, local_liveness=local_liveness)
    register_error_handlers(app)

    from app import cli, models, routes  # noqa: F401 (models: the whole schema for Alembic)
    from app.deadlines import functions
    from app.engine import budget

    functions.register()
    budget.configure(app.config)

    routes.register(app, api)
    cli.register(app)
    if app.config.get("SCHEDULER_ENABLED") and not app.config.get("TESTING") and _main_process():
        from app.deadlines.scheduler import start_scheduler

        start_scheduler(app)
    return app


def _main_process() -> bool:
    """False in the parent of Flask's reloader (the child serves, and runs the scheduler)."""
    return os.environ.get("FLASK_DEBUG") != "1" or os.environ.get("WERKZEUG_RUN_MAIN") == "true"


def _local_liveness_check(app: Flask) -> bool:
    """PostgreSQL: a pooled connection is checked at checkout by looking at its socket, not by a round
    trip (pool_pre_ping's SELECT 1 costs every request one). A backend that was terminated (restart,
    failover, pg_terminate_backend) has sent its last message and closed the socket: the socket reads
    as ready, the pool drops the connection and opens another; a healthy idle connection has nothing
    to read. Only when the configuration asks for pre-pinging (the shipped default)."""
    options = app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {}
    if not (app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql") and options.get("pool_pre_ping")):
        return False
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**options, "pool_pre_ping": False}
    return True


def _closed_by_server(dbapi_conn) -> bool:
    """True when the driver connection is closed, broken, or has something to read while idle (the
    server's goodbye, or the end of the stream)."""
    if dbapi_conn.closed or dbapi_conn.broken:
        return True
    try:
        readable, _, _ = select.select([dbapi_conn.fileno()], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def _configure_database(app: Flask, *, local_liveness: bool = False) -> None:
    """SQLite: WAL, foreign keys, a busy timeout and write transactions that lock up front.
    PostgreSQL: no statement and no idle transaction may hold its locks for long."""
    from sqlalchemy import event

    from app.pgcursor import LazyDescriptionCursor

    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        with app.app_context():

            @event.listens_for(db.engine, "connect")
            def _timeouts(dbapi_conn, _record):
                dbapi_conn.cursor_factory = LazyDescriptionCursor  # app/pgcursor.py
                with dbapi_conn.cursor() as cur:
                    cur.execute(f"SET statement_timeout = {int(app.config['DB_STATEMENT_TIMEOUT_MS'])}")
                    cur.execute(
                        "SET idle_in_transaction_session_timeout = "
                        f"{int(app.config['DB_IDLE_IN_TRANSACTION_TIMEOUT_MS'])}"
                    )
                dbapi_conn.commit()

            if local_liveness:

                @event.listens_for(db.engine, "checkout")
                def _alive(dbapi_conn, _record, _proxy):
                    if _closed_by_server(dbapi_conn):
                        raise DisconnectionError("the database closed this connection")  # the pool reconnects

        return
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return

    with app.app_context():
        engine = db.engine

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):
            dbapi_conn.isolation_level = None  # transactions are begun below, not by the driver
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=15000")
            if app.config["SQLALCHEMY_DATABASE_URI"] not in ("sqlite://", "sqlite:///:memory:"):
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):
            # A writing request takes SQLite's write lock up front (BEGIN IMMEDIATE): writers queue
            # on the busy timeout instead of failing half-way, and a case read then updated stays
            # consistent (SQLite has no SELECT ... FOR UPDATE).
            writing = not has_request_context() or request.method not in READ_ONLY_METHODS
            conn.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")
