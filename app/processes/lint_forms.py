"""The upload report's checks of every form declared in the BPMN (`camunda:formData` of a user task).

Refused, each with its element and line: a field without an id, duplicate field ids, an unknown
type, an enum without values (or a value without an id), an unknown constraint, a constraint that
does not fit the field's type, a bad constraint config (not a number, min above max), a `required_if`
that the safe evaluator refuses or that reads names the form does not have, a default that is not
one of the choices.
"""

from __future__ import annotations

import ast
import datetime as dt
from collections.abc import Iterable, Iterator

from lxml import etree

from app.engine import expressions
from app.engine.parser import BPMN_NS, FormField, Problem, form_of
from app.tasks.forms import CONSTRAINTS, TYPES

LENGTHS = frozenset({"minlength", "maxlength"})
BOUNDS = frozenset({"min", "max"})
# Which constraints fit which types (required, required_if and readonly fit every type).
FITS = {
    "minlength": {"string", "text"},
    "maxlength": {"string", "text"},
    "min": {"long", "date"},
    "max": {"long", "date"},
    "equals": {"string", "boolean", "long", "enum"},
}


def problems(root: etree._Element) -> list[Problem]:
    """Every problem of every declared form, with the task (or field) line."""
    out: list[Problem] = []
    for task in root.iter(f"{{{BPMN_NS}}}userTask"):
        form = form_of(task)
        if form is None:
            continue
        task_id = task.get("id")
        out += [Problem("error", message, task_id, line) for message, line in _form_problems(form)]
    return out


def _form_problems(form: tuple[FormField, ...]) -> Iterator[tuple[str, int | None]]:
    seen: set[str] = set()
    names = frozenset(f.name for f in form)
    for f in form:
        if not f.name:
            yield "表单字段缺少 id a form field has no id", f.line
            continue
        if not f.name.isidentifier():
            yield f"字段 id {f.name!r} 须为英文标识符 the field id must be an identifier", f.line
        if f.name in seen:
            yield f"字段 id {f.name!r} 重复 duplicate field id", f.line
        seen.add(f.name)
        for message in _field_problems(f, names):
            yield f"字段 {f.name}：{message}", f.line


def _field_problems(f: FormField, names: frozenset[str]) -> Iterable[str]:
    if f.type not in TYPES:
        yield f"未知类型 {f.type!r}，可选：{', '.join(TYPES)} unknown type"
        return
    if f.type == "enum":
        if not f.choices:
            yield "枚举字段没有可选值 (camunda:value) an enum needs values"
        if any(not value for value, _ in f.choices):
            yield "枚举值缺少 id an enum value has no id"
        if f.default and f.default not in {v for v, _ in f.choices}:
            yield f"默认值 {f.default!r} 不在可选值中 the default is not a choice"
    for name, config in f.constraints:
        yield from _constraint_problems(f, name, config, names)
    yield from _order_problems(f)


def _constraint_problems(f: FormField, name: str, config: str | None, names: frozenset[str]) -> Iterable[str]:
    if name not in CONSTRAINTS:
        yield f"未知约束 {name!r}，可选：{', '.join(CONSTRAINTS)} unknown constraint"
    elif name in FITS and f.type not in FITS[name]:
        yield f"约束 {name} 不适用于 {f.type} 类型 the constraint does not fit the type"
    elif name in LENGTHS and _int(config) is None:
        yield f"约束 {name} 的 config 须为非负整数，而不是 {config!r} bad constraint config"
    elif name in BOUNDS and _bound(f.type, config) is None:
        kind = "日期 YYYY-MM-DD" if f.type == "date" else "整数"
        yield f"约束 {name} 的 config 须为{kind}，而不是 {config!r} bad constraint config"
    elif name == "required_if":
        yield from _condition_problems(config, names)


def _condition_problems(config: str | None, names: frozenset[str]) -> Iterable[str]:
    found = expressions.check(config)
    if found:
        yield from (f"required_if 条件不可用：{m}" for m in found)
        return
    read = {n.id for n in ast.walk(ast.parse(config.strip(), mode="eval")) if isinstance(n, ast.Name)}
    unknown = sorted(read - names - set(expressions.FUNCTIONS) - set(expressions.CONSTANTS))
    if unknown:
        yield f"required_if 读取了表单中没有的字段 {', '.join(unknown)} the condition reads unknown fields"


def _order_problems(f: FormField) -> Iterable[str]:
    for low_name, high_name in (("minlength", "maxlength"), ("min", "max")):
        low, high = _bound(f.type, f.constraint(low_name)), _bound(f.type, f.constraint(high_name))
        if low is not None and high is not None and low > high:
            yield f"{low_name} 大于 {high_name} the lower bound exceeds the upper bound"


def _int(text: str | None) -> int | None:
    try:
        value = int((text or "").strip())
    except ValueError:
        return None
    return value if value >= 0 else None


def _bound(type_: str, text: str | None) -> int | dt.date | None:
    if type_ == "date":
        try:
            return dt.date.fromisoformat((text or "").strip())
        except ValueError:
            return None
    try:
        return int((text or "").strip())
    except ValueError:
        return None
