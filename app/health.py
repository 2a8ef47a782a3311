"""Liveness and database reachability."""

from flask.views import MethodView
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.errors import Unavailable
from app.extensions import Blueprint, db

blp = Blueprint("health", __name__, url_prefix="/api", description="健康检查 Health")


@blp.route("/health")
class Health(MethodView):
    @blp.response(200)
    def get(self):
        """200 when the application and its database answer; 503 otherwise."""
        try:
            db.session.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            raise Unavailable("数据库不可达 The database is unreachable.") from exc
        return {"status": "ok", "database": db.engine.dialect.name}
