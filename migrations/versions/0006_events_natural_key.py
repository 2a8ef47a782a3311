"""events: the primary key is (case_id, seq); the surrogate id and its index go

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SQLITE_TRIGGERS = {
    action: f"CREATE TRIGGER events_no_{action.lower()} BEFORE {action} ON events "
    f"BEGIN SELECT RAISE(ABORT, 'events are append-only: {action} refused'); END"
    for action in ("UPDATE", "DELETE")
}


def upgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        # SQLite rebuilds the table for this change; its triggers go with the old table.
        for action in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS events_no_{action.lower()}")
    with op.batch_alter_table("events") as batch:
        batch.drop_constraint("uq_events_case_id", type_="unique")
        batch.drop_constraint("pk_events", type_="primary")
        batch.drop_column("id")
        batch.create_primary_key("pk_events", ["case_id", "seq"])
    if sqlite:
        for sql in SQLITE_TRIGGERS.values():
            op.execute(sql)


def downgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for action in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS events_no_{action.lower()}")
    with op.batch_alter_table("events") as batch:
        batch.drop_constraint("pk_events", type_="primary")
        batch.add_column(sa.Column("id", sa.BigInteger(), nullable=True))
        batch.create_unique_constraint("uq_events_case_id", ["case_id", "seq"])
    if sqlite:
        for sql in SQLITE_TRIGGERS.values():
            op.execute(sql)
