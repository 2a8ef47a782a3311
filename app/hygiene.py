"""Input hygiene in one place: what no request may carry, whatever the view behind it.

- Path ids are 1..2,147,483,647 (PostgreSQL's integer): anything else matches no route (404).
  An unknown path or method is answered 404/405 before authentication (a fact about the URL).
- JSON bodies are parsed strictly (no NaN/Infinity, integers and floats within +-2**53, digits
  counted before int() is called) and then walked: nesting depth, keys per object, values in
  total and string length are bounded (config.py INPUT_*), and no string (key or value) may hold
  NUL or a lone surrogate. The query string and path strings are held to the same string rules.
- Every refusal is an `InputRejected` (422, naming the field where it can); nothing is stored
  because the view never runs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from flask import current_app, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.routing import IntegerConverter

from app.errors import Invalid, NotFound
from app.schemas import MAX_ID

# NUL, and UTF-16 surrogates that are not part of a pair (a valid pair is one code point in Python).
_FORBIDDEN = re.compile("[\x00\ud800-\udfff]")
_DETAIL = "请求数据不符合要求 The request data is invalid."


class InputRejected(Invalid):
    """A request whose input breaks a hygiene rule (422)."""


class IdConverter(IntegerConverter):
    """`<int:...>` path segments: decimal digits within 1..MAX_ID, or no route matches (404)."""

    def __init__(self, map, fixed_digits: int = 0, min: int = 1, max: int = MAX_ID, signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def _limits(config: Mapping[str, Any]) -> dict[str, int]:
    return {
        "depth": config["INPUT_MAX_DEPTH"],
        "keys": config["INPUT_MAX_KEYS"],
        "items": config["INPUT_MAX_ITEMS"],
        "string": config["INPUT_MAX_STRING"],
        "number": config["INPUT_MAX_NUMBER"],
    }


def _reject(field: str, message: str) -> InputRejected:
    return InputRejected(_DETAIL, errors={field: [message]})


def _refuse_constant(name: str) -> Any:
    raise _reject("json", f"不接受 {name} Non-finite numbers ({name}) are not accepted.")


def _number_parsers(bound: int) -> dict[str, Callable[[str], Any]]:
    digits = len(str(bound))

    def parse_int(text: str) -> int:
        # Count digits before int(): a 5,000-digit literal never reaches the (quadratic) conversion.
        if len(text.lstrip("-")) > digits or abs(value := int(text)) > bound:
            raise _reject("json", f"整数超出范围 Integers must lie within ±{bound}.")
        return value

    def parse_float(text: str) -> float:
        if len(text) > 64 or not abs(value := float(text)) <= bound:
            raise _reject("json", f"数值超出范围 Numbers must lie within ±{bound}.")
        return value

    return {"parse_int": parse_int, "parse_float": parse_float, "parse_constant": _refuse_constant}


class StrictJSONProvider(DefaultJSONProvider):
    """Flask's JSON, but parsing refuses NaN/Infinity, out-of-range numbers and runaway nesting."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Parse a JSON document under the input rules (InputRejected, a 422, when one is broken)."""
        for name, parser in _number_parsers(self._app.config["INPUT_MAX_NUMBER"]).items():
            kwargs.setdefault(name, parser)
        try:
            return json.loads(s, **kwargs)
        except RecursionError:
            raise _reject("json", "嵌套层数过多 The document is nested too deeply.") from None


class _Walk:
    """Checks a parsed document against the limits, naming the first offending field."""

    def __init__(self, limits: dict[str, int]) -> None:
        self.limits = limits
        self.items = 0

    def check(self, value: Any, path: str, depth: int) -> None:
        self.items += 1
        if self.items > self.limits["items"]:
            raise _reject(path or "json", f"数据项过多 At most {self.limits['items']} values in a body.")
        if isinstance(value, str):
            check_string(value, path or "json", self.limits["string"])
        elif isinstance(value, dict | list):
            if depth >= self.limits["depth"]:
                raise _reject(path or "json", f"嵌套层数过多 At most {self.limits['depth']} levels of nesting.")
            self._container(value, path, depth + 1)

    def _container(self, value: dict | list, path: str, depth: int) -> None:
        if isinstance(value, list):
            for index, item in enumerate(value):
                self.check(item, f"{path}.{index}" if path else str(index), depth)
            return
        if len(value) > self.limits["keys"]:
            raise _reject(path or "json", f"键过多 At most {self.limits['keys']} keys in an object.")
        for key, item in value.items():
            name = f"{path}.{key}" if path else key
            check_string(key, path or "json", self.limits["string"])
            self.check(item, name, depth)


def check_string(value: str, field: str, max_length: int) -> None:
    """Refuse a string with NUL or a lone surrogate, or longer than `max_length` (422 naming `field`)."""
    if _FORBIDDEN.search(value):
        raise _reject(field, "不得包含空字符或不成对的代理字符 NUL and lone surrogates are not allowed.")
    if len(value) > max_length:
        raise _reject(field, f"字符串过长 At most {max_length} characters.")


def refuse_unrouted() -> None:
    """before_request, first of all: an unknown path (404) or method (405) is answered as such, token or not."""
    if request.routing_exception is not None:
        raise request.routing_exception


def inspect_request() -> None:
    """before_request: hold the path, the query string and a JSON body to the input rules."""
    limits = _limits(current_app.config)
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str) and _FORBIDDEN.search(value):
            raise NotFound(f"{name} 无效 No such {name}.")
    for name, values in request.args.lists():
        check_string(name, name, limits["string"])
        for value in values:
            check_string(value, name, limits["string"])
    if request.is_json and request.content_length != 0:
        # Malformed JSON (None here) is left to the view: 400 from the argument parser, 415 for uploads.
        document = request.get_json(silent=True)
        if document is not None:
            _Walk(limits).check(document, "", 0)
