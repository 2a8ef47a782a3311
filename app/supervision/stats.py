"""Figures for any period, by department, matter, clerk or month, computed by SQL aggregation.

Two cohorts: cases accepted in the period (accepted, overdue, breach: past the promised / statutory
limit when completed, or now by their warning level while running) and cases completed in the period
(completed, on time, immediate, working days used, evaluations). Refusals at the window are the
period's `refusal` filings. Working days used = working days from acceptance to completion minus
suspended days, summed per group through each day's working-day ordinal (one grouped count per
acceptance and completion day, not a row per case).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta

from sqlalchemy import Date, and_, case, cast, func, or_, select, tuple_

from app.cases.models import COMPLETED, Case
from app.deadlines import calendar
from app.deadlines.workdays import SHANGHAI
from app.errors import Forbidden, Invalid
from app.extensions import db
from app.identity.models import Department, User
from app.identity.principal import Principal
from app.matters.models import Matter
from app.supervision.models import Filing
from app.tasks.models import COMPLETED as TASK_DONE
from app.tasks.models import Task

BY = ("department", "matter", "clerk", "month")
GOOD = ("very_satisfied", "satisfied", "basically_satisfied")
BAD = ("dissatisfied", "very_dissatisfied")
COUNTS = ("accepted", "completed", "on_time", "immediate", "overdue", "breach", "not_accepted")
COUNTS += ("evaluations", "satisfied", "bad", "bad_followed_up", "days_used")
FIGURES = (
    ("label", "分组"),
    ("accepted", "受理件数"),
    ("completed", "办结件数"),
    ("on_time", "按时办结件数"),
    ("on_time_rate", "按时办结率"),
    ("immediate_rate", "即办率"),
    ("overdue", "超期件数"),
    ("breach", "超法定时限件数"),
    ("not_accepted", "不予受理件数"),
    ("avg_working_days", "平均用时（工作日）"),
    ("evaluations", "评价数"),
    ("satisfaction_rate", "满意率"),
    ("bad_followed_up_rate", "差评整改率"),
)


def _local(column, fmt: str):
    """The Asia/Shanghai day (fmt "day") or month ("month") of a timestamp column: a date (PostgreSQL,
    a cheap cast) or ISO text (SQLite); `_text` makes either the same text."""
    if db.engine.dialect.name == "postgresql":
        local = func.timezone("Asia/Shanghai", column)
        return cast(local if fmt == "day" else func.date_trunc("month", local), Date)
    return func.strftime("%Y-%m-%d" if fmt == "day" else "%Y-%m", column, "+8 hours")


def _text(value, fmt: str = "month"):
    """A group key as text: a month as YYYY-MM; anything else as it is."""
    if isinstance(value, date):
        return value.strftime("%Y-%m") if fmt == "month" else value.isoformat()
    return value


def _key(by: str, model, when_column):
    if by == "month":
        return _local(when_column, "month")
    columns = {
        "department": model.department,
        "matter": model.matter_code,
        "clerk": model.accepted_by if model is Case else model.filed_by,
    }
    return columns[by]


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return datetime.combine(start, time.min, SHANGHAI), datetime.combine(end + timedelta(days=1), time.min, SHANGHAI)


def _n(condition) -> object:
    return func.sum(case((condition, 1), else_=0))


def figures(*, principal: Principal, start: date, end: date, by: str) -> dict:
    """The period's figures grouped `by` (department, matter, clerk or month), with labels and a total."""
    if not principal.has_role("supervisor", "auditor", "leader"):
        raise Forbidden("需要监察、审计或领导角色 Supervisor, auditor or leader role required.")
    if by not in BY:
        raise Invalid(f"by 须为 {' | '.join(BY)}", errors={"by": list(BY)})
    if end < start:
        raise Invalid("结束日期早于开始日期 The period ends before it starts.", errors={"to": ["< from"]})
    scope = []
    if not principal.has_role("supervisor", "auditor"):
        scope = [Case.department == principal.department]
    lo, hi = _bounds(start, end)
    raw: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTS, 0))
    _accepted(raw, by, scope, lo, hi)
    _completed(raw, by, scope, lo, hi)
    _refused(raw, by, principal, lo, hi)
    labels = _labels(by, raw.keys())
    rows = [_row(key, labels.get(key, key), counts) for key, counts in sorted(raw.items(), key=lambda i: str(i[0]))]
    total = dict.fromkeys(COUNTS, 0)
    for counts in raw.values():
        for name in COUNTS:
            total[name] += counts[name]
    return {"from": start, "to": end, "by": by, "rows": rows, "total": _row("total", "合计", total)}


