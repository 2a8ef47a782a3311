"""matter_revisions: every change of a matter, with who and when (PUT /api/matters/{code})

Revision ID: 0013
Revises: 0011 (the lead chains it after the other branches' migrations)
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "matter_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("matter_code", sa.String(40), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("changed_by", sa.String(60), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_matter_revisions")),
        sa.UniqueConstraint("matter_code", "revision", name="uq_matter_revisions_code_revision"),
    )


def downgrade():
    op.drop_table("matter_revisions")
