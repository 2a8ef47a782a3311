"""A case's history for people (办件全程记录): who did what, when, with which opinion, under which deadlines.

Built from the events (the record), in Chinese; the same timeline is served as JSON and as a
printable document an auditor files, with the chain's final hash and the verification result.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from app import clock
from app.audit import service
from app.audit.recorded import EventLike, RecordedState
from app.audit.replay import replay_case
from app.audit.verify import verify
from app.extensions import db
from app.identity.models import Department, User
from app.identity.principal import Principal

SYSTEM_NAME = "系统"
# type -> (step label when the event is not about a task, action)
EVENT_LABELS: dict[str, tuple[str, str]] = {
    "case_accepted": ("窗口受理", "受理"),
    "task_ready": ("", "流转"),
    "task_claimed": ("", "认领"),
    "task_unclaimed": ("", "退回认领"),
    "task_delegated": ("", "转交"),
    "task_completed": ("", "办理"),
    "task_cancelled": ("", "取消"),
    "case_completed": ("办结", "办结"),
    "case_suspended": ("挂起", "挂起"),
    "case_resumed": ("恢复", "恢复"),
    "case_extended": ("延期", "延期"),
    "case_withdrawn": ("撤回", "撤回"),
    "deadlines_recomputed": ("时限重算", "重算时限"),
    "warning_changed": ("电子监察", "预警"),
    "timer_fired": ("定时事件", "定时触发"),
    "evaluation_recorded": ("好差评", "评价"),
    "case_incident": ("流程异常", "异常"),
    "case_closed": ("办结", "流程结束"),
    "document_issued": ("文书", "出具文书"),
    "correction_requested": ("窗口受理", "一次性告知补正"),
    "correction_lapsed": ("窗口受理", "逾期未补正"),
    "application_refused": ("窗口受理", "不予受理"),
    "case_filed": ("电子监察", "否定报备"),
    "task_reassigned": ("", "改派"),
    "timers_rescheduled": ("定时事件", "重排定时"),
    "card_opened": ("电子监察", "发牌"),
    "card_answered": ("电子监察", "书面答复"),
    "card_sent_back": ("电子监察", "退回答复"),
    "card_closed": ("电子监察", "督办办结"),
    "card_escalated": ("电子监察", "督办升级"),
}
CARD_LABELS = {"blue": "蓝牌", "yellow": "黄牌", "red": "红牌"}
WARNING_LABELS = {"ok": "正常", "warning": "预警", "overdue": "超承诺时限（黄牌）", "breach": "超法定时限（红牌）"}
RESULT_LABELS = {"approved": "准予许可", "rejected": "不予许可", "revoked": "撤销"}
STATUS_LABELS = {"in_progress": "办理中", "suspended": "挂起", "completed": "已办结", "withdrawn": "已撤回"}
SUSPENSION_LABELS = {"correction": "补正", "special_procedure": "特别程序"}


def timeline(*, case: Any, events: list[EventLike] | None = None) -> list[dict[str, Any]]:
    """The case's history in order, one entry per event, in Chinese."""
    from app.processes.service import definition

    events = service.chain_events(case_id=case.id) if events is None else events
    titles = {name: spec.title for name, spec in definition(case.process_version_id).human_tasks.items()}
    people = _people({e.actor for e in events} | {(e.payload or {}).get("to") for e in events})
    record, task_names, out = RecordedState(), {}, []
    for event in events:
        p = event.payload or {}
        if event.task_id is not None and p.get("name"):
            task_names[event.task_id] = p["name"]
        record.apply(event)
        name = task_names.get(event.task_id)
        person = people.get(event.actor, {})
        out.append(
            {
                "seq": event.seq,
                "at": event.at,
                "type": event.type,
                "task_id": None if event.task_id is None else str(event.task_id),
                "actor": event.actor,
                "actor_name": person.get("name", event.actor),
                "department": person.get("department"),
                "step": _step(event.type, p, name, titles),
                "action": _action(event.type, p) or EVENT_LABELS.get(event.type, ("", event.type))[1],
                "opinion": _opinion(event.type, p, people),
                "deadline_status": _deadline_status(record),
            }
        )
    return out


def _step(kind: str, p: dict, name: str | None, titles: dict[str, str]) -> str:
    """The step in words: the task's title for task events, else a label of the event."""
    label = EVENT_LABELS.get(kind, (kind, kind))[0]
    if name and (not label or p.get("scope") == "task"):
        return titles.get(name) or name
    return label or kind


