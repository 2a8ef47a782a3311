"""Reading a case's documents and events through the API."""

from __future__ import annotations

import hashlib


def documents_of(as_user, case_id: str) -> list[dict]:
    """The case's documents as the API lists them (read by an auditor)."""
    response = as_user("auditor").get(f"/api/cases/{case_id}/documents")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def events_of(as_user, case_id: str) -> list[dict]:
    """The case's audit events, in order."""
    return as_user("auditor").get(f"/api/cases/{case_id}/events").get_json()["items"]


def html_of(as_user, document: dict) -> str:
    """The document's HTML, checked against the SHA-256 its audit event holds."""
    response = as_user("auditor").get(f"/api/documents/{document['id']}")
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert hashlib.sha256(response.data).hexdigest() == document["sha256"]
    return response.data.decode("utf-8")


def kinds(documents: list[dict]) -> list[str]:
    """The kinds of documents, in issue order."""
    return [d["kind"] for d in documents]
