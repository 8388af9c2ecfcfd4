"""One running matching run per cycle, enforced by the database.

Revision ID: e7harden0008
Revises: d7c0ffee0007
Create Date: 2026-11-30 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e7harden0008'
down_revision = 'd7c0ffee0007'
branch_labels = None
depends_on = None


def upgrade():
    # Runs left alive by earlier races: keep the newest running run of each cycle, mark the others failed.
    op.execute(
        "UPDATE matching_runs SET status = 'failed', error = 'Stopped: another run of this cycle was running.' "
        "WHERE status = 'running' AND id NOT IN "
        "(SELECT max(id) FROM matching_runs WHERE status = 'running' GROUP BY cycle_id)"
    )
    with op.batch_alter_table('matching_runs', schema=None) as batch_op:
        batch_op.create_index(
            'uq_matching_runs_running_cycle',
            ['cycle_id'],
            unique=True,
            sqlite_where=sa.text("status = 'running'"),
            postgresql_where=sa.text("status = 'running'"),
        )


def downgrade():
    with op.batch_alter_table('matching_runs', schema=None) as batch_op:
        batch_op.drop_index('uq_matching_runs_running_cycle')
