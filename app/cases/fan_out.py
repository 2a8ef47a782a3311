"""Case data that drives fan-out is checked at acceptance: a list that a multi-instance task fans
out over (e.g. the departments of a joint review) must be a short list of distinct, known
department codes, so a clerk's typo or a pasted list can neither create duplicate reviews nor
thousands of tasks."""

from __future__ import annotations

from typing import Any

from app.engine.budget import current
from app.engine.parser import Definition
from app.errors import Invalid
from app.identity.service import department_codes


def check(definition: Definition, data: dict[str, Any]) -> None:
    """422 naming each fan-out list of `data` that is not distinct known department codes within the budget."""
    errors: dict[str, list[str]] = {}
    known: set[str] | None = None
    for name in sorted(definition.fan_out):
        if name not in data:
            continue
        value = data[name]
        if known is None:
            known = department_codes()
        problems = _problems(value, known)
        if problems:
            errors[name] = problems
    if errors:
        raise Invalid(
            f"办件数据 {'、'.join(errors)} 不符合要求：须为不重复的已知部门代码 The fan-out lists are invalid.",
            errors={"data": errors},
        )


def _problems(value: Any, known: set[str]) -> list[str]:
    limit = current().max_instances
    if not isinstance(value, list):
        return ["须为部门代码列表 must be a list of department codes"]
    problems = []
    if len(value) > limit:
        problems.append(f"最多 {limit} 个部门 at most {limit} departments")
    if not all(isinstance(v, str) for v in value):
        return [*problems, "须为部门代码（字符串） items must be department codes"]
    repeated = sorted({v for v in value if value.count(v) > 1}) if len(value) <= limit else []
    if repeated:
        problems.append(f"部门重复：{'、'.join(repeated)} repeated departments")
    unknown = sorted(set(value) - known)
    if unknown:
        problems.append(f"未知部门：{'、'.join(unknown[:10])} unknown departments")
    return problems
