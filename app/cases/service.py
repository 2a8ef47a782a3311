"""Cases (办件): accept an application, store its workflow, list and show cases."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from app import clock
from app.audit import service as audit
from app.cases import fan_out
from app.cases.models import COMPLETED, IN_PROGRESS, Case
from app.deadlines import service as deadlines
from app.engine.runtime import EngineError, Run
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.extensions import db
from app.identity.principal import Principal
from app.matters import service as matters
from app.processes import service as processes
from app.tasks import service as tasks
from app.tasks.models import OPEN_STATES, Task

SEE_ALL = ("window", "supervisor", "auditor")
SEE_ID_NUMBER = ("window",)


def get(*, case_id: int) -> Case | None:
    """The case with this id, or None."""
    return db.session.get(Case, case_id)


def get_visible(*, case_id: int, principal: Principal) -> Case:
    """A case the principal may see: front desk, supervisors and auditors see all; others their department's."""
    case = get(case_id=case_id)
    if case is None:
        raise NotFound(f"办件 {case_id} 不存在 No such case.")
    if not (principal.has_role(*SEE_ALL) or case.department == principal.department or _works_on(case, principal)):
        raise Forbidden("无权查看其他部门的办件 The case belongs to another department.")
    return case


def _works_on(case: Case, principal: Principal) -> bool:
    """True when one of the principal's groups holds or held a task of the case (a joint review)."""
    if not principal.groups:
        return False
    found = db.session.scalar(
        select(Task.id).where(Task.case_id == case.id, Task.group.in_(sorted(principal.groups))).limit(1)
    )
    return found is not None


def accept(*, principal: Principal, matter_code: str, applicant: dict, materials: list[dict], data: dict) -> Case:
    """受理: check the materials, pin the published process version and limits, start the workflow, audit."""
    if not principal.has_role("window"):
        raise Forbidden("只有窗口人员可以受理 Only front-desk staff can accept applications.")
    matter = matters.get_or_raise(code=matter_code)
    deferred = _check_materials(matter.materials, materials)
    version = processes.published(key=matter.process_key)
    if version is None:
        raise Conflict(f"事项 {matter.code} 的流程尚未发布 The matter's process is not published.")
    definition = processes.definition(version.id)
    fan_out.check(definition, {**matter.process_data, **data})
    now = clock.now()
    due = deadlines.due_dates(
        accepted_at=now,
        statutory_days=matter.statutory_days,
        promised_days=matter.promised_days,
        warning_days=matter.warning_days,
    )
    case = Case(
        matter_code=matter.code,
        department=matter.department,
        process_version_id=version.id,
        status=IN_PROGRESS,
        applicant=applicant,
        materials=materials,
        accepted_at=now,
        accepted_by=principal.username,
        statutory_days=matter.statutory_days,
        promised_days=matter.promised_days,
        **due,
    )
    db.session.add(case)
    db.session.flush()
    case.number = f"YC{now.astimezone(clock.SHANGHAI):%Y%m%d}{case.id:07d}"
    start_data = {**matter.process_data, **data, "matter_code": matter.code, "materials_deferred": deferred}
    try:
        run = Run.start(definition, start_data, at=now, facts=facts(case))
    except EngineError as exc:
        raise tasks.CaseIncident(str(exc), element=exc.element) from exc
    audit.record(
        case,
        "case_accepted",
        actor=principal.username,
        at=now,
        payload={
            "number": case.number,
            "matter_code": matter.code,
            "process_key": version.key,
            "process_version": version.version,
            "process_hash": version.hash,
            "data": start_data,
            "deadlines": deadline_payload(case),
        },
    )
    tasks.sync(case=case, run=run, actor=principal.username, now=now, open_rows=[])
    store_run(case, run, actor=principal.username, now=now)
    return case


def deadline_payload(case: Case) -> dict:
    """The case's deadlines as an event records them."""
    return {
        "statutory_due": case.statutory_due.isoformat(),
        "promised_due": case.promised_due.isoformat(),
        "provisional": case.provisional,
    }


def _check_materials(catalog: list[dict], provided: list[dict]) -> list[str]:
    """Missing required materials that cannot be deferred -> 422 naming them; returns those deferred."""
    known = {m["name"] for m in catalog}
    unknown = sorted({m["name"] for m in provided} - known)
    if unknown:
        raise Invalid("存在目录外的材料 Unknown materials.", errors={"materials": [f"未知材料 {n}" for n in unknown]})
    present = {m["name"] for m in provided if m.get("provided")}
    missing = [m["name"] for m in catalog if m["required"] and not m["deferrable"] and m["name"] not in present]
    if missing:
        raise Invalid(
            f"缺少必要材料：{'、'.join(missing)} Required materials are missing.",
            errors={"materials": [f"缺少 {n}" for n in missing]},
            missing=missing,
        )
    return [m["name"] for m in catalog if m["required"] and m["deferrable"] and m["name"] not in present]


def load_run(case: Case) -> Run:
    """The case's workflow, loaded on its pinned process version."""
    return Run.load(processes.definition(case.process_version_id), case.state, case.state_format, facts=facts(case))


