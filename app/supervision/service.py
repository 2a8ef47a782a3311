"""电子监察: timeliness figures per department and matter, the overdue list, and 好差评 evaluations."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import case as when
from sqlalchemy import func, select

from app import clock
from app.audit import service as audit
from app.cases.models import COMPLETED, IN_PROGRESS, SUSPENDED, Case
from app.deadlines import calendar
from app.deadlines.service import LEVELS
from app.deadlines.workdays import local_date
from app.errors import Conflict, Forbidden
from app.extensions import db
from app.identity.principal import Principal
from app.tasks.models import READY, Task, case_columns

EVALUATIONS = {
    "very_satisfied": "非常满意",
    "satisfied": "满意",
    "basically_satisfied": "基本满意",
    "dissatisfied": "不满意",
    "very_dissatisfied": "非常不满意",
}
BAD = ("dissatisfied", "very_dissatisfied")
FOLLOW_UP_DAYS = 5  # working days a department has to answer a bad evaluation


def _scope(principal: Principal) -> list:
    """Supervisors see every department; a leader sees their own."""
    if principal.has_role("supervisor"):
        return []
    if principal.has_role("leader"):
        return [Case.department == principal.department]
    raise Forbidden("需要监察或领导角色 Supervisor or leader role required.")


def summary(*, principal: Principal, since: datetime | None = None) -> dict:
    """Open and completed counts, on-time rate, warning levels and working days used, per department and matter."""
    where = _scope(principal)
    if since is not None:
        where.append(Case.accepted_at >= since)
    return {
        "by_department": _rows(Case.department, where),
        "by_matter": _rows(Case.matter_code, where),
        "generated_at": clock.now(),
    }


def _rows(column, where: list) -> list[dict]:
    open_status = Case.status.in_((IN_PROGRESS, SUSPENDED))
    counts = db.session.execute(
        select(column, Case.warning, open_status.label("open"), Case.status, func.count())
        .where(*where)
        .group_by(column, Case.warning, open_status, Case.status)
    ).all()
    out: dict[str, dict] = defaultdict(
        lambda: {"open": 0, "completed": 0, "withdrawn": 0, "on_time": 0, "levels": dict.fromkeys(LEVELS, 0)}
    )
    for key, warning, is_open, status, n in counts:
        row = out[key]
        if is_open:
            row["open"] += n
            row["levels"][warning] += n
        elif status == COMPLETED:
            row["completed"] += n
        else:
            row["withdrawn"] += n
    _add_completion_figures(column, where, out)
    return [{"key": key, **row} for key, row in sorted(out.items())]


def _add_completion_figures(column, where: list, out: dict) -> None:
    """On-time rate (completed within promised) and average working days used, from completed cases."""
    rows = db.session.execute(
        select(
            column,
            Case.accepted_at,
            Case.completed_at,
            Case.suspended_days,
            Case.promised_days,
            Case.statutory_days,
            when((Case.completed_at <= Case.promised_due, 1), else_=0),
        ).where(*where, Case.status == COMPLETED)
    ).all()
    cal = calendar.current()
    used: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    for key, accepted, completed, suspended, promised, statutory, on_time in rows:
        days = max(cal.workdays_between(local_date(accepted), local_date(completed)) - suspended, 0)
        used[key].append((days, promised, statutory))
        out[key]["on_time"] += on_time
    for key, row in out.items():
        row["on_time_rate"] = round(row["on_time"] / row["completed"], 4) if row["completed"] else None
        figures = used.get(key, [])
        row["avg_days_used"] = round(sum(f[0] for f in figures) / len(figures), 2) if figures else None
        row["avg_promised_days"] = round(sum(f[1] for f in figures) / len(figures), 2) if figures else None
        row["avg_statutory_days"] = round(sum(f[2] for f in figures) / len(figures), 2) if figures else None


def overdue(*, principal: Principal, page: int = 1, per_page: int = 50) -> tuple[list[Case], int]:
    """Running cases past their promised limit (overdue) or statutory limit (breach), most urgent first."""
    where = [*_scope(principal), Case.status.in_((IN_PROGRESS, SUSPENDED)), Case.warning.in_(("overdue", "breach"))]
    total = db.session.scalar(select(func.count()).select_from(Case).where(*where))
    rows = db.session.scalars(
        select(Case).where(*where).order_by(Case.statutory_due, Case.id).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return list(rows), total


def evaluate(*, case_id: int, principal: Principal, level: str, comment: str | None) -> Case:
    """Record the applicant's 好差评 once per completed case; a bad one opens a follow-up task."""
    from app.deadlines.service import step_due
    from app.tasks.service import lock_case

    if not principal.has_role("window"):
        raise Forbidden("评价由窗口代为录入 The front desk records evaluations.")
    case = lock_case(case_id)
    if case.status != COMPLETED:
        raise Conflict("只有已办结的办件可以评价 Only a completed case can be evaluated.")
    if case.evaluation is not None:
        raise Conflict("该办件已评价 The case has already been evaluated.")
    now = clock.now()
    case.evaluation = level
    audit.record(
        case,
        "evaluation_recorded",
        actor=principal.username,
        at=now,
        payload={"level": level, "label": EVALUATIONS[level], "comment": comment},
    )
    if level in BAD:
        due_at, warning_at = step_due(started_at=now, limit_days=FOLLOW_UP_DAYS)
        task = Task(
            case_id=case.id,
            engine_task_id=f"platform:follow-up:{case.id}",
            name="evaluation_follow_up",
            title=f"差评整改回访（{EVALUATIONS[level]}）",
            form="opinion",
            group=f"{case.department}.review",
            state=READY,
            created_at=now,
            limit_days=FOLLOW_UP_DAYS,
            due_at=due_at,
            warning_at=warning_at,
            **case_columns(case),
        )
        db.session.add(task)
        db.session.flush()
        audit.record(
            case,
            "task_ready",
            actor="system",
            task_id=task.id,
            at=now,
            payload={"name": task.name, "group": task.group},
        )
    db.session.flush()
    return case
