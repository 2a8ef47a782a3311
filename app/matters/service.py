"""The matter catalog: load bpmn/catalog.toml, list and look up matters."""

from __future__ import annotations

import tomllib
from pathlib import Path

from sqlalchemy import func, select

from app.documents import render
from app.errors import Invalid, NotFound
from app.extensions import db
from app.identity import service as identity
from app.matters.models import KINDS, MODES, Matter

GUIDE_FIELDS = ("conditions", "legal_basis", "fees", "place")


def get(*, code: str) -> Matter | None:
    """The matter with this code, or None."""
    return db.session.scalar(select(Matter).where(Matter.code == code))


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
