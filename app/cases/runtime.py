"""The case runtime: every change of a case's workflow passes here, as one step transaction.

    lock the case -> load its workflow -> run the engine -> sync the task rows -> reschedule
    deadlines -> record events -> store the state

Accepting, completing, firing timers (app/deadlines/jobs.py), rescheduling on moved deadlines and
withdrawing all go through these functions. Tasks, deadlines and audit are services this module
calls; none of them imports the cases package back (tests/test_imports.py checks the graph).
The hot path (complete) reads the case row, its open tasks and its stored state in one locking
statement (app/cases/locks.py) and, on PostgreSQL, writes the step in one statement at the end
(app/cases/writeback.py); the task rows follow the engine through app/cases/task_rows.py (see
docs/design.md).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, bindparam, func, insert, select, update

from app import clock
from app.audit import service as audit
from app.cases import fan_out, papers, writeback
from app.cases import service as cases
from app.cases.locks import lock_step
from app.cases.models import COMPLETED, IN_PROGRESS, Case, CaseState
from app.cases.task_rows import close_special_procedure, sync
from app.deadlines import service as deadlines
from app.engine.runtime import EngineError, Run
from app.errors import CaseIncident, Conflict, Forbidden, NotFound
from app.extensions import db, row_values, run_core
from app.identity.principal import Principal
from app.matters import service as matters
from app.matters.models import Matter
from app.processes import service as processes
from app.processes.models import PUBLISHED, ProcessVersion
from app.supervision import filings
from app.tasks import forms
from app.tasks import service as tasks
from app.tasks.models import CANCELLED, CLAIMED, OPEN_STATES, Task
from app.tasks.models import COMPLETED as TASK_DONE
from app.tasks.service import PLATFORM_TASK

STATE = CaseState.__table__


def accept(
    *,
    principal: Principal,
    matter_code: str,
    applicant: dict,
    materials: list[dict],
    data: dict,
    pending: Case | None = None,
) -> Case:
    """受理: check the materials, pin the published process version and limits, start the workflow, audit.

    `pending`: a case awaiting correction (补正), locked by the caller: accepted now, its clocks start now.
    """
    if not principal.has_role("window"):
        raise Forbidden("只有窗口人员可以受理 Only front-desk staff can accept applications.")
    matter, version = _matter_and_version(matter_code)
    deferred = cases.check_materials(matter.materials, materials)
    definition = processes.definition(version.id)
    fan_out.check(definition, {**matter.process_data, **data})
    now = clock.now()
    values = _case_values(matter, version.id, principal, applicant, materials, now)
    case = pending or Case()
    for column, value in values.items():
        setattr(case, column, value)
    start_data = {**matter.process_data, **data, "matter_code": matter.code, "materials_deferred": deferred}
    try:
        run = Run.start(definition, start_data, at=now, facts=facts(case))
    except EngineError as exc:
        raise CaseIncident(str(exc), element=exc.element) from exc
    case.next_timer_at = run.next_timer_due()
    # PostgreSQL, a new case: its id and its first task's id are drawn first, and the case row goes out
    # whole with its tasks, papers, state and events in one write at the end (writeback.store_new).
    one_write = pending is None and writeback.applies()
    task_ids = None
    if pending is None and db.engine.dialect.name == "postgresql":
        drawn = run_core(_NEXT_CASE_AND_TASK_ID).one()
        case.id, case.number = drawn.case_id, number(drawn.case_id, now)
        task_ids = [drawn.task_id] if one_write else None
    db.session.add(case)
    if one_write:
        row_values(case)  # its columns' defaults set now (the chain starts from them): the INSERT is last
    else:
        db.session.flush()
        case.number = case.number or number(case.id, now)
    payload = {"number": case.number, "matter_code": matter.code, "process_key": version.key}
    payload |= {"process_version": version.version, "process_hash": version.hash, "data": start_data}
    with db.session.no_autoflush:  # the writes go out together, at the end
        audit.record(case, "case_accepted", actor=principal.username, at=now, payload=payload | _deadlines(case))
        created = sync(case=case, run=run, actor=principal.username, now=now, open_rows=[], task_ids=task_ids)
        # 受理通知书 (and 容缺受理告知书): issued in the step, so that one write carries the case and its papers.
        supplement_due = next((t.due_at for t in created if _is_supplement(run, t)), None)
        issued = papers.accepted(
            case, actor=principal.username, deferred=deferred, supplement_due=supplement_due, matter=matter
        )
        store_run(case, run, actor=principal.username, now=now, new=True)
    # What the acceptance's answer lists, known here: its open tasks and (a new case) all its papers.
    case.open_after_accept = sorted(created, key=lambda t: t.id)
    case.papers_issued = issued if pending is None else None  # a corrected case has its notice as well
    return case


def _is_supplement(run: Run, row: Task) -> bool:
    """A step where deferred materials are supplied (补齐容缺材料): its form lists materials (or, in a
    version made before forms were declared, its form kind says so)."""
    spec = run.definition.human_tasks.get(row.name)
    fields = spec.fields if spec is not None else None
    return row.form == "supplement" or any(f.type == "materials" for f in fields or ())


_NEXT_CASE_AND_TASK_ID = select(  # built once
    func.nextval(func.pg_get_serial_sequence("cases", "id")).label("case_id"),
    func.nextval(func.pg_get_serial_sequence("tasks", "id")).label("task_id"),
)
_MATTER_AND_VERSION = (  # built once: the matter and the version its new cases start on, one read
    select(Matter, ProcessVersion)
    .outerjoin(ProcessVersion, and_(ProcessVersion.key == Matter.process_key, ProcessVersion.state == PUBLISHED))
    .where(Matter.code == bindparam("p_code"))
)


def _matter_and_version(code: str) -> tuple[Matter, ProcessVersion]:
    """The matter (404 when unknown) and its published process version (409 when none is)."""
    row = db.session.execute(_MATTER_AND_VERSION, {"p_code": code}).first()
    if row is None:
        matters.get_or_raise(code=code)  # its 404
    if row.ProcessVersion is None:
        return row.Matter, published_version(row.Matter)  # its 409
    return row.Matter, row.ProcessVersion


def published_version(matter):
    """The matter's published process version (409 when none is)."""
    version = processes.published(key=matter.process_key)
    if version is None:
        raise Conflict(f"事项 {matter.code} 的流程尚未发布 The matter's process is not published.")
    return version


