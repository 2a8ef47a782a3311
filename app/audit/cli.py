"""`flask audit verify|replay`: the auditor's checks from a shell (JSON out, exit 1 when something is wrong)."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import AppGroup

from app.cli import command_transaction

audit = AppGroup("audit", help="审计 Audit: verify the hash chains, replay a case.")


def _print(report: dict) -> None:
    click.echo(json.dumps(report, ensure_ascii=False, indent=2, default=str))


@audit.command("verify")
@click.option("--case-id", type=int, default=None, help="check one case only")
def verify_command(case_id):
    """Check every case's hash chain; print the report; exit 1 when a chain is broken."""
    from app.audit.verify import verify

    with command_transaction():
        report = verify(case_id=case_id).as_dict()
    _print(report)
    sys.exit(0 if report["intact"] else 1)


@audit.command("replay")
@click.argument("case_id", type=int)
@click.option("--upto", type=click.IntRange(min=1), default=None, help="also print the state after event N")
def replay_command(case_id, upto):
    """Re-run a case from its events on its pinned process version; exit 1 on a divergence."""
    from app.audit.replay import replay_case
    from app.cases.service import get
    from app.errors import NotFound

    with command_transaction():
        case = get(case_id=case_id)
        if case is None:
            raise NotFound(f"办件 {case_id} 不存在 No such case.")
        report = replay_case(case=case, upto=upto).as_dict(case_id=case.id)
    _print(report)
    sys.exit(0 if report["consistent"] else 1)


commands = [audit]
