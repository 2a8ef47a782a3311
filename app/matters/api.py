"""The matter catalog."""

from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint

from app.matters import service
from app.matters.schemas import MatterListSchema, MatterSchema
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


@blp.route("/<string:code>/guide")
class MatterGuide(MethodView):
    @blp.response(200, content_type="text/html")
    def get(self, code):
        """The matter's 一次性告知单, printable (A4 HTML): conditions, materials, legal basis, limits, fees, where."""
        return Response(service.guide(code=code), content_type="text/html; charset=utf-8")
