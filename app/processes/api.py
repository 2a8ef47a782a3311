"""The designer's cycle: upload a draft with its report, list versions, download, publish."""

from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint

from app.identity.principal import current, require_role
from app.processes import service
from app.processes.schemas import ProcessListSchema, UploadResultSchema, VersionListSchema, VersionSchema

blp = Blueprint("processes", __name__, url_prefix="/api/processes", description="流程定义 Process definitions")


@blp.route("")
class Processes(MethodView):
    @blp.response(200, ProcessListSchema)
    def get(self):
        """Process keys with their published version."""
        current()
        items = service.list_processes()
        return {"items": items, "total": len(items)}

    @blp.response(201, UploadResultSchema)
    @blp.doc(requestBody={"content": {"application/xml": {"schema": {"type": "string"}}}})
    def post(self):
        """Upload BPMN XML as a draft: 201 with the report, or 422 with the report when it has errors."""
        principal = require_role("designer")
        version, problems = service.create_draft(data=request.get_data(cache=False), actor_id=principal.user_id)
        return {
            "key": version.key,
            "version": version.version,
            "state": version.state,
            "hash": version.hash,
            "report": [p.as_dict() for p in problems],
        }


@blp.route("/<string:key>/versions")
class Versions(MethodView):
    @blp.response(200, VersionListSchema)
    def get(self, key):
        """The versions of a process, newest first."""
        current()
        rows = service.list_versions(key=key)
        return {"items": rows, "total": len(rows)}


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
        """Publish a draft without errors: new cases use it from now on."""
        require_role("designer")
        return service.publish(key=key, version=version)