def _case_values(
    matter, version_id: int, principal: Principal, applicant: dict, materials: list, now: datetime
) -> dict:
    """The columns of a case of `matter` accepted now: its limits pinned and its due dates computed."""
    due = deadlines.due_dates(
        accepted_at=now,
        statutory_days=matter.statutory_days,
        promised_days=matter.promised_days,
        warning_days=matter.warning_days,
    )
    return dict(
        matter_code=matter.code,
        department=matter.department,
        process_version_id=version_id,
        status=IN_PROGRESS,
        applicant=applicant,
        materials=materials,
        accepted_at=now,
        accepted_by=principal.username,
        statutory_days=matter.statutory_days,
        promised_days=matter.promised_days,
        **due,
    )


def number(case_id: int, now: datetime) -> str:
    """The receipt number (受理编号): the acceptance day in Beijing and the case id."""
    return f"YC{now.astimezone(clock.SHANGHAI):%Y%m%d}{case_id:07d}"


def _deadlines(case: Case) -> dict:
    return {"deadlines": cases.deadline_payload(case)}


def facts(case: Case) -> dict:
    """What expressions may know about the case (see app/deadlines/functions.py)."""
    return {
        "promised_due": case.promised_due.isoformat(),
        "statutory_due": case.statutory_due.isoformat(),
        "accepted_at": case.accepted_at.isoformat(),
    }


def stored_state(case_id: int) -> tuple[bytes, str] | None:
    """The case's stored workflow state and its serializer version (None: the case has none)."""
    row = db.session.execute(select(STATE.c.state, STATE.c.format).where(STATE.c.case_id == case_id)).first()
    return (row.state, row.format) if row is not None else None


def load_run(case: Case, stored: tuple[bytes, str] | None = None) -> Run:
    """The case's workflow, loaded on its pinned process version (from `stored` when already read)."""
    state, version = stored or stored_state(case.id) or (None, None)
    if state is None:
        raise NotFound(f"办件 {case.id} 没有流程状态 The case has no workflow state.")
    return Run.load(processes.definition(case.process_version_id), state, version, facts=facts(case))


def store_run(case: Case, run: Run, *, actor: str, now: datetime, new: bool = False) -> None:
    """Write the workflow state and the step's changes; close the case when the process has ended."""
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
            payload = {"previous": case.result, "result": final, "end": end}
            audit.record(case, "case_closed", actor=actor, at=now, payload=payload)
            if final != case.result:
                filings.file_outcome(case=case, result=final, actor=actor, now=now)
            case.result = final
    state, version = run.dump()
    written = writeback.store_new(case, state, version) if new else writeback.store(case, state, version)
    if not written:  # one statement on PostgreSQL; elsewhere (and in unusual steps) the ORM's flush
        write_state(case.id, (state, version), new=new)
        db.session.flush()


