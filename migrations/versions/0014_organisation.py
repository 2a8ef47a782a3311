"""the center's organisation: default backups, AB岗 absences, the login log, the organisation log

Revision ID: 0014
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        # ADD COLUMN with its REFERENCES clause: no table rebuild (which would cascade-delete tokens and groups).
        op.execute(
            "ALTER TABLE users ADD COLUMN backup_id INTEGER "
            "CONSTRAINT fk_users_backup_id_users REFERENCES users (id)"
        )
    else:
        op.add_column("users", sa.Column("backup_id", sa.Integer(), nullable=True))
        op.create_foreign_key("fk_users_backup_id_users", "users", "users", ["backup_id"], ["id"])
    op.create_table(
        "absences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("backup_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", TS, nullable=False),
        sa.Column("ends_at", TS, nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("recorded_by", sa.String(60), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_absences_user_id_users"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["backup_id"], ["users.id"], name=op.f("fk_absences_backup_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_absences")),
    )
    op.create_index("ix_absences_state_starts", "absences", ["state", "starts_at"])
    op.create_index("ix_absences_user_ends", "absences", ["user_id", "ends_at"])
    op.create_index("ix_absences_backup_ends", "absences", ["backup_id", "ends_at"])
    op.create_table(
        "login_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(60), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("outcome", sa.String(10), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_events")),
    )
    op.create_index("ix_login_events_username_at", "login_events", ["username", "at"])
    op.create_table(
        "org_log",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(60), nullable=False),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("target", sa.String(120), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_org_log")),
    )
    _append_only()


def _append_only():
    """org_log refuses UPDATE and DELETE, like events (migration 0002)."""
    if op.get_bind().dialect.name == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER org_log_no_{action.lower()} BEFORE {action} ON org_log "
                f"BEGIN SELECT RAISE(ABORT, 'org_log is append-only: {action} refused'); END"
            )
        return
    op.execute(
        """
        CREATE FUNCTION org_log_append_only() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION 'org_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
        END;
        $$ LANGUAGE plpgsql
        """
    )
    op.execute(
        "CREATE TRIGGER org_log_append_only BEFORE UPDATE OR DELETE ON org_log "
        "FOR EACH ROW EXECUTE FUNCTION org_log_append_only()"
    )


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER org_log_no_update")
        op.execute("DROP TRIGGER org_log_no_delete")
    else:
        op.execute("DROP TRIGGER org_log_append_only ON org_log")
        op.execute("DROP FUNCTION org_log_append_only()")
    op.drop_table("org_log")
    op.drop_index("ix_login_events_username_at", table_name="login_events")
    op.drop_table("login_events")
    op.drop_table("absences")
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("fk_users_backup_id_users", type_="foreignkey")
        batch.drop_column("backup_id")
