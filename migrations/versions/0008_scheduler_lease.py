"""the scheduler's lease: one runner at a time, and a stuck runner loses its turn when the lease expires

Revision ID: 0008
Revises: 0008_inbox
"""

import sqlalchemy as sa
from alembic import op


revision = "0008"
down_revision = "0008_inbox"
branch_labels = None
depends_on = None


def upgrade():
    leases = op.create_table(
        "scheduler_leases",
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("holder", sa.String(120), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scheduler_leases")),
    )
    op.bulk_insert(leases, [{"name": "deadlines", "holder": None, "expires_at": None}])


def downgrade():
    op.drop_table("scheduler_leases")
