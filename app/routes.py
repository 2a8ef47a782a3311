"""Every blueprint, registered in one place."""

from flask import Flask
from flask_smorest import Api

from app.errors import CaseIncident
from app.schemas import IdRef


def register(app: Flask, api: Api) -> None:
    """Register the id converter, the API blueprints, the authentication and input-hygiene hooks, then
    the pages (app/web)."""
    from app import health, hygiene
    from app.audit import api as audit_api
    from app.cases import api as cases_api
    from app.cases import incidents
    from app.deadlines import api as calendar_api
    from app.documents import api as documents_api
    from app.identity import api as identity_api
    from app.identity import organisation_api
    from app.matters import api as matters_api
    from app.notifications import api as notifications_api
    from app.processes import api as processes_api
    from app.supervision import api as supervision_api
    from app.tasks import absences_api
    from app.tasks import api as tasks_api
    from app.web import register as register_pages

    app.url_map.converters["int"] = hygiene.IdConverter  # before any rule is added
    api.register_field(IdRef, None, None)  # no "type": its anyOf says integer or digits
    modules = (
        health,
        identity_api,
        matters_api,
        cases_api,
        tasks_api,
        processes_api,
        audit_api,
        calendar_api,
        supervision_api,
        notifications_api,
        documents_api,
        organisation_api,
        absences_api,
    )
    for module in modules:
        api.register_blueprint(module.blp)
    app.before_request(hygiene.refuse_unrouted)
    app.before_request(identity_api.authenticate_request)
    app.before_request(hygiene.inspect_request)
    app.register_error_handler(CaseIncident, incidents.handle)
    register_pages(app, [module.blp for module in modules])
