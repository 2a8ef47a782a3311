"""Every expression of a process, compiled at upload as the safe evaluator would run it.

Checked: conditions (sequence flows, loop conditions, conditional events), timers, multi-instance
cardinality and completion conditions, and `group_expr` properties. Each must compile in the safe
evaluator (`app.engine.expressions.check`: functions and methods outside the vocabulary are
errors); a field read from a user task's submission must exist in that task's form (error); a data
name that nothing in the platform provides is a warning (it must then come with the case data at
acceptance, or be declared in the process's `case_data` property); a quoted timer literal must be
valid ISO 8601 of its kind.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from app import clock
from app.engine import budget, expressions
from app.engine.bounded import reads_nothing
from app.engine.parser import BPMN_NS, Problem, form_of
from app.processes.lint_rules import b, element_of, element_properties
from app.tasks.forms import LEGACY

MAX_LENGTH = 2000
MAX_DEPTH = 60  # the evaluator recurses per level: deeper expressions would fail at run time
# What the platform puts into every case's data at acceptance (app/cases/service.py).
PLATFORM_DATA = frozenset({"matter_code", "materials_deferred"})
KINDS = {
    "conditionExpression": "condition",
    "condition": "condition",
    "loopCondition": "condition",
    "timeDate": "timer",
    "timeDuration": "timer",
    "timeCycle": "timer",
    "loopCardinality": "multi-instance",
    "completionCondition": "multi-instance",
}
PYTHON_LANGUAGES = {"python", "text/x-python", "application/x-python"}
_JUEL = re.compile(r"^\s*[$#]\{.*\}\s*$", re.DOTALL)


@dataclass(frozen=True)
class Vocabulary:
    """The data names a process can rely on, and the form of each (single-instance) user task."""

    names: frozenset[str]
    task_forms: dict[str, tuple[str, ...]]  # task id -> the field names of its form


@dataclass(frozen=True)
class Expression:
    """One expression found in the file, with where to report it."""

    tag: str
    kind: str
    text: str | None
    element: str | None
    line: int | None
    language: str | None = None


def problems(root: etree._Element) -> list[Problem]:
    """Every problem of every expression in the file."""
    vocabulary = vocabulary_of(root)
    out: list[Problem] = []
    for found in expressions_of(root):
        out += [
            Problem(sev, f"{found.tag}: {msg}", found.element, found.line) for sev, msg in _check(found, vocabulary)
        ]
    return out


def vocabulary_of(root: etree._Element) -> Vocabulary:
    """The names an expression of this file may read."""
    names = set(PLATFORM_DATA)
    task_forms = {}
    for task in root.iter(b("userTask")):
        if task.get("id"):
            names.add(task.get("id"))
            if task.find(b("multiInstanceLoopCharacteristics")) is None:
                declared = form_of(task)
                if declared is None:
                    declared = LEGACY.get(element_properties(task).get("form", "opinion"), ())
                task_forms[task.get("id")] = tuple(f.name for f in declared)
    for tag in ("inputDataItem", "outputDataItem", "dataObject"):
        names.update(el.get("id") for el in root.iter(b(tag)) if el.get("id"))
    names.update((el.text or "").strip() for el in root.iter(b("loopDataOutputRef")))
    for process in root.iter(b("process")):
        declared = element_properties(process).get("case_data", "")
        names.update(n.strip() for n in declared.split(",") if n.strip())
    return Vocabulary(frozenset(names), task_forms)


def expressions_of(root: etree._Element) -> Iterator[Expression]:
    """Every expression in the file, in document order."""
    for el in root.iter(etree.Element):
        qname = etree.QName(el)
        if qname.namespace != BPMN_NS:
            continue
        kind = KINDS.get(qname.localname)
        if kind == "condition" and qname.localname == "condition":
            parent = el.getparent()
            if parent is None or etree.QName(parent).localname != "conditionalEventDefinition":
                continue
        if kind is not None:
            yield Expression(qname.localname, kind, el.text, element_of(el), el.sourceline, el.get("language"))
        elif qname.localname == "userTask" and "group_expr" in element_properties(el):
            yield Expression("group_expr", "group", element_properties(el)["group_expr"], el.get("id"), el.sourceline)
        elif qname.localname == "loopDataInputRef":
            yield Expression(qname.localname, "data", el.text, element_of(el), el.sourceline)


def _check(found: Expression, vocabulary: Vocabulary) -> list[tuple[str, str]]:
    text = found.text
    if text is not None and len(text) > MAX_LENGTH:
        return [("error", f"表达式过长（超过 {MAX_LENGTH} 字符） the expression is too long")]
    if found.language and found.language.strip().lower() not in PYTHON_LANGUAGES:
        return [
            (
                "error",
                f"不支持表达式语言 {found.language!r}，请去掉 language 属性并写 Python 表达式 unsupported language",
            )
        ]
    hint = _foreign_language_hint(text)
    if hint:
        return [("error", hint)]
    compiled = _compile(text, found.kind)
    if compiled:
        return [("error", m) for m in compiled]
    tree = ast.parse(text.strip(), mode="eval")
    if _depth(tree) > MAX_DEPTH:
        return [("error", f"表达式嵌套超过 {MAX_DEPTH} 层 the expression is nested too deeply")]
    out = [("error", m) for m in _field_problems(tree, vocabulary)]
    unknown = _unknown_names(tree, vocabulary)
    if unknown:
        out.append(
            (
                "warning",
                f"数据 {', '.join(unknown)} 不由本流程或平台提供，"
                "须在受理时随办件数据提供，或在流程属性 case_data 中声明"
                " data not provided by the process or the platform: it must come with the case data",
            )
        )
    if found.kind == "timer":
        out += _timer_literal_problems(tree, found.tag)
    if found.tag == "loopCardinality":
        out += _cardinality_problems(tree)
    return out


def _cardinality_problems(tree: ast.AST) -> list[tuple[str, str]]:
    """A multi-instance count must be a whole-number literal within the budget: anything computed
    could fan out without bound (a list of case data is fanned out by loopDataInputRef instead,
    whose items are checked at acceptance)."""
    limit = budget.current().max_instances
    body = tree.body if isinstance(tree, ast.Expression) else tree
    value = body.value if isinstance(body, ast.Constant) else None
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= limit:
        return []
    return [
        (
            "error",
            f"多实例数量须为 0-{limit} 的整数常量；按办件数据分发请用 loopDataInputRef "
            f"the cardinality must be an integer literal 0..{limit} (fan out over case data with loopDataInputRef)",
        )
    ]


def _depth(tree: ast.AST) -> int:
    """How deeply the expression's syntax tree nests (without recursion)."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _foreign_language_hint(text: str | None) -> str | None:
    if text is None:
        return None
    if _JUEL.match(text):
        return (
            f"这是 Camunda 7 的 JUEL 表达式 {text.strip()}，请改写为 Python 表达式，如 decide.approved == True "
            "(JUEL expressions are not supported: write a Python expression)"
        )
    if text.strip().startswith("="):
        return (
            f"这是 Camunda 8 的 FEEL 表达式 {text.strip()}，请去掉开头的 = 并改写为 Python 表达式 "
            "(FEEL expressions are not supported: write a Python expression)"
        )
    return None


