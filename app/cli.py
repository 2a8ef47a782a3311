"""Command-line tools: each domain keeps its commands in its own cli.py; they are attached here."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import import_module

import click
from flask import Flask

from app.errors import DomainError
from app.extensions import unit_of_work

# Modules with a `commands` list of click groups.
COMMAND_MODULES = ("app.identity.cli", "app.processes.cli", "app.deadlines.cli", "app.audit.cli")


@contextmanager
def command_transaction() -> Iterator[None]:
    """One transaction per command; a domain error becomes its message and exit code 1."""
    try:
        with unit_of_work():
            yield
    except DomainError as err:
        for p in err.extra.get("report") or []:
            click.echo(f"  {p['severity']}: [{p.get('element') or '-'}] line {p.get('line')}: {p['message']}", err=True)
        raise click.ClickException(err.detail) from err


def register(app: Flask) -> None:
    """Attach every domain's command groups to the app."""
    for name in COMMAND_MODULES:
        for group in import_module(name).commands:
            app.cli.add_command(group)
