"""A cycle's minimum score: "Match the rest" never proposes a pair scoring less (and each run keeps the one it used).

Revision ID: e1match0008
Revises: e8walk0008
Create Date: 2026-11-30 09:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e1match0008'
down_revision = 'e8walk0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cycles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('min_score', sa.Integer(), server_default='30', nullable=False))
        batch_op.create_check_constraint(op.f('ck_cycles_min_score'), 'min_score BETWEEN 0 AND 100')
    with op.batch_alter_table('matching_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('min_score', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('matching_runs', schema=None) as batch_op:
        batch_op.drop_column('min_score')
    with op.batch_alter_table('cycles', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_cycles_min_score'), type_='check')
        batch_op.drop_column('min_score')
