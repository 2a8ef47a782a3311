"""case_state: the workflow state moves out of the hot case row into its own table

The case row is updated by every claim, completion and warning; with the state inline each of those
rewrote a row of about 2 KB. Apart, the case row stays small (HOT updates, little dead space) and a
claim never reads the state.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "case_state",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.Column("format", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_state_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_case_state")),
    )
    op.execute(
        "INSERT INTO case_state (case_id, state, format) "
        "SELECT id, state, state_format FROM cases WHERE state IS NOT NULL"
    )
    # SQLite >= 3.35 and PostgreSQL both drop an unindexed column in place.
    op.execute("ALTER TABLE cases DROP COLUMN state")
    op.execute("ALTER TABLE cases DROP COLUMN state_format")
    if op.get_bind().dialect.name == "postgresql":
        # Every completion rewrites the state row (about 1.7 KB): at 70 a page keeps room for the dead
        # version a finished case leaves plus the next case's row, and its updates stay HOT.
        op.execute("ALTER TABLE case_state SET (fillfactor = 70)")


def downgrade():
    op.add_column("cases", sa.Column("state", sa.LargeBinary(), nullable=True))
    op.add_column("cases", sa.Column("state_format", sa.String(length=40), nullable=True))
    op.execute(
        "UPDATE cases SET state = (SELECT s.state FROM case_state s WHERE s.case_id = cases.id), "
        "state_format = (SELECT s.format FROM case_state s WHERE s.case_id = cases.id)"
    )
    op.drop_table("case_state")
