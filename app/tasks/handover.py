"""Handing a task over without its holder: a leader's reassignment, and AB岗 moving an absent
person's claimed tasks to their backup. Each move is one `task_reassigned` event and a notification."""

from __future__ import annotations

from app import clock
from app.errors import Conflict, Forbidden, Invalid
from app.identity.principal import Principal
from app.identity.service import get_group, get_user
from app.tasks.models import CLAIMED, OPEN_STATES, Task
from app.tasks.service import _change, _locked, _tell


def reassign(*, task_id: int, principal: Principal, to: str, reason: str) -> Task:
    """A leader of the task's department (or an admin) moves an open task, claimed or not, to a member
    of its group; the new holder and the one it was taken from are told."""
    head = _locked(task_id)
    group = get_group(code=head.task.group) if head.task.group else None
    department = group.department.code if group is not None and group.department else None
    leader_here = "leader" in principal.roles and department is not None and principal.department == department
    if not (principal.has_role("admin") or leader_here):
        raise Forbidden(
            "只有该任务所属部门的领导或管理员可以改派 Only a leader of the task's department can reassign it."
        )
    if head.task.state not in OPEN_STATES:
        raise Conflict("任务已办结或已取消 The task is no longer open.")
    colleague = get_user(username=to)
    if colleague is None or not colleague.active or head.task.group not in {g.code for g in colleague.groups}:
        raise Invalid(
            "改派对象不存在、已停用或不在该任务的岗位组 The person cannot work this task.",
            errors={"to": ["不能办理该任务 cannot work this task"]},
        )
    moved = move(head, task_id, to=to, actor=principal.username, reason=reason)
    if moved is None:
        raise Conflict("任务已被他人同时处理，请刷新 The task changed meanwhile.")
    previous = head.task.assignee
    if previous and previous != to:
        text = f"{principal.display_name} 已将办件 {head.task.case_number} 的「{head.task.title}」改派给 {to}：{reason}"
        _tell(previous, "task_reassigned", text, head.id, task_id)
    return moved


def move(head, task_id: int, *, to: str, actor: str, reason: str):
    """Move the locked task to `to` (from its holder, or from its group when unclaimed) and tell `to`.

    Returns the task, or None when it changed meanwhile (nothing written then)."""
    claimed = head.task.state == CLAIMED
    moved = _change(
        head,
        task_id,
        {"assignee": to, "claimed_at": clock.now()} | ({} if claimed else {"state": CLAIMED}),
        "task_reassigned",
        actor=actor,
        holder=head.task.assignee,
        verb="task_reassigned" if claimed else "task_reassigned_ready",
        payload={"name": head.task.name, "from": head.task.assignee, "to": to, "reason": reason},
    )
    if moved is not None:
        text = f"办件 {head.task.case_number} 的「{head.task.title}」已交由您办理：{reason}"
        _tell(to, "task_reassigned", text, head.id, task_id)
    return moved


def move_claimed(*, task_id: int, holder: str, to: str, actor: str, reason: str):
    """AB岗: move a task `holder` still holds to `to` (None when it is no longer theirs)."""
    head = _locked(task_id)
    if head.task.state != CLAIMED or head.task.assignee != holder:
        return None
    return move(head, task_id, to=to, actor=actor, reason=reason)
