"""every publication of a process version, rollbacks to a retired version included, is recorded

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "process_publications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("previous_version", sa.Integer(), nullable=True),
        sa.Column("rollback", sa.Boolean(), nullable=False),
        sa.Column("published_by", sa.String(60), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_process_publications")),
    )
    op.create_index("ix_process_publications_key", "process_publications", ["key", "id"])


def downgrade():
    op.drop_index("ix_process_publications_key", table_name="process_publications")
    op.drop_table("process_publications")