def reschedule(case: Case, *, actor: str, now: datetime, run: Run | None = None) -> None:
    """The case's deadlines moved: re-evaluate its date timers on them (and fire any now due).

    With `run` (a workflow already in memory, stored by the caller) that run is used; otherwise the
    case's workflow is loaded and stored here. One `timers_rescheduled` event records the new facts,
    so a replay reschedules at the same point.
    """
    own = run is None
    run = run or load_run(case)
    run.facts = facts(case)
    try:
        moved, fired = run.reschedule_timers(at=now)
    except EngineError as exc:
        raise tasks.CaseIncident(str(exc), element=exc.element, case_id=str(case.id)) from exc
    if not moved:
        return
    audit.record(case, "timers_rescheduled", actor=actor, at=now, payload={"elements": moved, "facts": run.facts})
    if fired:
        audit.record(case, "timer_fired", actor="system", at=now, payload={"elements": fired})
    if own:  # otherwise the caller syncs the tasks and stores the run
        if fired:
            tasks.sync(case=case, run=run, actor="system", now=now)
        store_run(case, run, actor=actor, now=now)


def facts(case: Case) -> dict:
    """What expressions may know about the case (see app/deadlines/functions.py)."""
    return {
        "promised_due": case.promised_due.isoformat(),
        "statutory_due": case.statutory_due.isoformat(),
        "accepted_at": case.accepted_at.isoformat(),
    }


def store_run(case: Case, run: Run, *, actor: str, now: datetime) -> None:
    """Write the workflow state back to the case; close the case when the process has ended."""
    case.state, case.state_format = run.dump()
    case.next_timer_at = run.next_timer_due()
    if run.completed and case.end_event is None:
        end, result = run.end_reached(), run.result()
        case.end_event, case.clock_stopped_since = end, None
        if case.status != COMPLETED:
            close(case, result=result, actor=actor, now=now, end=end)
        else:
            # Decided earlier (办结); the steps after the decision (a commitment's verification) ended.
            # The result may change: an approval revoked (撤销) on a false pledge.
            final = result or case.result
            audit.record(
                case, "case_closed", actor=actor, at=now, payload={"previous": case.result, "result": final, "end": end}
            )
            case.result = final
    db.session.flush()


def close(
    case: Case, *, result: str | None, actor: str, now: datetime, end: str | None, continues: bool = False
) -> None:
    """办结: the decision is made; the clocks and the warning sweep stop for this case.

    `continues`: decided at a step (`end` is its element id) while the workflow runs on.
    """
    case.status, case.result, case.completed_at, case.clock_stopped_since = COMPLETED, result, now, None
    payload = {"result": result, "end": end}
    if continues:
        payload["continues"] = True
    audit.record(case, "case_completed", actor=actor, at=now, payload=payload)


def list_cases(
    *,
    principal: Principal,
    status: str | None = None,
    matter_code: str | None = None,
    warning: str | None = None,
    department: str | None = None,
    number: str | None = None,
    applicant_name: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> tuple[list[Case], int]:
    """A filtered page of the cases the principal may see, newest first (number, applicant: whole values)."""
    where = []
    if not principal.has_role(*SEE_ALL):
        where.append(Case.department == principal.department)
    for column, value in (
        (Case.status, status),
        (Case.matter_code, matter_code),
        (Case.warning, warning),
        (Case.department, department),
        (Case.number, number),
        (Case.applicant["name"].as_string(), applicant_name),
    ):
        if value is not None:
            where.append(column == value)
    total = db.session.scalar(select(func.count()).select_from(Case).where(*where))
    rows = db.session.scalars(
        select(Case).where(*where).order_by(Case.id.desc()).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return list(rows), total


def open_tasks(case_ids: list[int]) -> dict[int, list[Task]]:
    """The open tasks of several cases in one query."""
    out: dict[int, list[Task]] = {cid: [] for cid in case_ids}
    if case_ids:
        for row in db.session.scalars(
            select(Task).where(Task.case_id.in_(case_ids), Task.state.in_(OPEN_STATES)).order_by(Task.id)
        ):
            out[row.case_id].append(row)
    return out


def page(rows: list[Case], total: int, principal: Principal) -> dict:
    """A page of cases as the API lists them, their open tasks read in one query."""
    open_rows = open_tasks([c.id for c in rows])
    return {"items": [view(c, principal, open_rows[c.id]) for c in rows], "total": total}


def view(case: Case, principal: Principal, open_rows: list[Task]) -> dict:
    """The api.md shape of a case, the applicant's id number masked unless the role needs it."""
    applicant = dict(case.applicant)
    if "id_number" in applicant and not principal.has_role(*SEE_ID_NUMBER):
        applicant["id_number"] = mask_id(applicant["id_number"])
    return {
        "id": str(case.id),
        "number": case.number,
        "matter_code": case.matter_code,
        "department": case.department,
        "status": case.status,
        "result": case.result,
        "accepted_at": case.accepted_at,
        "completed_at": case.completed_at,
        "applicant": applicant,
        "materials": case.materials,
        "deadlines": {
            "statutory_due": case.statutory_due,
            "promised_due": case.promised_due,
            "suspended_days": case.suspended_days,
            "extended_days": case.extended_days,
            "provisional": case.provisional,
        },
        "warning": case.warning,
        "evaluation": case.evaluation,
        "incident": case.incident,
        "open_tasks": [
            {
                "id": str(t.id),
                "name": t.name,
                "title": t.title,
                "group": t.group,
                "assignee": t.assignee,
                "state": t.state,
            }
            for t in open_rows
        ],
    }


def mask_id(value: str | None) -> str | None:
    """Mask an id number, keeping the first 4 and last 4 characters."""
    if not value:
        return value
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]
