"""Process definitions: upload (draft + report), publish, sync bpmn/, and the definition of a version."""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import current_app
from sqlalchemy import bindparam, func, select

from app import clock
from app.engine.parser import Definition, Problem
from app.engine.runtime import definitions
from app.errors import Conflict, Invalid, NotFound, TooLarge
from app.extensions import db
from app.identity.service import group_codes
from app.matters.models import Matter
from app.processes import lint
from app.processes.lint import Known, Report
from app.processes.models import DRAFT, PUBLISHED, RETIRED, ProcessPublication, ProcessVersion

# Who publishes what `flask processes sync` deploys from the bpmn/ folder.
SYNC_ACTOR = "sync"


class ProcessRejected(Invalid):
    """An upload or a publication with errors: the report travels with the 422."""


class ProcessTooLarge(TooLarge):
    """An upload above BPMN_MAX_BYTES: refused before it is parsed."""


def get(*, key: str, version: int) -> ProcessVersion | None:
    """A version of a process, or None."""
    return db.session.scalar(select(ProcessVersion).where(ProcessVersion.key == key, ProcessVersion.version == version))


def get_or_raise(*, key: str, version: int) -> ProcessVersion:
    """A version of a process (NotFound otherwise)."""
    found = get(key=key, version=version)
    if found is None:
        raise NotFound(f"流程 {key} 版本 {version} 不存在 No such process version.")
    return found


_PUBLISHED = select(ProcessVersion).where(  # built once
    ProcessVersion.key == bindparam("p_key"), ProcessVersion.state == PUBLISHED
)


def published(*, key: str) -> ProcessVersion | None:
    """The version new cases of `key` start on, or None."""
    return db.session.scalar(_PUBLISHED, {"p_key": key})


def published_versions() -> list[ProcessVersion]:
    """Every published version, by key."""
    return list(
        db.session.scalars(select(ProcessVersion).where(ProcessVersion.state == PUBLISHED).order_by(ProcessVersion.key))
    )


