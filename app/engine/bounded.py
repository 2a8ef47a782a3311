"""The expression evaluator with bounded values: simpleeval's compound-types evaluator whose every
operation checks, before it computes, that its result stays within the budget.

Python cannot stop a runaway big-number multiplication or a giant allocation from another thread,
so nothing may start one: integers are held to `max_int_bits` (checked before `*`, `**` and `<<`),
strings to `max_string` characters, and every value built (operator results, call arguments and
results, literals) to `max_items` items counted through every nesting level, so `[[1] * 99] * 99`
nested a few times is refused although each level is short. printf-style `%` on strings, format
specs in f-strings and comprehensions are refused outright; only the vocabulary's methods may be
called.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Iterable
from typing import Any

from simpleeval import DEFAULT_OPERATORS, EvalWithCompoundTypes, FunctionNotDefined

from app.engine.budget import current

_CONTAINERS = (list, tuple, set, frozenset)
_MAX_ROUND_DIGITS = 50


class ValueTooLarge(Exception):
    """An expression would build a value beyond the budget, or use a refused construct."""


def bounded(value: Any) -> Any:
    """`value` if it is within the budget's sizes (counting every nested item); ValueTooLarge otherwise."""
    budget = current()
    stack, items, chars = [value], 0, 0
    while stack:
        item = stack.pop()
        items += 1
        if items > budget.max_items:
            raise ValueTooLarge(f"值包含超过 {budget.max_items} 项 more than {budget.max_items} items")
        kind = type(item)
        if kind is int and item.bit_length() > budget.max_int_bits:
            raise ValueTooLarge(f"整数超过 {budget.max_int_bits} 位 an integer beyond {budget.max_int_bits} bits")
        if kind is str:
            chars += len(item)
            if chars > budget.max_string:
                raise ValueTooLarge(f"字符串超过 {budget.max_string} 字符 more than {budget.max_string} characters")
        elif kind in _CONTAINERS or kind is dict:
            if len(item) > budget.max_items:
                raise ValueTooLarge(f"集合超过 {budget.max_items} 项 a collection of more than {budget.max_items}")
            stack.extend(item.items() if kind is dict else item)
    return value


def _int_bits(a: Any, b: Any, bits: int) -> None:
    if bits > current().max_int_bits:
        raise ValueTooLarge(f"{_short(a)} 与 {_short(b)} 运算结果过大 the result would be too large")


def _repeat_size(seq: Any, times: Any) -> None:
    if hasattr(seq, "__len__") and isinstance(times, int) and times > 0:
        budget = current()
        limit = budget.max_string if isinstance(seq, str) else budget.max_items
        if len(seq) * times > limit:
            raise ValueTooLarge(f"重复后超过 {limit} the repetition would exceed {limit}")


def _mult(a: Any, b: Any) -> Any:
    if type(a) is int and type(b) is int:
        _int_bits(a, b, a.bit_length() + b.bit_length())
    _repeat_size(a, b)
    _repeat_size(b, a)
    return a * b


