"""电子监察 `/supervision`: the period's figures and charts, open cards, the overdue list, filings to
review, exports; `/supervision/reports/<YYYY-MM>` the printable monthly report; `/supervision/cards`
where a department answers its cards."""

from __future__ import annotations

import json
from datetime import date, timedelta

from flask import Response, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app import clock
from app.cases.models import Case
from app.errors import Forbidden
from app.extensions import db
from app.identity.models import Department
from app.supervision import cards, exports, filings, stats
from app.supervision import service as supervision
from app.supervision.filings import KIND_LABELS
from app.web.blueprint import bp
from app.web.support import attempt_or_flash, principal

COLOR_LABELS = cards.COLOR_LABELS
CARD_STATES = {"open": "待答复", "answered": "已答复", "closed": "已办结"}
FILING_STATES = {"pending": "待审查", "accepted": "已认可", "questioned": "已质疑"}


def _today() -> date:
    return clock.now().astimezone(clock.SHANGHAI).date()


def _period() -> tuple[date, date, str]:
    """The period picked on the page (default: this month up to today) and the grouping."""
    today = _today()
    try:
        start = date.fromisoformat(request.args.get("from") or today.replace(day=1).isoformat())
        end = date.fromisoformat(request.args.get("to") or today.isoformat())
    except ValueError:
        start, end = today.replace(day=1), today
    by = request.args.get("by", "department")
    return start, end, by if by in stats.BY else "department"


def _department_names() -> dict[str, str]:
    return dict(db.session.execute(select(Department.code, Department.name)).all())


def _case_numbers(*groups) -> dict[int, str]:
    """The receipt numbers (受理编号) of the cases the cards and filings shown name: people know a case
    by its number, not by its id."""
    ids = {row.case_id for group in groups for row in group if row.case_id is not None}
    if not ids:
        return {}
    return dict(db.session.execute(select(Case.id, Case.number).where(Case.id.in_(ids))).all())


def _require_supervisor() -> None:
    if not principal().has_role("supervisor", "leader"):
        raise Forbidden("需要电子监察或领导角色 Supervisor or leader role required.")


def _charts(start: date, end: date) -> str:
    """Chart data (JSON for static/supervision.js): on-time rate and volumes by month and by department."""
    me = principal()
    months = stats.figures(
        principal=me, start=min(start, end.replace(day=1) - timedelta(days=330)), end=end, by="month"
    )
    departments = stats.figures(principal=me, start=start, end=end, by="department")
    pick = ("label", "accepted", "completed", "on_time_rate", "overdue")
    return json.dumps(
        {
            name: [{k: r[k] for k in pick} for r in result["rows"]]
            for name, result in (("months", months), ("departments", departments))
        },
        ensure_ascii=False,
    )


@bp.route("/supervision")
def supervision_page():
    """The supervisor's month: figures, cards, overdue cases, filings, charts, exports."""
    _require_supervisor()
    me = principal()
    start, end, by = _period()
    today = _today()
    overdue, overdue_total = supervision.overdue(principal=me, per_page=20)
    pending, pending_total = (
        filings.list_filings(principal=me, state="pending", per_page=20) if me.has_role("supervisor") else ([], 0)
    )
    open_cards, _ = cards.list_cards(principal=me, state="open", per_page=30)
    answered, _ = cards.list_cards(principal=me, state="answered", per_page=30)
    return render_template(
        "web/supervision.html",
        start=start,
        end=end,
        by=by,
        by_labels=exports.BY_LABELS,
        figures=stats.figures(principal=me, start=start, end=end, by=by),
        today=stats.figures(principal=me, start=today, end=today, by="department")["total"],
        by_color=cards.open_by_color_and_department(),
        dept_names=_department_names(),
        open_cards=open_cards,
        answered=answered,
        case_numbers=_case_numbers(open_cards, answered, pending),
        overdue=overdue,
        overdue_total=overdue_total,
        pending=pending,
        pending_total=pending_total,
        charts=_charts(start, end),
        color_labels=COLOR_LABELS,
        kind_labels=KIND_LABELS,
        month=end.strftime("%Y-%m"),
    )


