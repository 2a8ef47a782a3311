"""documents: numbered legal documents with their frozen bytes; number sequences; the matter's guide texts

Revision ID: 0012_documents
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012_documents"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "document_sequences",
        sa.Column("department", sa.String(length=40), nullable=False),
        sa.Column("series", sa.String(length=20), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("department", "series", "year", name=op.f("pk_document_sequences")),
    )
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("number", sa.String(length=60), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("department", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=60), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("html", sa.LargeBinary(), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=True),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_documents_case_id_cases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_documents")),
        sa.UniqueConstraint("number", name=op.f("uq_documents_number")),
    )
    op.create_index("ix_documents_case_id", "documents", ["case_id"])
    for column in ("conditions", "legal_basis", "fees", "place"):
        op.add_column("matters", sa.Column(column, sa.Text(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":  # SQLite does not enforce a VARCHAR's length
        # "awaiting_correction" (补正) is longer than the statuses before it.
        op.alter_column("cases", "status", type_=sa.String(length=20), existing_type=sa.String(length=12))


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("cases", "status", type_=sa.String(length=12), existing_type=sa.String(length=20))
    for column in ("place", "fees", "legal_basis", "conditions"):
        op.drop_column("matters", column)
    op.drop_index("ix_documents_case_id", table_name="documents")
    op.drop_table("documents")
    op.drop_table("document_sequences")
