"""The matter catalog: load bpmn/catalog.toml, list and look up matters."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, func, select

from app import clock
from app.documents import render
from app.errors import Invalid, NotFound
from app.extensions import db
from app.identity import service as identity
from app.identity.models import Department
from app.matters.models import KINDS, MODES, Matter, MatterRevision
from app.matters.schemas import MatterSchema
from app.processes import service as processes

GUIDE_FIELDS = ("conditions", "legal_basis", "fees", "place")


_BY_CODE = select(Matter).where(Matter.code == bindparam("p_code"))  # built once


def get(*, code: str) -> Matter | None:
    """The matter with this code, or None."""
    return db.session.scalar(_BY_CODE, {"p_code": code})


def get_or_raise(*, code: str) -> Matter:
    """The matter with this code (NotFound otherwise)."""
    matter = get(code=code)
    if matter is None:
        raise NotFound(f"事项 {code} 不存在 No such matter.")
    return matter


def list_matters(*, page: int = 1, per_page: int = 50) -> tuple[list[Matter], int]:
    """A page of the catalog, ordered by code, and the total count."""
    total = db.session.scalar(select(func.count()).select_from(Matter))
    rows = db.session.scalars(select(Matter).order_by(Matter.code).limit(per_page).offset((page - 1) * per_page))
    return list(rows), total


def load_catalog(*, path: str | Path) -> int:
    """Create or update every matter in a catalog file; returns how many it holds."""
    with open(path, "rb") as fh:
        entries = tomllib.load(fh).get("matter", [])
    for entry in entries:
        _validate(entry)
        matter = get(code=entry["code"]) or Matter(code=entry["code"])
        before = _snapshot(matter) if matter.id is not None else {}
        for field in ("name", "department", "kind", "mode", "statutory_days", "promised_days", "process_key"):
            setattr(matter, field, entry[field])
        matter.warning_days = entry.get("warning_days")
        for field in GUIDE_FIELDS:
            setattr(matter, field, (entry.get(field) or "").strip() or None)
        matter.process_data = dict(entry.get("process_data", {}))
        matter.materials = [
            {
                "name": m["name"],
                "required": bool(m.get("required", True)),
                "deferrable": bool(m.get("deferrable", False)),
            }
            for m in entry.get("materials", [])
        ]
        db.session.add(matter)
        db.session.flush()
        _record(matter, before, actor="catalog.toml")
    return len(entries)


def _validate(entry: dict) -> None:
    code = entry.get("code", "?")
    missing = [
        f
        for f in ("code", "name", "department", "kind", "mode", "statutory_days", "promised_days", "process_key")
        if f not in entry
    ]
    if missing:
        raise Invalid(f"事项 {code} 缺少字段 missing fields: {', '.join(missing)}")
    if entry["kind"] not in KINDS or entry["mode"] not in MODES:
        raise Invalid(f"事项 {code} 的 kind/mode 无效 invalid kind or mode")
    if not 0 <= entry["promised_days"] <= entry["statutory_days"]:
        raise Invalid(f"事项 {code}: 承诺时限须不超过法定时限 promised_days must be within statutory_days")
    if entry["kind"] == "immediate" and entry["promised_days"] != 0:
        raise Invalid(f"事项 {code}: 即办件承诺时限为 0 an immediate matter has promised_days 0")


def guide(*, code: str) -> bytes:
    """The matter's 一次性告知单 as printable A4 HTML: conditions, materials, basis, limits, fees, place."""
    matter = get_or_raise(code=code)
    department = identity.get_department(code=matter.department)
    return render.html("guide", {"matter": matter, "department": department.name if department else matter.department})


def put(*, code: str, values: dict[str, Any], actor: str) -> tuple[Matter, bool]:
    """Create or change a matter (validated) and record the change as a revision; (matter, created)."""
    _check(code, values)
    matter = get(code=code)
    created = matter is None
    if created:
        matter = Matter(code=code, process_data={}, warning_days=None)
        db.session.add(matter)
    before = {} if created else _snapshot(matter)
    for name, value in values.items():
        setattr(matter, name, value)
    db.session.flush()
    _record(matter, before, actor=actor)
    return matter, created


def list_revisions(*, code: str, page: int = 1, per_page: int = 50) -> tuple[list[MatterRevision], int]:
    """A matter's revisions, newest first, and their count (NotFound for an unknown matter)."""
    get_or_raise(code=code)
    where = MatterRevision.matter_code == code
    total = db.session.scalar(select(func.count()).select_from(MatterRevision).where(where))
    query = select(MatterRevision).where(where).order_by(MatterRevision.revision.desc())
    return list(db.session.scalars(query.limit(per_page).offset((page - 1) * per_page))), total


def _snapshot(matter: Matter) -> dict[str, Any]:
    return MatterSchema().dump(matter)


def _record(matter: Matter, before: dict[str, Any], *, actor: str) -> MatterRevision | None:
    """A revision when something changed (the fields compared are MatterSchema's, whatever they are)."""
    after = _snapshot(matter)
    changes = {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}
    if not changes:
        return None
    last = db.session.scalar(select(func.max(MatterRevision.revision)).where(MatterRevision.matter_code == matter.code))
    revision = MatterRevision(
        matter_code=matter.code,
        revision=(last or 0) + 1,
        changed_by=actor,
        changed_at=clock.now(),
        snapshot=after,
        changes=changes,
    )
    db.session.add(revision)
    db.session.flush()
    return revision


def _check(code: str, values: dict[str, Any]) -> None:
    """The catalog's rules beyond each field's own: limits, a published process, known department, materials."""
    errors: dict[str, list[str]] = {}
    if not 0 < len(code) <= 40 or not code.replace("-", "").replace("_", "").isalnum():
        errors["code"] = ["事项编码须为 1 到 40 位字母、数字、- 或 _"]
    if values["promised_days"] > values["statutory_days"]:
        errors["promised_days"] = ["承诺时限不得超过法定时限"]
    elif values["kind"] == "immediate" and values["promised_days"] != 0:
        errors["promised_days"] = ["即办件的承诺时限须为 0"]
    if processes.published(key=values["process_key"]) is None:
        errors["process_key"] = [f"流程 {values['process_key']} 没有已发布的版本"]
    if db.session.scalar(select(Department.id).where(Department.code == values["department"])) is None:
        errors["department"] = [f"部门 {values['department']} 不存在"]
    names = [m["name"] for m in values.get("materials", [])]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        errors["materials"] = [f"材料重复：{'、'.join(duplicates)}"]
    if errors:
        raise Invalid("事项信息不符合要求 The matter is invalid.", errors=errors)
