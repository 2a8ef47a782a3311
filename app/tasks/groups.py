"""Which group a human task goes to: its `group_expr` over the task's data, its `group`, or its lane."""

from __future__ import annotations

from collections.abc import Collection

from app.engine.expressions import ExpressionRefused, evaluate
from app.engine.runtime import ReadyTask
from app.identity.service import group_codes


class GroupUnresolved(Exception):
    """The task's group cannot be determined, or names no existing group."""

    def __init__(self, message: str, *, element: str) -> None:
        super().__init__(message)
        self.element = element


def resolve(ready_task: ReadyTask, known_groups: Collection[str] | None = None) -> str | None:
    """The group of a READY task (lanes are checked at upload; a computed group is checked here)."""
    props = ready_task.spec.properties
    if "group_expr" not in props:
        return props.get("group") or ready_task.spec.lane
    name = ready_task.spec.name
    try:
        group = evaluate(props["group_expr"], ready_task.data)
    except ExpressionRefused as exc:
        raise GroupUnresolved(f"无法确定任务 {name} 的岗位组: {exc}", element=name) from exc
    # A computed group must exist, or the task would wait for nobody.
    known = group_codes() if known_groups is None else known_groups
    if not isinstance(group, str) or group not in known:
        raise GroupUnresolved(f"任务 {name} 的岗位组 {group!r} 不存在 the computed group does not exist", element=name)
    return group
