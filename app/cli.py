"""Command-line tools: `flask users|demo|processes ...`. Each command is one transaction."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app.errors import DomainError
from app.extensions import unit_of_work

users = AppGroup("users", help="用户管理 Users.")
demo = AppGroup("demo", help="演示数据 Demo data.")
processes = AppGroup("processes", help="流程定义 Process definitions.")


@users.command("create")
@click.option("--username", required=True)
@click.option("--password", required=True)
@click.option("--display-name")
@click.option("--department")
@click.option("--group", "groups", multiple=True, help="repeat for several groups")
@click.option("--role", "roles", multiple=True, help="window reviewer leader designer supervisor auditor admin")
def create_user(username, password, display_name, department, groups, roles):
    """Create (or update) a user."""
    from app.identity import service

    with _command():
        service.create_user(
            username=username,
            password=password,
            display_name=display_name,
            department=department,
            groups=list(groups),
            roles=list(roles),
        )
    click.echo(f"user {username} saved")


@demo.command("seed")
def demo_seed():
    """Create the demo center: departments, groups, accounts (idempotent)."""
    from app.identity import demo as demo_data

    with _command():
        count = demo_data.seed()
    click.echo(f"demo center ready: {count} accounts, password {demo_data.DEMO_PASSWORD!r}")


@processes.command("sync")
@click.option("--dir", "directory", default=None, help="defaults to BPMN_DIR (bpmn/)")
def processes_sync(directory):
    """Publish every .bpmn in bpmn/ (keyed by content hash; idempotent) and load the matter catalog."""
    from app.matters import service as matters
    from app.processes import service

    directory = Path(directory or current_app.config["BPMN_DIR"])
    with _command():
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


@contextmanager
def _command() -> Iterator[None]:
    """One transaction per command; a domain error becomes its message and exit code 1."""
    try:
        with unit_of_work():
            yield
    except DomainError as err:
        for p in err.extra.get("report") or []:
            click.echo(f"  {p['severity']}: [{p.get('element') or '-'}] line {p.get('line')}: {p['message']}", err=True)
        raise click.ClickException(err.detail) from err


def register(app: Flask) -> None:
    """Attach the command groups to the app."""
    for group in (users, demo, processes):
        app.cli.add_command(group)
