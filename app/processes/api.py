"""The designer's cycle: upload a draft with its report, list versions, download, publish, dry-run."""

from flask import Response, request
from flask.views import MethodView
from werkzeug.exceptions import UnsupportedMediaType

from app.extensions import Blueprint
from app.identity.principal import current, require_role
from app.processes import service, simulation
from app.processes.schemas import (
    ProcessListSchema,
    PublicationListSchema,
    ScenarioSchema,
    SimulationSchema,
    UploadResultSchema,
    VersionListSchema,
    VersionSchema,
)
from app.schemas import PageArgs

blp = Blueprint("processes", __name__, url_prefix="/api/processes", description="流程定义 Process definitions")

# Body types a BPMN upload may come as; a form or JSON body is a client mistake (415).
XML_TYPES = frozenset({"", "application/xml", "text/xml", "application/bpmn+xml", "application/octet-stream"})


@blp.route("")
class Processes(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, ProcessListSchema)
    def get(self, args):
        """Process keys with their latest and published version."""
        items, total = service.list_processes(**args)
        return {"items": items, "total": total}

    @blp.response(201, UploadResultSchema)
    @blp.alt_response(413, description="larger than BPMN_MAX_BYTES")
    @blp.alt_response(422, description="the report has errors: nothing was stored")
    @blp.doc(requestBody={"content": {"application/xml": {"schema": {"type": "string", "format": "binary"}}}})
    def post(self):
        """Upload BPMN XML as a draft: 201 with the report, or 422 with the report when it has errors."""
        principal = require_role("designer")
        if request.mimetype not in XML_TYPES and not request.mimetype.endswith("+xml"):
            raise UnsupportedMediaType(
                "请以 Content-Type: application/xml 上传 BPMN 文件 Send the BPMN as application/xml."
            )
        version, report = service.create_draft(data=request.get_data(cache=False), actor_id=principal.user_id)
        return {
            "key": version.key,
            "version": version.version,
            "state": version.state,
            "hash": version.hash,
            "report": report.as_list(),
        }


@blp.route("/<string:key>/versions")
class Versions(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, VersionListSchema)
    def get(self, args, key):
        """The versions of a process, newest first."""
        rows, total = service.list_versions(key=key, **args)
        return {"items": rows, "total": total}


@blp.route("/<string:key>/versions/<int:version>/xml")
class VersionXml(MethodView):
    @blp.response(200, content_type="application/xml")
    def get(self, key, version):
        """The exact stored file, byte for byte."""
        current()
        found = service.get_or_raise(key=key, version=version)
        return Response(
            found.xml,
            mimetype="application/xml",
            headers={"ETag": f'"{found.hash}"', "Content-Disposition": f'attachment; filename="{key}-v{version}.bpmn"'},
        )


@blp.route("/<string:key>/versions/<int:version>/publish")
class Publish(MethodView):
    @blp.response(200, VersionSchema)
    def post(self, key, version):
        """Publish a draft (or, to roll back, a retired version) that still has no errors: new cases use it
        from now on. Every publication is recorded."""
        principal = require_role("designer")
        return service.publish(key=key, version=version, actor=principal.username)


@blp.route("/<string:key>/publications")
class Publications(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, PublicationListSchema)
    def get(self, args, key):
        """Who published which version when, rollbacks included, newest first."""
        require_role("designer", "auditor", "supervisor")
        rows, total = service.list_publications(key=key, **args)
        return {"items": rows, "total": total}


@blp.route("/<string:key>/versions/<int:version>/simulate")
class Simulate(MethodView):
    @blp.arguments(ScenarioSchema)
    @blp.response(200, SimulationSchema)
    def post(self, body, key, version):
        """Dry-run a version through a scenario without creating a case."""
        require_role("designer")
        return simulation.run_scenario(key=key, version=version, **body)
