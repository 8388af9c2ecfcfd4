"""The roster, roster imports, nudges, nudge preferences and "just curious" counts.

Revision ID: c6c0ffee0006
Revises: b5c0ffee0005
Create Date: 2026-11-26 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c6c0ffee0006'
down_revision = 'b5c0ffee0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('roster_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('team_name', sa.String(length=80), nullable=False),
    sa.Column('manager_email', sa.String(length=254), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roster_entries')),
    sa.UniqueConstraint('email', name=op.f('uq_roster_entries_email'))
    )
    with op.batch_alter_table('roster_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_roster_entries_manager_email'), ['manager_email'], unique=False)

    op.create_table('roster_imports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('rows', sa.JSON(), nullable=False),
    sa.Column('problems', sa.JSON(), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_roster_imports_uploaded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_roster_imports'))
    )
    with op.batch_alter_table('roster_imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_roster_imports_applied_at'), ['applied_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_roster_imports_created_at'), ['created_at'], unique=False)

    op.create_table('nudges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sender_id', sa.Integer(), nullable=False),
    sa.Column('recipient_email', sa.String(length=254), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('suggested_role', sa.Enum('mentor', 'mentee', 'either', name='nudgerole', native_enum=False, length=20), nullable=True),
    sa.Column('show_name', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answer', sa.Enum('interested', 'more', 'not_now', 'no_thanks', name='nudgeanswer', native_enum=False, length=20), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['sender_id'], ['users.id'], name=op.f('fk_nudges_sender_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_nudges'))
    )
    with op.batch_alter_table('nudges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_nudges_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_nudges_recipient_created', ['recipient_email', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_nudges_sender_id'), ['sender_id'], unique=False)

    op.create_table('nudge_preferences',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('nudges_off', sa.Boolean(), nullable=False),
    sa.Column('declined_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('snoozed_until', sa.Date(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_nudge_preferences_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_nudge_preferences'))
    )

    op.create_table('interest_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('visit', 'start', 'more', 'not_now', name='interestkind', native_enum=False, length=20), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_interest_events'))
    )
    with op.batch_alter_table('interest_events', schema=None) as batch_op:
        batch_op.create_index('ix_interest_events_kind_day', ['kind', 'occurred_on'], unique=False)


def downgrade():
    with op.batch_alter_table('interest_events', schema=None) as batch_op:
        batch_op.drop_index('ix_interest_events_kind_day')

    op.drop_table('interest_events')
    op.drop_table('nudge_preferences')
    with op.batch_alter_table('nudges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_nudges_sender_id'))
        batch_op.drop_index('ix_nudges_recipient_created')
        batch_op.drop_index(batch_op.f('ix_nudges_created_at'))

    op.drop_table('nudges')
    with op.batch_alter_table('roster_imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_roster_imports_created_at'))
        batch_op.drop_index(batch_op.f('ix_roster_imports_applied_at'))

    op.drop_table('roster_imports')
    with op.batch_alter_table('roster_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_roster_entries_manager_email'))

    op.drop_table('roster_entries')
