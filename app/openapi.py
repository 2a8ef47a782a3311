"""The OpenAPI document tells the truth about errors, in one place.

Every error the platform answers is application/problem+json (app/errors.py). This apispec
plugin documents, per operation, each error code it can answer, from what the code does:

- 401 every authenticated operation (and the login, for a wrong password);
- 403 every authenticated operation that checks a role or the caller's department or group
  (all but the reads open to everyone signed in, listed in OPEN_TO_EVERYONE);
- 404 every operation with a path parameter (ids out of range included), and accepting an
  application of an unknown matter;
- 409 every change (state conflicts, and a case or task changed or locked by someone else);
- 400 malformed JSON, 413 a body over MAX_CONTENT_LENGTH, for operations with a body;
- 422 every operation: arguments, and the input rules held for any query string (app/hygiene.py);
- 503 every operation: the database is unreachable.
Nothing else is documented: a 500 is a bug, never an answer.
"""

from __future__ import annotations

from apispec import APISpec, BasePlugin

PROBLEM_JSON = "application/problem+json"
INPUT_RULES = (
    "Input rules held for every request (422 when broken, nothing stored): strings in a JSON body "
    "or the query string hold no NUL and no lone surrogate; a JSON body nests at most 8 levels, "
    "has at most 500 keys per object, 100,000 values and 10,000 characters per string; numbers lie "
    "within ±2**53 and NaN/Infinity are refused (config.py INPUT_*). Ids are 1..2147483647."
)
PROBLEM_REF = {"$ref": "#/components/schemas/ProblemDetails"}

PROBLEM_DETAILS = {
    "type": "object",
    "description": "RFC 9457 problem details; validation errors add `errors` (field -> messages).",
    "required": ["type", "status", "title", "detail"],
    "properties": {
        "type": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "title": {"type": "string"},
        "detail": {"type": "string"},
        "errors": {"description": "field (dotted path for nested input) -> messages"},
    },
}

# Reads any authenticated user may make: never 403.
OPEN_TO_EVERYONE = frozenset(
    {
        ("identity.Me", "get"),
        ("matters.Matters", "get"),
        ("matters.MatterItem", "get"),
        ("cases.Cases", "get"),
        ("tasks.Tasks", "get"),
        ("processes.Processes", "get"),
        ("processes.Versions", "get"),
        ("processes.VersionXml", "get"),
        ("calendar.CalendarYearView", "get"),
        ("calendar.Due", "get"),
        ("notifications.Notifications", "get"),
        ("notifications.Read", "post"),
    }
)
# Operations that find something named in their body, not their path.
NOT_FOUND_IN_BODY = frozenset({("cases.Cases", "post"), ("supervision.Cards", "post")})
# Operations with a body that is not JSON (their own media type errors).
UNSUPPORTED_MEDIA = frozenset({("processes.Processes", "post")})
PUBLIC = frozenset({"identity.Token", "health.Health"})

DESCRIPTIONS = {
    400: "请求体不是合法的 JSON Malformed JSON body",
    401: "未登录或令牌无效 Missing, invalid or expired bearer token",
    403: "无权操作 The caller's role, department or group does not allow this",
    404: "未找到 No such resource (ids are 1..2147483647)",
    409: "状态冲突 Conflicts with the current state, or changed concurrently",
    413: "内容过大 Request body too large",
    415: "媒体类型不支持 Unsupported media type",
    422: "数据校验未通过 Invalid input (field -> messages in `errors`)",
    429: "尝试次数过多 Too many wrong passwords: the account is locked for a while (Retry-After)",
    503: "服务不可用 The database is unreachable",
}
MUTATING = frozenset({"post", "put", "patch", "delete"})


def error_codes(endpoint: str, method: str, *, has_path_params: bool, body_types: frozenset[str]) -> set[int]:
    """The error codes an operation can answer (see the module docstring for the rules)."""
    key = (endpoint, method)
    codes = {422, 503}
    if endpoint not in PUBLIC or endpoint == "identity.Token":
        codes.add(401)
    if endpoint == "identity.Token":
        codes.add(429)  # login safety: locked after repeated wrong passwords
    if endpoint not in PUBLIC and key not in OPEN_TO_EVERYONE:
        codes.add(403)
    if has_path_params or key in NOT_FOUND_IN_BODY:
        codes.add(404)
    if method in MUTATING:
        codes.add(409)
    if body_types:
        codes.add(413)
    if "application/json" in body_types:
        codes.add(400)
    if key in UNSUPPORTED_MEDIA:
        codes.add(415)
    return codes


class ProblemResponses(BasePlugin):
    """apispec plugin: each operation's error responses, all application/problem+json."""

    def init_spec(self, spec: APISpec) -> None:
        """Register the problem schema and the bearer token (every operation but the public ones)."""
        super().init_spec(spec)
        spec.components.schema("ProblemDetails", PROBLEM_DETAILS)
        spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
        spec.options.setdefault("security", [{"bearer": []}])
        spec.options.setdefault("info", {}).setdefault("description", INPUT_RULES)

    def operation_helper(self, path=None, operations=None, **kwargs) -> None:
        """Replace the generic error responses of every operation of a Flask rule with the true ones."""
        rule = kwargs.get("rule")
        if rule is None or not operations:
            return
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            described = {code: responses.pop(code) for code in list(responses) if _is_error(code)}
            body_types = frozenset(operation.get("requestBody", {}).get("content", {}))
            codes = error_codes(rule.endpoint, method, has_path_params=bool(rule.arguments), body_types=body_types)
            if rule.endpoint in PUBLIC:
                operation["security"] = []
            for code in sorted(codes):
                old = described.get(str(code)) or described.get(code) or {}
                description = old.get("description") if isinstance(old, dict) else None
                responses[str(code)] = {
                    "description": description or DESCRIPTIONS[code],
                    "content": {PROBLEM_JSON: {"schema": PROBLEM_REF}},
                }


def _is_error(code: object) -> bool:
    return code == "default" or str(code).isdigit() and int(str(code)) >= 400
