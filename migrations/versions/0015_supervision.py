"""supervision cards and refusal filings; indexes for period statistics

Revision ID: 0015
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0012_documents"
branch_labels = None
depends_on = None

OPEN_ONLY = sa.text("state = 'open'")


def upgrade():
    op.create_table(
        "cards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("color", sa.String(10), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("auto_key", sa.String(60), nullable=True),
        sa.Column("reason", sa.String(1000), nullable=False),
        sa.Column("department", sa.String(40), nullable=False),
        sa.Column("holder", sa.String(60), nullable=True),
        sa.Column("opened_by", sa.String(60), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answer_due", sa.DateTime(timezone=True), nullable=False),
        sa.Column("answer", sa.String(2000), nullable=True),
        sa.Column("answered_by", sa.String(60), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("closed_by", sa.String(60), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.String(1000), nullable=True),
        sa.Column("escalated_to", sa.Integer(), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_cards_case_id_cases"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cards")),
        sa.UniqueConstraint("auto_key", name=op.f("uq_cards_auto_key")),
    )
    op.create_index("ix_cards_state_color", "cards", ["state", "color"])
    op.create_index("ix_cards_case", "cards", ["case_id"])
    op.create_index("ix_cards_answer_due", "cards", ["answer_due"], postgresql_where=OPEN_ONLY, sqlite_where=OPEN_ONLY)
    op.create_table(
        "filings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("reason", sa.String(2000), nullable=False),
        sa.Column("documents", sa.JSON(), nullable=False),
        sa.Column("department", sa.String(40), nullable=False),
        sa.Column("matter_code", sa.String(40), nullable=False),
        sa.Column("applicant_name", sa.String(100), nullable=True),
        sa.Column("filed_by", sa.String(60), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("review_note", sa.String(1000), nullable=True),
        sa.Column("reviewed_by", sa.String(60), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("card_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("length(trim(reason)) > 0", name=op.f("ck_filings_reason_given")),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_filings_case_id_cases"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_filings")),
    )
    op.create_index("ix_filings_state", "filings", ["state", "filed_at"])
    op.create_index("ix_filings_filed_at", "filings", ["filed_at"])
    # Period statistics select cases by the day they were accepted or completed.
    op.create_index("ix_cases_accepted_at", "cases", ["accepted_at"])
    op.create_index("ix_cases_completed_at", "cases", ["completed_at"])


def downgrade():
    op.drop_index("ix_cases_completed_at", table_name="cases")
    op.drop_index("ix_cases_accepted_at", table_name="cases")
    op.drop_table("filings")
    op.drop_table("cards")