def list_processes(*, page: int = 1, per_page: int = 50) -> tuple[list[dict], int]:
    """A page of process keys with their latest and published version numbers, and the total."""
    total = db.session.scalar(select(func.count(func.distinct(ProcessVersion.key))))
    keys = db.session.execute(
        select(ProcessVersion.key, func.max(ProcessVersion.version))
        .group_by(ProcessVersion.key)
        .order_by(ProcessVersion.key)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    latest = {(key, number) for key, number in keys}
    rows = db.session.scalars(select(ProcessVersion).where(ProcessVersion.key.in_([k for k, _ in keys]))).all()
    names = {row.key: row.name for row in rows if (row.key, row.version) in latest}
    current = {row.key: row.version for row in rows if row.state == PUBLISHED}
    items = [
        {"key": key, "name": names[key], "latest_version": number, "published_version": current.get(key)}
        for key, number in keys
    ]
    return items, total


def list_versions(*, key: str, page: int = 1, per_page: int = 50) -> tuple[list[ProcessVersion], int]:
    """A page of the versions of a process, newest first, and the total (NotFound for an unknown key)."""
    where = ProcessVersion.key == key
    total = db.session.scalar(select(func.count()).select_from(ProcessVersion).where(where))
    if not total:
        raise NotFound(f"流程 {key} 不存在 No such process.")
    rows = db.session.scalars(
        select(ProcessVersion)
        .where(where)
        .order_by(ProcessVersion.version.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return list(rows), total


def known() -> Known:
    """What uploads are checked against now: the groups, the processes and the matter catalog."""
    latest = (
        select(ProcessVersion.key, func.max(ProcessVersion.version).label("version"))
        .group_by(ProcessVersion.key)
        .subquery()
    )
    names = db.session.execute(
        select(ProcessVersion.key, ProcessVersion.name).join(
            latest, (ProcessVersion.key == latest.c.key) & (ProcessVersion.version == latest.c.version)
        )
    ).all()
    matters = db.session.execute(select(Matter.code, Matter.process_key)).all()
    return Known(
        groups=frozenset(group_codes()),
        process_names={key: name for key, name in names},
        matter_processes={code: key for code, key in matters},
    )


def check(data: bytes) -> Report:
    """The designer's report for `data` (ProcessTooLarge above BPMN_MAX_BYTES)."""
    limit = current_app.config["BPMN_MAX_BYTES"]
    if len(data) > limit:
        message = f"BPMN 文件超过 {limit} 字节 The BPMN file is larger than {limit} bytes."
        raise ProcessTooLarge(message, report=[Problem("error", message).as_dict()])
    return lint.check(data, known=known())


def create_draft(*, data: bytes, actor_id: int | None) -> tuple[ProcessVersion, Report]:
    """Store an upload as a draft version (ProcessRejected with the report when it has errors).

    A report with errors stores nothing. The same bytes uploaded twice give the same version back:
    versions are keyed by content hash.
    """
    report = check(data)
    if not report.ok:
        raise _rejected("BPMN 文件存在错误，未保存 The BPMN file has errors and was not stored.", report, None)
    digest = hashlib.sha256(data).hexdigest()
    existing = db.session.scalar(
        select(ProcessVersion).where(ProcessVersion.key == report.key, ProcessVersion.hash == digest)
    )
    if existing is not None:
        return existing, report
    latest = db.session.scalar(select(func.max(ProcessVersion.version)).where(ProcessVersion.key == report.key))
    version = ProcessVersion(
        key=report.key,
        version=(latest or 0) + 1,
        name=report.name,
        hash=digest,
        xml=data,
        state=DRAFT,
        report=report.as_list(),
        created_at=clock.now(),
        created_by=actor_id,
    )
    db.session.add(version)
    db.session.flush()
    return version, report


def publish(*, key: str, version: int, actor: str) -> ProcessVersion:
    """Make a version the one new cases use; the previously published one is retired.

    A draft is published; a retired version may be published again (a rollback). The report is made
    again first, because groups or the catalog may have changed since the upload. Every publication
    is recorded (`list_publications`).
    """
    # Lock every version of the key (PostgreSQL): two publications of one key run one after the other.
    db.session.scalars(select(ProcessVersion.id).where(ProcessVersion.key == key).with_for_update()).all()
    target = get_or_raise(key=key, version=version)
    db.session.refresh(target)
    if target.state == PUBLISHED:
        raise Conflict("该版本已是当前发布版本 This version is already published.", state=target.state)
    report = lint.check(target.xml, known=known())
    if not report.ok:
        raise _rejected("该版本现在存在错误，不能发布 This version has errors now.", report, target)
    return _make_published(target, report, actor=actor)


def list_publications(*, key: str, page: int = 1, per_page: int = 50) -> tuple[list[ProcessPublication], int]:
    """A page of the publications of a process, newest first, and the total (NotFound for an unknown key)."""
    if not db.session.scalar(select(ProcessVersion.id).where(ProcessVersion.key == key).limit(1)):
        raise NotFound(f"流程 {key} 不存在 No such process.")
    where = ProcessPublication.key == key
    total = db.session.scalar(select(func.count()).select_from(ProcessPublication).where(where))
    rows = db.session.scalars(
        select(ProcessPublication)
        .where(where)
        .order_by(ProcessPublication.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return list(rows), total


def _make_published(target: ProcessVersion, report: Report, *, actor: str) -> ProcessVersion:
    """Retire the key's published version, publish `target` with its fresh report, record who did it."""
    previous = published(key=target.key)
    rollback = target.state == RETIRED
    if previous is not None:
        previous.state = RETIRED
        db.session.flush()
    target.state, target.published_at, target.report = PUBLISHED, clock.now(), report.as_list()
    db.session.add(
        ProcessPublication(
            key=target.key,
            version=target.version,
            previous_version=previous.version if previous else None,
            rollback=rollback,
            published_by=actor,
            published_at=target.published_at,
        )
    )
    db.session.flush()
    return target


def _rejected(detail: str, report: Report, version: ProcessVersion | None) -> ProcessRejected:
    """The 422 carrying the upload body's fields (version and state are null when nothing was stored)."""
    return ProcessRejected(
        detail,
        key=version.key if version else report.key,
        version=version.version if version else None,
        state=version.state if version else None,
        report=report.as_list(),
    )


def sync(*, directory: str | Path) -> list[tuple[str, int, bool]]:
    """Deploy every .bpmn under `directory` as the published version of its process (idempotent).

    Returns (key, version, changed) per file; raises ProcessRejected naming the file on any error,
    including two files that declare the same key.
    """
    results = []
    seen: dict[str, str] = {}
    for path in sorted(Path(directory).glob("*.bpmn")):
        try:
            version, report = create_draft(data=path.read_bytes(), actor_id=None)
        except ProcessRejected as exc:
            exc.detail = f"{path.name}: {exc.detail}"
            raise
        if version.key in seen:
            raise ProcessRejected(
                f"{path.name}: 流程 {version.key} 已由 {seen[version.key]} 定义 duplicate process key"
            )
        seen[version.key] = path.name
        changed = version.state != PUBLISHED
        if changed:  # a draft or a retired version: the file on disk wins, checked just now
            _make_published(version, report, actor=SYNC_ACTOR)
        results.append((version.key, version.version, changed))
    return results


def definition(version_id: int) -> Definition:
    """The parsed definition of a stored version (cached per version id)."""
    return definitions.get(
        version_id, lambda: db.session.scalar(select(ProcessVersion.xml).where(ProcessVersion.id == version_id))
    )
