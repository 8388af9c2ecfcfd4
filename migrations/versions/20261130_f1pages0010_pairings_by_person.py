"""An index on each side of a pairing, so "this person's pairings" reads a few rows, not the whole cycle.

Revision ID: f1pages0010
Revises: f1board0010
Create Date: 2026-11-30 13:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'f1pages0010'
down_revision = 'f1board0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('pairings', schema=None) as batch_op:
        batch_op.create_index('ix_pairings_mentor_id', ['mentor_id'], unique=False)
        batch_op.create_index('ix_pairings_mentee_id', ['mentee_id'], unique=False)


def downgrade():
    with op.batch_alter_table('pairings', schema=None) as batch_op:
        batch_op.drop_index('ix_pairings_mentee_id')
        batch_op.drop_index('ix_pairings_mentor_id')
