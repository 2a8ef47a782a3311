"""PostgreSQL cursors make `description`'s Column objects only when one is read (app/pgcursor.py), and
what they describe is exactly what psycopg's own description says, even once the cursor moved on."""

from __future__ import annotations

import psycopg
from sqlalchemy import text

from app import pgcursor
from app.extensions import db
from tests.conftest import is_postgres
from tests.factories import accept, work

QUERY = "SELECT 1::int AS one, 'x'::varchar(7) AS letter, now() AS at, NULL::bytea AS raw"


def _columns(description) -> list[tuple]:
    return [(c.name, c.type_code, c.display_size, c.internal_size, c.precision, c.scale) for c in description]


def test_a_description_says_what_psycopg_says_and_keeps_its_own_result(app):
    with app.app_context():
        pooled = db.engine.raw_connection()
        try:
            driver = pooled.driver_connection
            if not is_postgres(app):
                assert not hasattr(driver, "cursor_factory")  # SQLite's driver is left as it is
                return
            lazy = driver.cursor()
            plain = psycopg.Cursor(driver)
            assert isinstance(lazy, pgcursor.LazyDescriptionCursor)
            lazy.execute(QUERY)
            plain.execute(QUERY)
            first = lazy.description
            assert len(first) == 4 and _columns(first) == _columns(plain.description)
            assert [c.name for c in first] == ["one", "letter", "at", "raw"] and first[1].type_display == "varchar(7)"
            second_lazy = lazy.description
            lazy.execute("SELECT 'y' AS other")  # the cursor moves on: the first description does not
            assert _columns(second_lazy) == _columns(plain.description)
            assert [c.name for c in lazy.description] == ["other"]
            lazy.execute("SET application_name = 'x'")
            plain.execute("SET application_name = 'x'")
            assert lazy.description is None and plain.description is None
            lazy.execute("SELECT")  # no columns, but tuples: an empty description, not None
            plain.execute("SELECT")
            assert lazy.description is not None and list(lazy.description) == plain.description == []
        finally:
            pooled.rollback()
            pooled.close()


def test_the_hot_path_makes_no_column_objects_once_its_statements_are_known(app, as_user, monkeypatch):
    """A claim and a complete run statements SQLAlchemy has seen before: it asks whether a result has
    columns (its column metadata is cached with the statement), so no Column object is made."""
    made: list[int] = []
    original = psycopg.Column.__init__

    def counting(column, cursor, index):
        made.append(index)
        original(column, cursor, index)

    monkeypatch.setattr(psycopg.Column, "__init__", counting)
    data = {"opinion": "材料齐全", "needs_inspection": False}
    work(as_user, accept(as_user)["open_tasks"][0], data, user="market_reviewer1")  # every statement seen once
    made.clear()
    done = work(as_user, accept(as_user)["open_tasks"][0], data, user="market_reviewer1")
    assert done["state"] == "completed" and done["case"]["open_tasks"][0]["name"] == "audit"
    assert made == [], f"{len(made)} Column objects made"
    with app.app_context():
        db.session.execute(text("SELECT 1 AS one, 2 AS two")).all()  # the control: a statement not seen before
        db.session.rollback()
    assert len(made) == 2 if is_postgres(app) else made == []  # SQLite's driver has no Column objects
