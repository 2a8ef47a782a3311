"""`flask processes sync|check`."""

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
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
def processes_check(files):
    """Print the designer's report for BPMN files; exit 1 if any has an error."""
    from app.processes import service

    failed = False
    for name in files:
        try:
            definition, problems = service.check(Path(name).read_bytes())
        except DomainError as exc:
            click.echo(f"{name}: error: {exc.detail}")
            failed = True
            continue
        for p in problems:
            where = ":".join(str(x) for x in (name, p.line) if x is not None)
            click.echo(f"{where}: {p.severity}: [{p.element or '-'}] {p.message}")
        if definition is None:
            failed = True
        else:
            click.echo(f"{name}: ok ({definition.key}, {len(definition.human_tasks)} human tasks)")
    sys.exit(1 if failed else 0)


commands = [processes]
