"""Log in, and who am I. Also the hook that authenticates every other /api request."""

from flask import g, request
from flask.views import MethodView
from flask_smorest import Blueprint

from app.errors import Unauthorized
from app.identity import principal as principals
from app.identity import service
from app.identity.schemas import MeSchema, TokenRequestSchema, TokenSchema

blp = Blueprint("identity", __name__, url_prefix="/api", description="登录与身份 Authentication and identity")

PUBLIC_ENDPOINTS = frozenset({"identity.Token", "health.Health", "api-docs.openapi_json"})


def authenticate_request() -> None:
    """Resolve the bearer token of every /api request except the public ones (401 without one)."""
    if not request.path.startswith("/api/") or request.endpoint in PUBLIC_ENDPOINTS:
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("缺少访问令牌 A bearer token is required.")
    g.principal = service.resolve_token(token.strip())


@blp.route("/auth/token")
class Token(MethodView):
    @blp.arguments(TokenRequestSchema)
    @blp.response(200, TokenSchema)
    def post(self, body):
        """Exchange a username and password for a bearer token."""
        token, expires_at = service.issue_token(username=body["username"], password=body["password"])
        return {"token": token, "expires_at": expires_at}


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, MeSchema)
    def get(self):
        """The authenticated user: department, groups and roles."""
        return service.describe(principals.current())
