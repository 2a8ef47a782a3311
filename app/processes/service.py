"""Process definitions: upload (draft + report), publish, sync bpmn/, and the definition of a version."""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from app import clock
from app.engine.parser import Definition, Problem
from app.engine.runtime import definitions
from app.errors import Conflict, Invalid, NotFound, TooLarge
from app.extensions import db
from app.identity.service import group_codes
from app.processes import lint
from app.processes.models import DRAFT, PUBLISHED, RETIRED, ProcessVersion


class ProcessRejected(Invalid):
    """An upload with errors: the report travels with the 422."""


def get(*, key: str, version: int) -> ProcessVersion | None:
    """A version of a process, or None."""
    return db.session.scalar(select(ProcessVersion).where(ProcessVersion.key == key, ProcessVersion.version == version))


def get_or_raise(*, key: str, version: int) -> ProcessVersion:
    """A version of a process (NotFound otherwise)."""
    found = get(key=key, version=version)
    if found is None:
        raise NotFound(f"流程 {key} 版本 {version} 不存在 No such process version.")
    return found


def published(*, key: str) -> ProcessVersion | None:
    """The version new cases of `key` start on, or None."""
    return db.session.scalar(select(ProcessVersion).where(ProcessVersion.key == key, ProcessVersion.state == PUBLISHED))


def list_processes() -> list[dict]:
    """Every process key with its published version number (None if only drafts exist)."""
    rows = db.session.execute(
        select(ProcessVersion.key, func.max(ProcessVersion.name), func.max(ProcessVersion.version))
        .group_by(ProcessVersion.key)
        .order_by(ProcessVersion.key)
    ).all()
    out = []
    for key, name, latest in rows:
        current = published(key=key)
        out.append(
            {
                "key": key,
                "name": name,
                "latest_version": latest,
                "published_version": current.version if current else None,
            }
        )
    return out


def list_versions(*, key: str) -> list[ProcessVersion]:
    """The versions of a process, newest first (NotFound for an unknown key)."""
    rows = db.session.scalars(
        select(ProcessVersion).where(ProcessVersion.key == key).order_by(ProcessVersion.version.desc())
    ).all()
    if not rows:
        raise NotFound(f"流程 {key} 不存在 No such process.")
    return list(rows)


def check(data: bytes) -> tuple[Definition | None, list[Problem]]:
    """The designer's report for `data` (and the definition when it has no errors)."""
    if len(data) > current_app.config["BPMN_MAX_BYTES"]:
        raise TooLarge(f"BPMN 文件超过 {current_app.config['BPMN_MAX_BYTES']} 字节 The BPMN file is too large.")
    return lint.check(data, known_groups=group_codes())


def create_draft(*, data: bytes, actor_id: int | None) -> tuple[ProcessVersion, list[Problem]]:
    """Store an upload as a draft version (ProcessRejected with the report when it has errors).

    The same bytes uploaded twice give the same version back: versions are keyed by content hash.
    """
    definition, problems = check(data)
    report = [p.as_dict() for p in problems]
    if definition is None:
        raise ProcessRejected("BPMN 文件存在错误，未保存 The BPMN file has errors and was not stored.", report=report)
    digest = hashlib.sha256(data).hexdigest()
    existing = db.session.scalar(
        select(ProcessVersion).where(ProcessVersion.key == definition.key, ProcessVersion.hash == digest)
    )
    if existing is not None:
        return existing, problems
    latest = db.session.scalar(select(func.max(ProcessVersion.version)).where(ProcessVersion.key == definition.key))
    version = ProcessVersion(
        key=definition.key,
        version=(latest or 0) + 1,
        name=definition.name,
        hash=digest,
        xml=data,
        state=DRAFT,
        report=report,
        created_at=clock.now(),
        created_by=actor_id,
    )
    db.session.add(version)
    db.session.flush()
    return version, problems


def publish(*, key: str, version: int) -> ProcessVersion:
    """Make a draft the version new cases use; the previously published one is retired."""
    target = get_or_raise(key=key, version=version)
    if target.state == PUBLISHED:
        return target
    if target.state != DRAFT:
        raise Conflict(f"只能发布草稿版本，当前为 {target.state} Only a draft can be published.")
    if any(p.get("severity") == "error" for p in target.report):
        raise Invalid("该版本存在错误，不能发布 This version has errors.", report=target.report)
    current = published(key=key)
    if current is not None:
        current.state = RETIRED
        db.session.flush()
    target.state = PUBLISHED
    target.published_at = clock.now()
    db.session.flush()
    return target


def sync(*, directory: str | Path) -> list[tuple[str, int, bool]]:
    """Deploy every .bpmn under `directory` as the published version of its process (idempotent).

    Returns (key, version, changed) per file; raises ProcessRejected naming the file on any error.
    """
    results = []
    for path in sorted(Path(directory).glob("*.bpmn")):
        data = path.read_bytes()
        try:
            version, _ = create_draft(data=data, actor_id=None)
        except ProcessRejected as exc:
            exc.detail = f"{path.name}: {exc.detail}"
            raise
        changed = version.state != PUBLISHED
        if version.state == RETIRED:
            version.state = DRAFT  # the file on disk wins: bring that exact version back
        publish(key=version.key, version=version.version)
        results.append((version.key, version.version, changed))
    return results


def definition(version_id: int) -> Definition:
    """The parsed definition of a stored version (cached per version id)."""
    return definitions.get(
        version_id, lambda: db.session.scalar(select(ProcessVersion.xml).where(ProcessVersion.id == version_id))
    )
