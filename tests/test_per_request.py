"""No work repeated per request that could be done once: the hot path makes no marshmallow schema
(its argument schemas, its response schemas and a task's form schema are made once per process)."""

from __future__ import annotations

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

