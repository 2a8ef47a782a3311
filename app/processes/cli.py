"""`flask processes sync|check`."""

import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.cli import command_transaction
from app.errors import DomainError

processes = AppGroup("processes", help="流程定义 Process definitions.")


@processes.command("sync")
@click.option("--dir", "directory", default=None, help="defaults to BPMN_DIR (bpmn/)")
def processes_sync(directory):
    """Publish every .bpmn in bpmn/ (keyed by content hash; idempotent) and load the matter catalog."""
    from app.matters import service as matters
    from app.processes import service

    directory = Path(directory or current_app.config["BPMN_DIR"])
    with command_transaction():
        for key, version, changed in service.sync(directory=directory):
            click.echo(f"{key} v{version} {'published' if changed else 'unchanged'}")
        catalog = directory / "catalog.toml"
        if catalog.exists():
            click.echo(f"catalog: {matters.load_catalog(path=catalog)} matters")


@processes.command("check")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="one JSON object per file: {file, key, ok, report}")
@click.option("--published", is_flag=True, help="also re-check every published version stored in the database")
def processes_check(files, as_json, published):
    """Print the designer's report for BPMN files (the same report as POST /api/processes); exit 1 on errors.

    With --published, every version new cases start on is checked again under today's rules, so a
    version published before a rule existed (an unbounded timer, say) is reported."""
    from app.processes import service

    if not files and not published:
        raise click.UsageError("name BPMN files, or --published")
    sources = [(name, lambda name=name: Path(name).read_bytes()) for name in files]
    if published:
        sources += [(f"{v.key} v{v.version} (published)", lambda v=v: v.xml) for v in service.published_versions()]
    failed = False
    for name, read in sources:
        try:
            report = service.check(read())
            key, ok, entries = report.key, report.ok, report.as_list()
        except DomainError as exc:  # too large: the API's 413 carries the same one-entry report
            key, ok, entries = None, False, exc.extra.get("report") or []
        failed = failed or not ok
        if as_json:
            click.echo(json.dumps({"file": name, "key": key, "ok": ok, "report": entries}, ensure_ascii=False))
            continue
        for entry in entries:
            click.echo(format_entry(name, entry))
        errors = sum(e["severity"] == "error" for e in entries)
        click.echo(
            f"{name}: {'ok' if ok else 'refused'} ({key or '-'}: {errors} errors, {len(entries) - errors} warnings)"
        )
    sys.exit(1 if failed else 0)


def format_entry(name: str, entry: dict) -> str:
    """One report entry as a compiler-style line: FILE:LINE: severity: [element] message."""
    where = f"{name}:{entry['line']}" if entry["line"] is not None else name
    return f"{where}: {entry['severity']}: [{entry['element'] or '-'}] {entry['message']}"


commands = [processes]