def write_state(case_id: int, stored: tuple[bytes, str], *, new: bool = False) -> None:
    """Store the workflow state: one INSERT for a new case, else one UPDATE of its state row."""
    state, version = stored
    if new:
        run_core(insert(STATE).values(case_id=case_id, state=state, format=version))
    else:
        run_core(update(STATE).where(STATE.c.case_id == case_id).values(state=state, format=version))


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
    filings.file_outcome(case=case, result=result, actor=actor, now=now)  # 否定报备 of a rejection


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
        raise CaseIncident(str(exc), element=exc.element, case_id=str(case.id)) from exc
    if not moved:
        return
    audit.record(case, "timers_rescheduled", actor=actor, at=now, payload={"elements": moved, "facts": run.facts})
    if fired:
        audit.record(case, "timer_fired", actor="system", at=now, payload={"elements": fired})
    if own:  # otherwise the caller syncs the tasks and stores the run
        if fired:
            sync(case=case, run=run, actor="system", now=now)
        store_run(case, run, actor=actor, now=now)


def withdraw(case: Case, *, actor: str, now: datetime) -> None:
    """Cancel the (locked) case's workflow and every open task with it; the caller records the withdrawal."""
    run = load_run(case)
    run.cancel()
    for row in tasks.list_open(case.id):
        row.state = CANCELLED
        audit.record(case, "task_cancelled", actor=actor, task_id=row.id, at=now, payload={"name": row.name})
    write_state(case.id, run.dump())


def complete(*, task_id: int, principal: Principal, data: dict) -> tuple[Task, Case, list[Task]]:
    """Finish a task one holds: run the engine step, materialize the next tasks, audit, all or nothing.

    The case row is locked with the task, its siblings and the state read in the same statement: two
    completions of one task (or of two tasks of one case) are serialized, and the second sees the
    first's result and gets 409. Returns the task, its case and the case's open tasks afterwards.
    """
    case, task, open_rows, stored, task_ids = lock_step(task_id)
    if not (principal.in_group(task.group) or task.assignee == principal.username):
        raise Forbidden("该任务不属于您 The task is not yours.")
    if task.state != CLAIMED or task.assignee != principal.username:
        raise Conflict("请先认领该任务，或任务已办结 Claim the task first; it may already be done.")
    now = clock.now()
    if task.engine_task_id.startswith(PLATFORM_TASK):
        _finish(case, task, principal, forms.validate_submission(forms.fields_of(None, task.form), data), now)
        return task, case, [t for t in open_rows if t is not task]
    # A decided case (办结) may still have steps after its decision (a commitment's verification).
    if not (case.status == IN_PROGRESS or (case.status == COMPLETED and case.end_event is None)):
        raise Conflict(f"办件当前状态为 {case.status}，不能办理 The case is not in progress.")
    with db.session.no_autoflush:  # the writes go out together, at the end
        run = load_run(case, stored)
        form = forms.fields_of(run.definition.human_tasks.get(task.name), task.form)
        submitted = forms.validate_submission(form, data, case_data=run.task_data(task.engine_task_id))
        try:
            run.complete(task.engine_task_id, submitted, at=now)
        except EngineError as exc:
            raise CaseIncident(str(exc), element=exc.element, case_id=str(case.id)) from exc
        _finish(case, task, principal, submitted, now)
        properties = run.definition.human_tasks[task.name].properties
        document = papers.document_of(properties, task.form)
        papers.after_step(case, document=document, submitted=submitted, actor=principal.username, at=now)
        decided = properties.get("completes_case")
        if decided and case.status == IN_PROGRESS:
            close(case, result=decided, actor=principal.username, now=now, end=task.name, continues=True)
        if close_special_procedure(case, run, task, actor=principal.username):
            reschedule(case, actor=principal.username, now=now, run=run)
        others = [t for t in open_rows if t is not task]
        created = sync(case=case, run=run, actor=principal.username, now=now, open_rows=others, task_ids=task_ids)
        store_run(case, run, actor=principal.username, now=now)
    return task, case, [t for t in others if t.state in OPEN_STATES] + created


def _finish(case: Case, task: Task, principal: Principal, submitted: dict, now: datetime) -> None:
    task.state, task.completed_at, task.completed_by = TASK_DONE, now, principal.username
    payload = {"name": task.name, "data": submitted}
    audit.record(case, "task_completed", actor=principal.username, task_id=task.id, at=now, payload=payload)