def _people(usernames: set[str | None]) -> dict[str, dict[str, str | None]]:
    """Display name and department name of each username (one query)."""
    names = sorted(u for u in usernames if u)
    rows = db.session.execute(
        select(User.username, User.display_name, Department.name)
        .outerjoin(Department, Department.id == User.department_id)
        .where(User.username.in_(names))
    ).all()
    people: dict[str, dict[str, str | None]] = {"system": {"name": SYSTEM_NAME, "department": None}}
    people.update({u: {"name": n, "department": d} for u, n, d in rows})
    return people


def _action(kind: str, p: dict) -> str | None:
    data = p.get("data") or {}
    if kind == "task_completed" and isinstance(data.get("approved"), bool):
        return "审批：准予" if data["approved"] else "审批：不予"
    if kind == "warning_changed" and p.get("scope") == "task":
        return "环节预警"
    return None


def _opinion(kind: str, p: dict, people: dict) -> str | None:
    """What the person wrote or decided, in words."""
    if kind == "task_completed":
        return (p.get("data") or {}).get("opinion")
    if kind == "task_delegated":
        to = people.get(p.get("to"), {}).get("name", p.get("to"))
        return f"转交给{to}：{p.get('reason') or ''}"
    if kind == "case_suspended":
        return f"{SUSPENSION_LABELS.get(p.get('kind'), p.get('kind') or '')}：{p.get('reason') or ''}"
    if kind == "case_resumed":
        return f"{p.get('note') or '恢复计时'}（顺延 {p.get('added_days') or 0} 个工作日）"
    if kind == "case_extended":
        return f"{p.get('reason') or ''}（法定时限延长 {p.get('days') or 0} 个工作日）"
    if kind == "case_completed":
        return RESULT_LABELS.get(p.get("result"), p.get("result"))
    if kind == "warning_changed":
        return f"{WARNING_LABELS.get(p.get('previous'), p.get('previous'))} → {WARNING_LABELS.get(p.get('level'))}"
    if kind == "timer_fired":
        return "、".join(p.get("elements") or [p.get("element") or ""])
    if kind == "document_issued":
        return f"{p.get('title') or ''}（{p.get('number') or ''}）"
    if kind == "task_reassigned":
        to = people.get(p.get("to"), {}).get("name", p.get("to"))
        return f"改派给{to}：{p.get('reason') or ''}"
    if kind == "correction_requested":
        return "；".join(p.get("corrections") or [])
    if kind.startswith("card_"):
        said = p.get("answer") or p.get("note") or p.get("reason") or ""
        return f"{CARD_LABELS.get(p.get('color'), '')}：{said}" if p.get("color") else said
    return p.get("reason") or p.get("level") or p.get("message")


def _deadline_status(record: RecordedState) -> str:
    label = WARNING_LABELS.get(record.warning, record.warning)
    return f"{label}（暂停计时）" if record.clock_stopped and not record.ended else label


def document(*, case: Any, principal: Principal) -> dict[str, Any]:
    """Everything the printable history shows: the case, the timeline, the chain's head and checks."""
    from app.cases.service import mask_id
    from app.matters.service import get as get_matter

    events = service.chain_events(case_id=case.id)
    matter = get_matter(code=case.matter_code)
    chain = verify(case_id=case.id)
    replayed = replay_case(case=case)
    applicant = case.applicant or {}
    return {
        "case": case,
        "matter_name": matter.name if matter else case.matter_code,
        "department_name": _department_name(case.department),
        "applicant_name": applicant.get("name"),
        "applicant_id": mask_id(applicant.get("id_number")),
        "status": STATUS_LABELS.get(case.status, case.status),
        "result": RESULT_LABELS.get(case.result, case.result or "—"),
        "deadline_status": WARNING_LABELS.get(case.warning, case.warning),
        "entries": timeline(case=case, events=events),
        "last_hash": (case.last_hash or b"").hex(),
        "event_seq": case.event_seq,
        "chain": chain.as_dict(),
        "replay": replayed.as_dict(case_id=case.id),
        "printed_at": clock.now(),
        "printed_by": principal.display_name,
    }


def _department_name(code: str) -> str:
    from app.identity.service import get_department

    found = get_department(code=code)
    return found.name if found else code


def local(at: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A time as people read it in the center (Asia/Shanghai)."""
    return at.astimezone(clock.SHANGHAI).strftime(fmt) if at else "—"