def _pow(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1:
        _int_bits(a, b, a.bit_length() * b)
    return a**b


def _lshift(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int) and b > 0:
        _int_bits(a, b, a.bit_length() + b)
    return a << b


def _add(a: Any, b: Any) -> Any:
    if hasattr(a, "__len__") and hasattr(b, "__len__"):
        budget = current()
        limit = budget.max_string if isinstance(a, str) else budget.max_items
        if len(a) + len(b) > limit:
            raise ValueTooLarge(f"相加后超过 {limit} the sum would exceed {limit}")
    return a + b


def _mod(a: Any, b: Any) -> Any:
    if isinstance(a, str | bytes):
        raise ValueTooLarge("不允许使用 % 格式化字符串 printf-style formatting is not allowed")
    return a % b


def _round(number: Any, ndigits: Any = None) -> Any:
    if ndigits is not None and not (isinstance(ndigits, int) and abs(ndigits) <= _MAX_ROUND_DIGITS):
        raise ValueTooLarge(f"round 的位数须在 ±{_MAX_ROUND_DIGITS} 以内 ndigits out of range")
    return round(number, ndigits)


OPERATORS = {
    **DEFAULT_OPERATORS,
    ast.Mult: _mult,
    ast.Pow: _pow,
    ast.LShift: _lshift,
    ast.RShift: operator.rshift,
    ast.Add: _add,
    ast.Mod: _mod,
}


class BoundedEval(EvalWithCompoundTypes):
    """simpleeval's compound-types evaluator with every built value bounded (see the module doc)."""

    def __init__(self, *, functions: dict[str, Callable], names: dict[str, Any], methods: Iterable[str]) -> None:
        vocabulary = {**functions, "round": _round} if "round" in functions else dict(functions)
        super().__init__(operators=dict(OPERATORS), functions=vocabulary, names=names)
        self.methods = frozenset(methods)

    def _eval_binop(self, node: ast.BinOp) -> Any:
        return bounded(super()._eval_binop(node))

    def _eval_call(self, node: ast.Call) -> Any:
        if isinstance(node.func, ast.Attribute):
            if node.func.attr not in self.methods:
                raise ValueTooLarge(f"不允许调用方法 method {node.func.attr!r} is not allowed")
            func = self._eval(node.func)
        elif isinstance(node.func, ast.Name) and node.func.id in self.functions:
            func = self.functions[node.func.id]
        else:
            raise FunctionNotDefined(getattr(node.func, "id", "?"), self.expr)
        if any(k.arg is None for k in node.keywords):
            raise ValueTooLarge("不允许 ** 展开参数 ** arguments are not allowed")
        args = [bounded(self._eval(a)) for a in node.args]
        kwargs = {k.arg: bounded(self._eval(k.value)) for k in node.keywords}
        return bounded(func(*args, **kwargs))

    def _eval_list(self, node: ast.List) -> Any:
        return bounded(super()._eval_list(node))

    def _eval_tuple(self, node: ast.Tuple) -> Any:
        return bounded(super()._eval_tuple(node))

    def _eval_set(self, node: ast.Set) -> Any:
        return bounded(super()._eval_set(node))

    def _eval_dict(self, node: ast.Dict) -> Any:
        return bounded(super()._eval_dict(node))

    def _eval_comprehension(self, node: ast.AST) -> Any:
        raise ValueTooLarge("不允许使用推导式 comprehensions are not allowed")

    def _eval_formattedvalue(self, node: ast.FormattedValue) -> Any:
        if node.format_spec:
            raise ValueTooLarge("不允许在 f 字符串中使用格式说明 format specs are not allowed")
        return super()._eval_formattedvalue(node)


def constant_problems(tree: ast.AST, evaluate: Callable[[ast.AST], Any]) -> list[str]:
    """Problems of the sub-expressions built from constants only (e.g. `10 ** 4000000`), each
    evaluated with `evaluate`, which must be the bounded evaluator: a constant that cannot be
    computed within the budget would fail every case that reaches it."""
    problems = []
    for node in _constant_subtrees(tree):
        try:
            evaluate(node)
        except Exception as exc:  # noqa: BLE001 - any failure of a constant is the designer's to fix
            problems.append(f"常量表达式 {_short(ast.unparse(node))} 无法在限制内计算 cannot be computed: {exc}")
    return problems


def _constant_subtrees(tree: ast.AST) -> list[ast.AST]:
    """The largest sub-expressions that read no names and are more than a literal."""
    out, stack = [], [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.expr) and not isinstance(node, ast.Constant) and reads_nothing(node):
            out.append(node)
        else:
            stack.extend(ast.iter_child_nodes(node))
    return out


def reads_nothing(node: ast.AST) -> bool:
    """True when the expression reads no data and calls nothing: its value is fixed at upload."""
    return not any(isinstance(n, ast.Name | ast.Call | ast.Attribute | ast.JoinedStr) for n in ast.walk(node))


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."
