"""Each pairing's held meetings (how many, the first and last day), kept as meetings change.

Revision ID: f1board0010
Revises: e9register0009
Create Date: 2026-11-30 13:10:00

"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f1board0010'
down_revision = 'e9register0009'
branch_labels = None
depends_on = None


def _day(value):
    # SQLite hands aggregates back as text, PostgreSQL as datetimes.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).date()


def upgrade():
    activity = op.create_table('pairing_activity',
    sa.Column('pairing_id', sa.Integer(), nullable=False),
    sa.Column('held_meetings', sa.Integer(), nullable=False),
    sa.Column('first_held_on', sa.Date(), nullable=True),
    sa.Column('last_held_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['pairing_id'], ['pairings.id'], name=op.f('fk_pairing_activity_pairing_id_pairings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('pairing_id', name=op.f('pk_pairing_activity'))
    )
    # Count the meetings already held, so the board reads the same after the upgrade as before it.
    meetings = sa.table('meetings', sa.column('pairing_id'), sa.column('status'), sa.column('starts_at'))
    rows = op.get_bind().execute(
        sa.select(meetings.c.pairing_id, sa.func.count(), sa.func.min(meetings.c.starts_at), sa.func.max(meetings.c.starts_at))
        .where(meetings.c.status == 'held')
        .group_by(meetings.c.pairing_id)
    ).all()
    if rows:
        op.bulk_insert(activity, [
            {'pairing_id': pairing_id, 'held_meetings': count, 'first_held_on': _day(first), 'last_held_on': _day(last)}
            for pairing_id, count, first, last in rows
        ])


def downgrade():
    op.drop_table('pairing_activity')
