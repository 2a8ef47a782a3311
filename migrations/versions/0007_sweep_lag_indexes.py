"""the sweep's indexes hold only rows whose warning level can still rise (they replace the open-row ones)

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

NEW = [
    ("ix_cases_lag_statutory", "cases", "statutory_due", "status = 'in_progress' AND warning <> 'breach'"),
    ("ix_cases_lag_promised", "cases", "promised_due", "status = 'in_progress' AND warning IN ('ok', 'warning')"),
    ("ix_cases_lag_warning", "cases", "warning_at", "status = 'in_progress' AND warning = 'ok'"),
    ("ix_tasks_lag_due", "tasks", "due_at", "state IN ('ready', 'claimed') AND warning <> 'overdue'"),
    ("ix_tasks_lag_warning", "tasks", "warning_at", "state IN ('ready', 'claimed') AND warning = 'ok'"),
]
OLD = [
    ("ix_cases_open_statutory", "cases", "statutory_due", "status = 'in_progress'"),
    ("ix_cases_open_promised", "cases", "promised_due", "status = 'in_progress'"),
    ("ix_cases_open_warning_at", "cases", "warning_at", "status = 'in_progress'"),
    ("ix_tasks_open_due", "tasks", "due_at", "state IN ('ready', 'claimed')"),
]


def _create(indexes):
    for name, table, column, where in indexes:
        op.create_index(name, table, [column], postgresql_where=sa.text(where), sqlite_where=sa.text(where))


def _drop(indexes):
    for name, table, _, _ in indexes:
        op.drop_index(name, table_name=table)


def upgrade():
    _drop(OLD)
    _create(NEW)


def downgrade():
    _drop(NEW)
    _create(OLD)
