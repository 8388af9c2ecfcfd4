"""The shared notes' text at each saved version, the base of a three-way merge.

Revision ID: e8walk0008
Revises: e7harden0008
Create Date: 2026-11-30 09:25:49.793486

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e8walk0008'
down_revision = 'e7harden0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('note_versions',
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('saved_by_id', sa.Integer(), nullable=True),
    sa.Column('saved_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_note_versions_meeting_id_meetings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['saved_by_id'], ['users.id'], name=op.f('fk_note_versions_saved_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('meeting_id', 'version', name=op.f('pk_note_versions'))
    )
    # The notes saved so far become their current version's base; older versions were never kept.
    op.execute(
        "INSERT INTO note_versions (meeting_id, version, text, saved_by_id, saved_at) "
        "SELECT id, notes_version, notes, notes_updated_by_id, COALESCE(notes_updated_at, updated_at) "
        "FROM meetings WHERE notes_version > 0"
    )


def downgrade():
    op.drop_table('note_versions')
