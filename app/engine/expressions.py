"""The safe expression environment: every condition, timer and multi-instance expression runs here.

SpiffWorkflow's default environment is Python eval/exec with full builtins. Here expressions are
evaluated by simpleeval (no builtins, no imports, no dunder or func_ attributes, bounded string and
power sizes) over the task data plus a small vocabulary of platform functions. Scripts are refused.
`check()` is the upload-time twin: it compiles an expression and names everything the evaluator
would refuse, so a bad expression is reported to the designer instead of failing inside a case.
"""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from app.engine.bounded import BoundedEval, ValueTooLarge, constant_problems
from app.engine.guards import checked_value


class ExpressionRefused(Exception):
    """An expression or script the platform will not run."""


def _safe_len(value: Any) -> int:
    return len(value)


def all_approved(items: Any) -> bool:
    """True when every submission in a list (e.g. the department reviews) has approved == True."""
    return (
        isinstance(items, list)
        and len(items) > 0
        and all(isinstance(i, dict) and i.get("approved") is True for i in items)
    )


def any_rejected(items: Any) -> bool:
    """True when some submission in a list has approved == False."""
    return isinstance(items, list) and any(isinstance(i, dict) and i.get("approved") is False for i in items)


def missing_from(required: Any, provided: Any) -> list:
    """The items of `required` that `provided` lacks (e.g. deferred materials not yet supplied)."""
    return [x for x in (required or []) if x not in (provided or [])]


BASE_FUNCTIONS: dict[str, Callable] = {
    "all_approved": all_approved,
    "any_rejected": any_rejected,
    "missing_from": missing_from,
    "len": _safe_len,
    "min": min,
    "max": max,
    "abs": abs,
    "round": round,
    "int": int,
    "float": float,
    "str": str,
    "bool": bool,
    "any": any,
    "all": all,
    "sorted": sorted,
}
# Other domains add platform functions (e.g. working-day arithmetic) with register_function().
FUNCTIONS: dict[str, Callable] = dict(BASE_FUNCTIONS)
CONSTANTS = {"True": True, "False": False, "None": None}
# Method calls an expression may make on data values; everything else is refused at upload.
ALLOWED_METHODS = frozenset({"get", "keys", "values", "items", "startswith", "endswith", "strip", "lower", "upper"})
_FORBIDDEN_NODES = (ast.Lambda, ast.NamedExpr, ast.Starred, ast.Await, ast.Yield, ast.YieldFrom)
_LOOP_NODES = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_ISO_LITERAL = re.compile(
    r"^\s*(R\d*/)?(P(?=\d|T)[0-9YMWDTHS.,]+|\d{4}-\d{2}-\d{2}(T[\d:.]+)?([+-]\d{2}:?\d{2}|Z)?)\s*$"
)


def register_function(name: str, func: Callable) -> None:
    """Add a platform function to the vocabulary of every expression."""
    FUNCTIONS[name] = func


# Facts about the case the engine is running for (e.g. its deadlines), read by platform functions.
_facts: ContextVar[Mapping[str, Any] | None] = ContextVar("case_facts", default=None)


def fact(name: str) -> Any:
    """A fact about the current case (ExpressionRefused when the platform did not provide it)."""
    try:
        return (_facts.get() or {})[name]
    except KeyError:
        raise ExpressionRefused(f"办件信息 {name} 不可用 case fact {name!r} is not available") from None


@contextmanager
def case_facts(facts: Mapping[str, Any] | None) -> Iterator[None]:
    """Make `facts` visible to platform functions for the duration of an engine call."""
    token = _facts.set(facts or {})
    try:
        yield
    finally:
        _facts.reset(token)


@lru_cache(maxsize=4096)
def _parse(expression: str) -> ast.AST:
    return ast.parse(expression.strip(), mode="eval").body


