"""Registrations waiting for their emailed link (the password only as its argon2id hash).

Revision ID: e9register0009
Revises: e3queue0008
Create Date: 2026-11-30 10:42:59.456749

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e9register0009'
down_revision = 'e3queue0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pending_registrations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('display_name', sa.String(length=80), nullable=False),
    sa.Column('team_name', sa.String(length=80), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('nonce', sa.String(length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('emailed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_registrations')),
    sa.UniqueConstraint('email', name=op.f('uq_pending_registrations_email'))
    )


def downgrade():
    op.drop_table('pending_registrations')