def _accepted(raw: dict, by: str, scope: list, lo: datetime, hi: datetime) -> None:
    key = _key(by, Case, Case.accepted_at)
    done, running = Case.status == COMPLETED, Case.completed_at.is_(None)
    overdue = or_(
        and_(done, Case.completed_at > Case.promised_due), and_(running, Case.warning.in_(("overdue", "breach")))
    )
    breach = or_(and_(done, Case.completed_at > Case.statutory_due), and_(running, Case.warning == "breach"))
    for k, accepted, n_overdue, n_breach in db.session.execute(
        select(key, func.count(), _n(overdue), _n(breach))
        .where(*scope, Case.accepted_at >= lo, Case.accepted_at < hi, Case.status != "withdrawn")
        .group_by(key)
    ):
        raw[_text(k)].update(accepted=accepted, overdue=n_overdue or 0, breach=n_breach or 0)


def _completed(raw: dict, by: str, scope: list, lo: datetime, hi: datetime) -> None:
    key = _key(by, Case, Case.completed_at)
    followed = (
        select(Task.id)
        .where(Task.case_id == Case.id, Task.name == "evaluation_follow_up", Task.state == TASK_DONE)
        .exists()
    )
    period = (*scope, Case.status == COMPLETED, Case.completed_at >= lo, Case.completed_at < hi)
    query = (
        select(
            key,
            func.count(),
            _n(Case.completed_at <= Case.promised_due),
            _n(Case.matter_code.in_(_immediate_matters())),
            func.count(Case.evaluation),
            _n(Case.evaluation.in_(GOOD)),
            _n(Case.evaluation.in_(BAD)),
            func.sum(case((Case.evaluation.in_(BAD), case((followed, 1), else_=0)), else_=0)),
            func.sum(Case.suspended_days),
        )
        .where(*period)
        .group_by(key)
    )
    names = ("completed", "on_time", "immediate", "evaluations", "satisfied", "bad", "bad_followed_up")
    for k, *values, suspended in db.session.execute(query):
        raw[_text(k)].update({n: v or 0 for n, v in zip(names, values, strict=True)})
        raw[_text(k)]["days_used"] -= suspended or 0
    cal = calendar.current()
    for k, d, n, sign in _days(key, period):
        raw[_text(k)]["days_used"] += sign * n * cal.workdays_between(date(1, 1, 1), _as_date(d))


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _days(key, period: tuple) -> list[tuple]:
    """(group, local day, cases, +1 for completion days / -1 for acceptance days): one scan on PostgreSQL
    (GROUPING SETS), two grouped queries on SQLite."""
    done, accepted = _local(Case.completed_at, "day"), _local(Case.accepted_at, "day")
    if db.engine.dialect.name == "postgresql":
        query = (
            select(key, done, accepted, func.count(), func.grouping(done))
            .where(*period)
            .group_by(func.grouping_sets(tuple_(key, done), tuple_(key, accepted)))
        )
        return [(k, a if g else d, n, -1 if g else 1) for k, d, a, n, g in db.session.execute(query)]
    out = []
    for day, sign in ((done, 1), (accepted, -1)):
        out += [
            (k, d, n, sign)
            for k, d, n in db.session.execute(select(key, day, func.count()).where(*period).group_by(key, day))
        ]
    return out


def _immediate_matters() -> list[str]:
    """Codes of the 即办件 matters (a handful: read once per call rather than joined per case)."""
    return list(db.session.scalars(select(Matter.code).where(Matter.kind == "immediate"))) or [""]


def _refused(raw: dict, by: str, principal: Principal, lo: datetime, hi: datetime) -> None:
    key = _key(by, Filing, Filing.filed_at)
    scope = [] if principal.has_role("supervisor", "auditor") else [Filing.department == principal.department]
    for k, n in db.session.execute(
        select(key, func.count())
        .where(*scope, Filing.kind == "refusal", Filing.filed_at >= lo, Filing.filed_at < hi)
        .group_by(key)
    ):
        raw[_text(k)]["not_accepted"] = n


def _labels(by: str, keys) -> dict:
    keys = [k for k in keys if k is not None]
    if by == "department":
        return dict(db.session.execute(select(Department.code, Department.name).where(Department.code.in_(keys))).all())
    if by == "matter":
        return dict(db.session.execute(select(Matter.code, Matter.name).where(Matter.code.in_(keys))).all())
    if by == "clerk":
        return dict(db.session.execute(select(User.username, User.display_name).where(User.username.in_(keys))).all())
    return {k: f"{k[:4]}年{int(k[5:7])}月" for k in keys}


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _row(key: str, label: str, c: dict) -> dict:
    return {
        "key": key,
        "label": label,
        "accepted": c["accepted"],
        "completed": c["completed"],
        "on_time": c["on_time"],
        "on_time_rate": _rate(c["on_time"], c["completed"]),
        "immediate_rate": _rate(c["immediate"], c["completed"]),
        "overdue": c["overdue"],
        "breach": c["breach"],
        "not_accepted": c["not_accepted"],
        "avg_working_days": round(c["days_used"] / c["completed"], 2) if c["completed"] else None,
        "evaluations": c["evaluations"],
        "satisfaction_rate": _rate(c["satisfied"], c["evaluations"]),
        "bad_followed_up_rate": _rate(c["bad_followed_up"], c["bad"]),
    }
