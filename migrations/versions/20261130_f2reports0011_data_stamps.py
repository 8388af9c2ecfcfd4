"""A change count per watched table, so the impact report's figures can be kept until their data changes.

Revision ID: f2reports0011
Revises: f2board0011
Create Date: 2026-11-30 15:40:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = 'f2reports0011'
down_revision = 'f2board0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'data_stamps',
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('version', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_data_stamps')),
    )


def downgrade():
    op.drop_table('data_stamps')
