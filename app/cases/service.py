"""Cases (办件): find, list and show cases; the rules on materials. Workflow changes: app/cases/runtime.py."""

from __future__ import annotations

from sqlalchemy import func, select

from app.cases.models import Case
from app.errors import Forbidden, Invalid, NotFound
from app.extensions import db
from app.identity.principal import Principal
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


def deadline_payload(case: Case) -> dict:
    """The case's deadlines as an event records them."""
    return {
        "statutory_due": case.statutory_due.isoformat(),
        "promised_due": case.promised_due.isoformat(),
        "provisional": case.provisional,
    }


def check_materials(catalog: list[dict], provided: list[dict]) -> list[str]:
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


def list_cases(
    *,
    principal: Principal,
    status: str | None = None,
    matter_code: str | None = None,
    warning: str | None = None,
    department: str | None = None,
    number: str | None = None,
    applicant_name: str | None = None,
    applicant_id_number: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> tuple[list[Case], int]:
    """A filtered page of the cases the principal may see, newest first (number, applicant: whole values).

    By the applicant's id number (身份证号码 or 统一社会信用代码, letters in either case): only for
    the roles that see id numbers unmasked (the desk, where an applicant asks with their card).
    """
    where = []
    if not principal.has_role(*SEE_ALL):
        where.append(Case.department == principal.department)
    if applicant_id_number is not None:
        if not principal.has_role(*SEE_ID_NUMBER):
            raise Forbidden("只有窗口人员可以按证件号码查询 Only front-desk staff may search by id number.")
        where.append(func.upper(Case.applicant["id_number"].as_string()) == applicant_id_number.strip().upper())
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
