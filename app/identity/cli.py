"""`flask users ...` and `flask demo seed`."""

import click
from flask.cli import AppGroup

from app.cli import command_transaction

users = AppGroup("users", help="用户管理 Users.")
demo = AppGroup("demo", help="演示数据 Demo data.")


@users.command("create")
@click.option("--username", required=True)
@click.option("--password", required=True)
@click.option("--display-name")
@click.option("--department")
@click.option("--group", "groups", multiple=True, help="repeat for several groups")
@click.option("--role", "roles", multiple=True, help="window reviewer leader designer supervisor auditor admin")
def create_user(username, password, display_name, department, groups, roles):
    """Create (or update) a user."""
    from app.identity import organisation

    with command_transaction():
        organisation.save_user(
            actor="cli",
            username=username,
            password=password,
            display_name=display_name,
            department=department or None,
            groups=list(groups),
            roles=list(roles),
        )
    click.echo(f"user {username} saved")


@demo.command("seed")
def demo_seed():
    """Create the demo center: departments, groups, accounts (idempotent)."""
    from app.identity import demo as demo_data

    with command_transaction():
        count = demo_data.seed()
    click.echo(f"demo center ready: {count} accounts, password {demo_data.DEMO_PASSWORD!r}")


commands = [users, demo]
