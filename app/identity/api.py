"""Log in, and who am I. Also the hook that authenticates every other /api request."""

from flask import g, request
from flask.views import MethodView

from app.errors import Unauthorized, domain_error_response
from app.extensions import Blueprint
from app.identity import login, service
from app.identity import principal as principals
from app.identity.schemas import MeSchema, TokenRequestSchema, TokenSchema

blp = Blueprint("identity", __name__, url_prefix="/api", description="登录与身份 Authentication and identity")

PUBLIC_ENDPOINTS = frozenset({"identity.Token", "health.Health", "api-docs.openapi_json"})


def authenticate_request() -> None:
    """Resolve the bearer token of every /api request except the public ones (401 without one)."""
    if not request.path.startswith("/api/") or request.endpoint in PUBLIC_ENDPOINTS:
        return
    g.principal = service.resolve_token(_bearer())


def _bearer() -> str:
    """The request's bearer token (401 without one)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("缺少访问令牌 A bearer token is required.")
    return token.strip()


@blp.route("/auth/token")
class Token(MethodView):
    @blp.arguments(TokenRequestSchema)
    @blp.response(200, TokenSchema)
    def post(self, body):
        """Exchange a username and password for a bearer token."""
        issued, refused = login.token_for(username=body["username"], password=body["password"])
        if refused is not None:  # answered, not raised: the failure's record is committed (app/identity/login.py)
            return domain_error_response(refused)
        token, expires_at = issued
        return {"token": token, "expires_at": expires_at}


@blp.route("/auth/logout")
class Logout(MethodView):
    @blp.response(204)
    def post(self):
        """Revoke the bearer token in use: it stops working at once."""
        principals.current()
        service.revoke_token(_bearer())
        return None


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, MeSchema)
    def get(self):
        """The authenticated user: department, groups and roles."""
        return service.describe(principals.current())
