"""The celebration wall: posts, reactions and private reports.

Revision ID: b5c0ffee0005
Revises: a4d0c1e2f3a4
Create Date: 2026-11-26 02:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "b5c0ffee0005"
down_revision = "a4d0c1e2f3a4"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('celebrations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('milestone', 'goal', 'first_meeting', 'cycle_completed', 'kudos', name='celebrationkind', native_enum=False, length=20), nullable=False),
    sa.Column('status', sa.Enum('proposed', 'published', 'dismissed', name='celebrationstatus', native_enum=False, length=20), nullable=False),
    sa.Column('audience', sa.Enum('everyone', 'pair', name='celebrationaudience', native_enum=False, length=20), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('skill_key', sa.String(length=60), nullable=True),
    sa.Column('cycle_id', sa.Integer(), nullable=True),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('pairing_id', sa.Integer(), nullable=True),
    sa.Column('goal_id', sa.Integer(), nullable=True),
    sa.Column('milestone_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('hidden_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('hidden_by_id', sa.Integer(), nullable=True),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('clap_count', sa.Integer(), nullable=False),
    sa.Column('heart_count', sa.Integer(), nullable=False),
    sa.Column('sparkle_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_celebrations_author_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycles.id'], name=op.f('fk_celebrations_cycle_id_cycles'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['goal_id'], ['goals.id'], name=op.f('fk_celebrations_goal_id_goals'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['hidden_by_id'], ['users.id'], name=op.f('fk_celebrations_hidden_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['milestone_id'], ['milestones.id'], name=op.f('fk_celebrations_milestone_id_milestones'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['pairing_id'], ['pairings.id'], name=op.f('fk_celebrations_pairing_id_pairings'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['subject_id'], ['users.id'], name=op.f('fk_celebrations_subject_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_celebrations_team_id_teams'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_celebrations'))
    )
    with op.batch_alter_table('celebrations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_celebrations_author_id'), ['author_id'], unique=False)
        batch_op.create_index('ix_celebrations_cycle_wall', ['cycle_id', 'published_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_celebrations_pairing_id'), ['pairing_id'], unique=False)
        batch_op.create_index('ix_celebrations_skill_wall', ['skill_key', 'published_at', 'id'], unique=False)
        batch_op.create_index('ix_celebrations_subject_status', ['subject_id', 'status'], unique=False)
        batch_op.create_index('ix_celebrations_team_wall', ['team_id', 'published_at', 'id'], unique=False)
        batch_op.create_index('ix_celebrations_wall', ['published_at', 'id', 'status', 'audience', 'hidden_at', 'deleted_at', 'kind'], unique=False)

    op.create_table('celebration_reactions',
    sa.Column('celebration_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['celebration_id'], ['celebrations.id'], name=op.f('fk_celebration_reactions_celebration_id_celebrations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_celebration_reactions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('celebration_id', 'user_id', 'kind', name=op.f('pk_celebration_reactions'))
    )
    op.create_table('celebration_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('celebration_id', sa.Integer(), nullable=False),
    sa.Column('reporter_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['celebration_id'], ['celebrations.id'], name=op.f('fk_celebration_reports_celebration_id_celebrations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reporter_id'], ['users.id'], name=op.f('fk_celebration_reports_reporter_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_celebration_reports')),
    sa.UniqueConstraint('celebration_id', 'reporter_id', name=op.f('uq_celebration_reports_celebration_id_reporter_id'))
    )
    with op.batch_alter_table('celebration_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_celebration_reports_resolved_at'), ['resolved_at'], unique=False)


def downgrade():
    with op.batch_alter_table('celebration_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_celebration_reports_resolved_at'))

    op.drop_table('celebration_reports')
    op.drop_table('celebration_reactions')
    with op.batch_alter_table('celebrations', schema=None) as batch_op:
        batch_op.drop_index('ix_celebrations_wall')
        batch_op.drop_index('ix_celebrations_team_wall')
        batch_op.drop_index('ix_celebrations_subject_status')
        batch_op.drop_index('ix_celebrations_skill_wall')
        batch_op.drop_index(batch_op.f('ix_celebrations_pairing_id'))
        batch_op.drop_index('ix_celebrations_cycle_wall')
        batch_op.drop_index(batch_op.f('ix_celebrations_author_id'))

    op.drop_table('celebrations')
