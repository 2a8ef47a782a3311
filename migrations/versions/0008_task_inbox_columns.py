"""the inbox reads case number, matter and applicant from the task row (no join), ordered by due time

Revision ID: 0008_inbox
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_inbox"
down_revision = "0007"
branch_labels = None
depends_on = None

READY = "state = 'ready'"
CLAIMED = "state = 'claimed'"
OPEN = "state IN ('ready', 'claimed')"
INDEXES = [
    ("ix_tasks_inbox_group_due", ["group_code", "due_at", "id"], READY),
    ("ix_tasks_inbox_assignee_due", ["assignee", "due_at", "id"], CLAIMED),
    ("ix_tasks_open_case_number", ["case_number"], OPEN),
    ("ix_tasks_open_applicant", ["applicant_name"], OPEN),
]


def upgrade():
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("case_number", sa.String(40), nullable=True))
        batch.add_column(sa.Column("matter_code", sa.String(40), nullable=True))
        batch.add_column(sa.Column("applicant_name", sa.String(100), nullable=True))
    name = "applicant->>'name'" if op.get_bind().dialect.name == "postgresql" else "json_extract(applicant, '$.name')"
    op.execute(
        "UPDATE tasks SET "
        "case_number = (SELECT number FROM cases WHERE cases.id = tasks.case_id), "
        "matter_code = (SELECT matter_code FROM cases WHERE cases.id = tasks.case_id), "
        f"applicant_name = (SELECT {name} FROM cases WHERE cases.id = tasks.case_id)"
    )
    for index, columns, where in INDEXES:
        op.create_index(index, "tasks", columns, postgresql_where=sa.text(where), sqlite_where=sa.text(where))


def downgrade():
    for index, _, _ in INDEXES:
        op.drop_index(index, table_name="tasks")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("applicant_name")
        batch.drop_column("matter_code")
        batch.drop_column("case_number")
