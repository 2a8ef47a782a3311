"""cases and case_state back at fillfactor 100: measured, it leaves fewer half-empty pages than 70

Revision ID: 0016
Revises: 0014

Fillfactor 70 was meant to keep room on a page for the HOT updates of its rows. Measured with
`benchmarks.serial --cases 40 --concurrency 4` (storage as left after 1,000 cases), it did the
opposite once the rows shrank (compact JSON, the state's id table): a page takes inserts only while
it has 30 % free after them, but it is pruned of its dead row versions only when less than 30 % is
free, so a page between the two is left for good with dead versions nobody reads again (21.0-21.7 KiB
per case at 70/70; 12.9-13.1 KiB at 100/100; pageinspect showed pages of one live row and five
unpruned dead ones). Without autovacuum (it runs once a minute) nothing returns such a page to the
free space map.
"""

from alembic import op

revision = "0016"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE cases RESET (fillfactor)")
        op.execute("ALTER TABLE case_state RESET (fillfactor)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE cases SET (fillfactor = 70)")
        op.execute("ALTER TABLE case_state SET (fillfactor = 70)")
