"""Each pairing's cancelled and moved meetings beside its held ones, so the impact report reads no meeting.

Revision ID: f4meetings0013
Revises: f3matchidx0012
Create Date: 2026-12-01 04:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f4meetings0013'
down_revision = 'f3matchidx0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('pairing_activity', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancelled_meetings', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('moved_meetings', sa.Integer(), server_default='0', nullable=False))
    # Count the meetings already there, so the report reads the same after the upgrade as before it. A pairing
    # whose meetings were never held has no activity row yet: it gets one, with nothing held.
    bind = op.get_bind()
    activity = sa.table(
        'pairing_activity', sa.column('pairing_id'), sa.column('held_meetings'), sa.column('cancelled_meetings'),
        sa.column('moved_meetings'),
    )
    meetings = sa.table('meetings', sa.column('pairing_id'), sa.column('status'), sa.column('reschedules'))
    found = {
        pairing_id: {'cancelled': cancelled, 'moved': moved}
        for pairing_id, cancelled, moved in bind.execute(
            sa.select(
                meetings.c.pairing_id,
                sa.func.count(sa.case((meetings.c.status == 'cancelled', 1))),
                sa.func.count(sa.case((meetings.c.reschedules > 0, 1))),
            )
            .group_by(meetings.c.pairing_id)
        )
        if cancelled or moved
    }
    if not found:
        return
    existing = set(bind.execute(sa.select(activity.c.pairing_id).where(activity.c.pairing_id.in_(list(found)))).scalars())
    missing = [pairing_id for pairing_id in found if pairing_id not in existing]
    if missing:
        op.bulk_insert(activity, [{'pairing_id': pairing_id, 'held_meetings': 0} for pairing_id in missing])
    bind.execute(
        activity.update()
        .where(activity.c.pairing_id == sa.bindparam('key'))
        .values(cancelled_meetings=sa.bindparam('cancelled'), moved_meetings=sa.bindparam('moved')),
        [{'key': pairing_id, **counts} for pairing_id, counts in found.items()],
    )


def downgrade():
    with op.batch_alter_table('pairing_activity', schema=None) as batch_op:
        batch_op.drop_column('moved_meetings')
        batch_op.drop_column('cancelled_meetings')
