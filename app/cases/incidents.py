"""Case incidents: a step the process could not take (a design fault or a budget exceeded) is
recorded on the case, after the step itself was rolled back, so supervisors see it and the audit
chain says when and where it happened."""

from __future__ import annotations

from flask import Response, g

from app.audit import service as audit
from app.cases.models import Case
from app.errors import CaseIncident, domain_error_response
from app.extensions import db, unit_of_work

MESSAGE_LENGTH = 500


def record(*, case: Case, element: str | None, message: str, actor: str) -> bool:
    """Mark the case and append a `case_incident` event (once per distinct message); True if recorded."""
    message = message[:MESSAGE_LENGTH]
    if case.incident == message:
        return False
    case.incident = message
    audit.record(case, "case_incident", actor=actor, payload={"element": element, "message": message})
    db.session.flush()
    return True


def record_error(err: CaseIncident, *, actor: str) -> None:
    """Record the incident an error reports on its case (when the case exists), in the current
    transaction: the caller has already rolled back the step that met it."""
    case_id = err.extra.get("case_id")
    if case_id is None:
        return
    case = db.session.get(Case, int(case_id), with_for_update=True, populate_existing=True)
    if case is not None:
        record(case=case, element=err.extra.get("element"), message=err.detail, actor=actor)


def handle(err: CaseIncident) -> Response:
    """The API's 409 for an incident met in a request; the incident is recorded in a transaction of
    its own (the request's was rolled back, so the case is otherwise left as it was)."""
    if err.extra.get("case_id") is not None:
        principal = g.get("principal")
        with unit_of_work():
            record_error(err, actor=principal.username if principal is not None else "system")
    return domain_error_response(err)