@bp.route("/supervision/export.<any(csv, xlsx):fmt>")
def supervision_export(fmt: str):
    """The period's figures as a CSV or XLSX download (the same rows as the API's export)."""
    start, end, by = _period()
    result = stats.figures(principal=principal(), start=start, end=end, by=by)
    body = exports.to_csv(result) if fmt == "csv" else exports.to_xlsx(result)
    mime = (
        "text/csv; charset=utf-8"
        if fmt == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    disposition = f"attachment; filename={exports.filename(result, fmt)}"
    return Response(body, mimetype=mime, headers={"Content-Disposition": disposition})


@bp.route("/supervision/reports/<int:year>-<int:month>")
def supervision_report(year: int, month: int):
    """The printable monthly report: each department's figures for the month, and its cards."""
    if not 1 <= month <= 12 or not 2000 <= year <= 2100:
        abort(404)
    start = date(year, month, 1)
    end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    result = stats.figures(principal=principal(), start=start, end=end, by="department")
    return render_template(
        "web/supervision_report.html",
        year=year,
        month=month,
        figures=result,
        by_color=cards.open_by_color_and_department(),
        dept_names=_department_names(),
        color_labels=COLOR_LABELS,
        generated=clock.now(),
    )


@bp.route("/supervision/cards", methods=["GET", "POST"])
def supervision_cards():
    """督办牌: a department's cards to answer (supervisors see all); a supervisor issues one (POST)."""
    me = principal()
    if request.method == "POST":
        form = request.form
        body = {
            "case_id": int(form.get("case_id") or 0),
            "task_id": None,
            "color": form.get("color", "yellow"),
            "reason": form.get("reason", ""),
            "answer_days": int(form.get("answer_days") or 3),
        }
        card, _ = attempt_or_flash(cards.issue, principal=me, **body)
        if card is not None:
            flash(f"已发出督办（{COLOR_LABELS[card.color]}）", "success")
        return redirect(request.form.get("next") or url_for("web.supervision_page"))
    items, total = cards.list_cards(principal=me, per_page=100)
    return render_template(
        "web/supervision_cards.html",
        items=items,
        total=total,
        case_numbers=_case_numbers(items),
        color_labels=COLOR_LABELS,
        card_states=CARD_STATES,
    )


@bp.route("/supervision/cards/<int:card_id>/<any(answer, close, send_back):action>", methods=["POST"])
def supervision_card_action(card_id: int, action: str):
    """Answer (the department), close or send back (a supervisor) one card."""
    me = principal()
    if action == "answer":
        done, _ = attempt_or_flash(cards.answer, principal=me, card_id=card_id, answer=request.form.get("answer", ""))
        if done is not None:
            flash("答复已提交", "success")
        return redirect(url_for("web.supervision_cards"))
    call = cards.close if action == "close" else cards.send_back
    done, _ = attempt_or_flash(call, principal=me, card_id=card_id, note=request.form.get("note") or None)
    if done is not None:
        flash("督办牌已办结" if action == "close" else "督办答复已退回", "success")
    return redirect(url_for("web.supervision_page"))


@bp.route("/supervision/filings/<int:filing_id>/review", methods=["POST"])
def supervision_filing_review(filing_id: int):
    """A supervisor accepts or questions a filing (questioned: a card to the department)."""
    verdict = request.form.get("verdict", "")
    done, _ = attempt_or_flash(
        filings.review, principal=principal(), filing_id=filing_id, verdict=verdict, note=request.form.get("note")
    )
    if done is not None:
        flash("报备已认可" if verdict == "accepted" else "报备已质疑，已向部门发出督办牌", "success")
    return redirect(url_for("web.supervision_page"))
