"""An index on when each questionnaire step was saved, so "which mentors answered since" reads only those steps.

Revision ID: f3matchidx0012
Revises: f2reports0011
Create Date: 2026-11-30 18:40:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'f3matchidx0012'
down_revision = 'f2reports0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('profile_steps', schema=None) as batch_op:
        batch_op.create_index('ix_profile_steps_updated_at', ['updated_at'], unique=False)


def downgrade():
    with op.batch_alter_table('profile_steps', schema=None) as batch_op:
        batch_op.drop_index('ix_profile_steps_updated_at')
