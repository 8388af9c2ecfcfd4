"""Each person's time zone, and how an ended pairing ended.

Revision ID: d7c0ffee0007
Revises: c6c0ffee0006
Create Date: 2026-11-30 09:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd7c0ffee0007'
down_revision = 'c6c0ffee0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('timezone', sa.String(length=64), nullable=True))
    with op.batch_alter_table('pairings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('end_kind', sa.Enum('completed', 'closed_early', name='pairingend', native_enum=False, length=20), nullable=True))


def downgrade():
    with op.batch_alter_table('pairings', schema=None) as batch_op:
        batch_op.drop_column('end_kind')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('timezone')
