"""`flask calendar seed|import|due` and `flask scheduler run-once`."""

import json
from datetime import date

import click
from flask.cli import AppGroup

from app.cli import command_transaction
from app.deadlines.schemas import CalendarYearSchema

calendar_cli = AppGroup("calendar", help="工作日日历 Working-day calendar.")
scheduler_cli = AppGroup("scheduler", help="定时任务 Scheduled jobs.")


@calendar_cli.command("seed")
def seed():
    """Load the official arrangements shipped with chinesecalendar (idempotent)."""
    from app.deadlines import calendar

    with command_transaction():
        years = calendar.seed_official()
    click.echo(f"calendar: {len(years)} years loaded" + (f" ({years[0]}-{years[-1]})" if years else ""))


@calendar_cli.command("import")
@click.argument("file", type=click.File("rb"))
def import_year(file):
    """Load a year from a JSON file {year, source, days: [{date, workday, name}]}; recompute provisional cases."""
    from marshmallow import ValidationError

    from app.deadlines import calendar, jobs

    try:
        body = CalendarYearSchema().load(json.load(file))
    except (ValidationError, ValueError) as exc:
        raise click.ClickException(f"invalid calendar file: {exc}") from exc
    with command_transaction():
        count = calendar.load_year(year=body["year"], source=body["source"], days=body["days"])
        changed = jobs.recompute_provisional(actor="calendar-import", year=body["year"])
    click.echo(f"{body['year']}: {count} days loaded; {changed} cases recomputed")


@calendar_cli.command("due")
@click.argument("accepted_on", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.argument("days", type=click.IntRange(0, 1000))
def due(accepted_on, days):
    """When a limit of DAYS working days from ACCEPTED_ON ends."""
    from app.deadlines import calendar

    due_date, due_at, provisional = calendar.current().due(date.fromordinal(accepted_on.toordinal()), days)
    click.echo(f"{due_date.isoformat()} (ends {due_at.isoformat()}){' provisional' if provisional else ''}")


@scheduler_cli.command("run-once")
def run_once():
    """One pass of the scheduler's jobs (timers, then warnings) and exit."""
    from app.deadlines.scheduler import run_once as one_pass

    result = one_pass()
    if result is None:
        click.echo("another scheduler holds the lock; nothing done")
        return
    click.echo(" ".join(f"{k}={v}" for k, v in result.items()))


commands = [calendar_cli, scheduler_cli]