def _compile(text: str | None, kind: str) -> list[str]:
    try:
        found = expressions.check(text, kind="timer" if kind == "timer" else "condition")
    except (RecursionError, MemoryError, ValueError) as exc:
        return [f"表达式过于复杂，无法编译 the expression cannot be compiled: {type(exc).__name__}"]
    # "函数 'open' 不在..." and "'open' 不在..." say one thing: keep the longer.
    return [m for m in found if not any(other != m and other.endswith(m) for other in found)]


def _field_problems(tree: ast.AST, vocabulary: Vocabulary) -> Iterable[str]:
    for task_id, field in _field_reads(tree):
        form = vocabulary.task_forms.get(task_id)
        if form is not None and field not in form:
            yield (
                f"任务 {task_id} 的表单没有字段 {field!r}，可用字段：{', '.join(form)} "
                f"the form of task {task_id} has no field {field!r}"
            )


def _field_reads(tree: ast.AST) -> Iterator[tuple[str, str]]:
    """(task id, field) for `task.field`, `task['field']` and `task.get('field')`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if node.attr not in expressions.ALLOWED_METHODS:
                yield node.value.id, node.attr
        elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
            if isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str):
                yield node.value.id, node.slice.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
            target, args = node.func.value, node.args
            if isinstance(target, ast.Name) and args and isinstance(args[0], ast.Constant):
                if isinstance(args[0].value, str):
                    yield target.id, args[0].value


def _unknown_names(tree: ast.AST, vocabulary: Vocabulary) -> list[str]:
    known = vocabulary.names | set(expressions.FUNCTIONS) | set(expressions.CONSTANTS)
    names = [n.id for n in ast.walk(tree) if isinstance(n, ast.Name)]
    return sorted({n for n in names if n not in known})


def _timer_literal_problems(tree: ast.AST, tag: str) -> list[tuple[str, str]]:
    """A quoted timer value is checked as the engine will check it when it runs (app/engine/budget.py)."""
    body = tree.body if isinstance(tree, ast.Expression) else tree
    if isinstance(body, ast.Constant) and isinstance(body.value, str):
        value = body.value.strip()
    elif reads_nothing(body):  # e.g. 'R' + '/PT0S': its value is known now, so check it now
        try:
            value = expressions.evaluate(ast.unparse(body), {})
        except expressions.ExpressionRefused:
            return []  # reported as a constant that cannot be computed
        if not isinstance(value, str):
            return [("error", f"定时器的值须为字符串 a timer value must be a string, got {value!r}"[:200])]
    else:
        return []  # computed from case data: checked when it runs (app/engine/guards.py)
    kind = {"timeDuration": "duration", "timeCycle": "cycle"}.get(tag, "date")
    problems = budget.timer_problems(kind, value, now=clock.now())
    if problems:
        return [("error", problems[0])]
    moment = _datetime(value) if kind == "date" else None
    if moment is not None and moment.tzinfo is None:
        return [("warning", f"{value!r} 没有时区，将按北京时间处理，建议写明 +08:00 (no UTC offset)")]
    return []


def _datetime(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