def evaluate(expression: str, names: Mapping[str, Any]) -> Any:
    """Evaluate an expression over `names` with the platform vocabulary (ExpressionRefused on misuse).

    Every value the expression builds is bounded (app/engine/bounded.py), so no expression can take
    unbounded time or memory."""
    evaluator = BoundedEval(functions=FUNCTIONS, names={**CONSTANTS, **names}, methods=ALLOWED_METHODS)
    try:
        return evaluator.eval(expression, previously_parsed=_parse(expression))
    except ExpressionRefused:
        raise
    except ValueTooLarge as exc:
        raise ExpressionRefused(f"表达式的值超出限制 the expression's value exceeds the limits: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - every evaluator error becomes one refusal with its cause
        raise ExpressionRefused(f"{type(exc).__name__}: {exc}") from exc


def check(expression: str | None, *, kind: str = "condition") -> list[str]:
    """Problems (in Chinese, with the technical detail) that would stop `expression` from running."""
    if expression is None or not expression.strip():
        return ["表达式为空 empty expression"]
    if kind == "timer" and _ISO_LITERAL.match(expression):
        return [f'定时器的 ISO 8601 值必须加引号，例如 "{expression.strip()}" (timer literals are Python strings)']
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        return [f"表达式语法错误 syntax error: {exc.msg} (col {exc.offset})"]
    problems: list[str] = []
    for node in ast.walk(tree):
        problems.extend(_node_problems(node))
    if not problems:
        problems = constant_problems(tree.body, lambda node: evaluate(ast.unparse(node), {}))
    return list(dict.fromkeys(problems))


def _node_problems(node: ast.AST) -> list[str]:
    if isinstance(node, _FORBIDDEN_NODES):
        return [f"不允许使用 {type(node).__name__} (not allowed in expressions)"]
    if isinstance(node, _LOOP_NODES):
        return ["不允许使用推导式 comprehensions are not allowed (unbounded loops)"]
    if isinstance(node, ast.Name):
        if node.id.startswith("_"):
            return [f"不允许访问以下划线开头的名称 name {node.id!r} is not allowed"]
        if hasattr(builtins, node.id) and node.id not in FUNCTIONS and node.id not in CONSTANTS:
            return [f"{node.id!r} 不在表达式词汇表中 is not in the expression vocabulary"]
    if isinstance(node, ast.FormattedValue) and node.format_spec is not None:
        return ["不允许在 f 字符串中使用格式说明 format specs in f-strings are not allowed"]
    if isinstance(node, ast.Attribute) and (node.attr.startswith("_") or node.attr.startswith("func_")):
        return [f"不允许访问属性 attribute {node.attr!r} is not allowed"]
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Name) and func.id not in FUNCTIONS:
            return [f"函数 {func.id!r} 不在表达式词汇表中 is not in the expression vocabulary"]
        if isinstance(func, ast.Attribute) and func.attr not in ALLOWED_METHODS:
            return [f"不允许调用方法 method {func.attr!r} is not allowed"]
        if not isinstance(func, ast.Name | ast.Attribute):
            return ["只能调用词汇表中的函数 only vocabulary functions may be called"]
    return []


class SafeEnvironment(BasePythonScriptEngineEnvironment):
    """The SpiffWorkflow environment that evaluates with `evaluate` and never executes scripts."""

    def evaluate(self, expression, context, external_context=None):
        names = dict(context)
        if external_context:
            names.update(external_context)
        return evaluate(expression, names)

    def execute(self, script, context, external_context=None):
        raise ExpressionRefused("脚本不允许执行 scripts are not allowed")

    def call_service(self, context, **kwargs):
        raise ExpressionRefused("服务任务不允许执行 service tasks are not allowed")


class SafeScriptEngine(PythonScriptEngine):
    """The script engine attached to every workflow the platform creates or loads."""

    def __init__(self) -> None:
        super().__init__(environment=SafeEnvironment())

    def evaluate(self, task, expression, external_context=None):
        """Evaluate as SpiffWorkflow does, then hold timer and multi-instance values to the budget."""
        return checked_value(task, expression, super().evaluate(task, expression, external_context))

    def execute(self, task, script, external_context=None):
        raise ExpressionRefused("脚本不允许执行 scripts are not allowed")


SAFE_ENGINE = SafeScriptEngine()
