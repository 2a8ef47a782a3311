"""The matter catalog."""

from flask import Response
from flask.views import MethodView

from app.extensions import Blueprint
from app.identity.principal import require_role
from app.matters import service
from app.matters.schemas import MatterListSchema, MatterSchema, MatterWriteSchema, RevisionListSchema
from app.schemas import PageArgs

blp = Blueprint("matters", __name__, url_prefix="/api/matters", description="事项目录 Matter catalog")


@blp.route("")
class Matters(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, MatterListSchema)
    def get(self, args):
        """The catalog, ordered by code."""
        rows, total = service.list_matters(**args)
        return {"items": rows, "total": total}


@blp.route("/<string:code>")
class MatterItem(MethodView):
    @blp.response(200, MatterSchema)
    def get(self, code):
        """One matter with its materials checklist (一次性告知单)."""
        return service.get_or_raise(code=code)

    @blp.arguments(MatterWriteSchema)
    @blp.response(200, MatterSchema)
    @blp.alt_response(201, schema=MatterSchema, description="created")
    def put(self, values, code):
        """Create or change a matter (designer, admin); each change is a revision, cases keep their own limits."""
        principal = require_role("designer")
        matter, created = service.put(code=code, values=values, actor=principal.username)
        return matter, 201 if created else 200


@blp.route("/<string:code>/revisions")
class MatterRevisions(MethodView):
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, RevisionListSchema)
    def get(self, args, code):
        """The matter's history: who changed what, when (newest first)."""
        rows, total = service.list_revisions(code=code, **args)
        return {"items": rows, "total": total}


@blp.route("/<string:code>/guide")
class MatterGuide(MethodView):
    @blp.response(200, content_type="text/html")
    def get(self, code):
        """The matter's 一次性告知单, printable (A4 HTML): conditions, materials, legal basis, limits, fees, where."""
        return Response(service.guide(code=code), content_type="text/html; charset=utf-8")
