"""审计 `/audit` (the chain verification and a way to a case) and `/audit/cases/<id>` (one case's replay
step by step with the path on the diagram; the printable history at `/audit/cases/<id>/history`)."""

from __future__ import annotations

import json

from flask import Response, redirect, render_template, request, url_for
from sqlalchemy import select

from app.audit import history, replay
from app.audit import service as audit
from app.audit.verify import verify
from app.cases import service as cases
from app.cases.models import Case
from app.errors import Forbidden
from app.extensions import db
from app.web.blueprint import bp
from app.web.support import principal

AUDITORS = ("auditor", "supervisor")
HISTORY_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'"


def _require_auditor() -> None:
    if not principal().has_role(*AUDITORS):
        raise Forbidden("需要审计角色 Auditor role required.")


@bp.route("/audit")
def audit_page():
    """Run the chain verification over every case and show it; find a case by number or id."""
    _require_auditor()
    wanted = (request.args.get("case") or "").strip()
    if wanted:
        found = db.session.scalar(select(Case.id).where(Case.number == wanted))
        if found is None and wanted.isdigit():
            found = int(wanted)
        if found is not None:
            return redirect(url_for("web.audit_case", case_id=found))
    recent = db.session.scalars(select(Case).order_by(Case.id.desc()).limit(20)).all()
    return render_template("web/audit.html", report=verify().as_dict(), recent=recent, wanted=wanted)


def _path(events: list, upto: int) -> tuple[list[str], list[str]]:
    """Element ids of the steps done up to event `upto`, and of the end reached (if any)."""
    done, ends = [], []
    for e in events:
        if e.seq > upto:
            break
        payload = e.payload or {}
        if e.type == "task_completed" and payload.get("name"):
            done.append(payload["name"])
        if e.type in ("case_completed", "case_closed") and payload.get("end"):
            ends.append(payload["end"])
    return done, ends


@bp.route("/audit/cases/<int:case_id>")
def audit_case(case_id: int):
    """One case's replay: the state after event N (open tasks, data, deadlines), the path on the diagram."""
    _require_auditor()
    case = cases.get_visible(case_id=case_id, principal=principal())
    events = audit.chain_events(case_id=case.id)
    last = events[-1].seq if events else 0
    upto = min(max(request.args.get("upto", last, type=int), 1), last) if last else 0
    whole = replay.replay_case(case=case)
    at_n = replay.replay_case(case=case, upto=upto) if last else None
    state = (at_n.state or {}) if at_n else {}
    done, ends = _path(events, upto)
    current = [t["name"] for t in state.get("open_tasks", [])]
    return render_template(
        "web/audit_case.html",
        case=case,
        events=events,
        upto=upto,
        last=last,
        replay=whole.as_dict(case_id=case.id),
        chain=verify(case_id=case.id).as_dict(),
        state=state,
        data_json=json.dumps(state.get("data", {}), ensure_ascii=False, indent=2, default=str),
        diagram_url=url_for("web.diagram", case_id=case.id),
        diagram_done=json.dumps(sorted(set(done + ends)), ensure_ascii=False),
        diagram_current=json.dumps(current, ensure_ascii=False),
        path=done + ends,
        event_at=next((e for e in events if e.seq == upto), None),
    )


@bp.route("/audit/cases/<int:case_id>/history")
def audit_history(case_id: int):
    """The printable history (A4): every step, person, time and opinion, the chain's head and checks."""
    me = principal()
    case = cases.get_visible(case_id=case_id, principal=me)
    page = render_template("audit/history.html", local=history.local, **history.document(case=case, principal=me))
    # The printable document carries its own print styles inline and no script at all.
    return Response(page, mimetype="text/html", headers={"Content-Security-Policy": HISTORY_CSP})


@bp.route("/favicon.ico")
def favicon():
    """Documents without an icon link (the printable history) get the platform's icon."""
    return redirect(url_for("web.static", filename="favicon.svg"))
