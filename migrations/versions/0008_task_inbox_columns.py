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
INCLUDE = ["matter_code", "warning", "case_number", "applicant_name"]
# name, columns, rows, included columns (PostgreSQL: the inbox finds a page by an index-only scan)
INDEXES = [
    ("ix_tasks_inbox_group_due", ["group_code", "due_at", "id"], READY, INCLUDE),
    ("ix_tasks_inbox_group_created", ["group_code", "created_at", "id"], READY, INCLUDE),
    ("ix_tasks_inbox_assignee_due", ["assignee", "due_at", "id"], CLAIMED, INCLUDE),
    ("ix_tasks_inbox_assignee_created", ["assignee", "created_at", "id"], CLAIMED, INCLUDE),
    ("ix_tasks_open_case_number", ["case_number"], OPEN, []),
    ("ix_tasks_open_applicant", ["applicant_name"], OPEN, []),
]
# Superseded by the inbox indexes above.
OLD = [
    ("ix_tasks_open_group", ["group_code", "created_at"], READY),
    ("ix_tasks_open_assignee", ["assignee", "created_at"], CLAIMED),
]
# Index-only scans need a current visibility map: vacuum the tasks table after 1% of it changed, not 20%.
AUTOVACUUM = "autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_insert_scale_factor = 0.01, autovacuum_analyze_scale_factor = 0.02"


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
    for index, _, _ in OLD:
        op.drop_index(index, table_name="tasks")
    for index, columns, where, include in INDEXES:
        op.create_index(
            index,
            "tasks",
            columns,
            postgresql_where=sa.text(where),
            sqlite_where=sa.text(where),
            postgresql_include=include,
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE tasks SET ({AUTOVACUUM})")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "ALTER TABLE tasks RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_insert_scale_factor, "
            "autovacuum_analyze_scale_factor)"
        )
    for index, _, _, _ in INDEXES:
        op.drop_index(index, table_name="tasks")
    for index, columns, where in OLD:
        op.create_index(index, "tasks", columns, postgresql_where=sa.text(where), sqlite_where=sa.text(where))
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("applicant_name")
        batch.drop_column("matter_code")
        batch.drop_column("case_number")
