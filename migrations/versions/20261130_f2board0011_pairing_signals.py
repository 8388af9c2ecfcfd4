"""Each pairing's signals beside its held meetings: open questions, the pause, "Not a good fit", the lowest pulse.

Revision ID: f2board0011
Revises: f1pages0010
Create Date: 2026-11-30 16:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f2board0011'
down_revision = 'f1pages0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('pairing_activity', schema=None) as batch_op:
        batch_op.add_column(sa.Column('open_help', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('paused_until', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('said_not_a_fit', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('lowest_latest_pulse', sa.Integer(), nullable=True))
    # Work out the signals already there, so the board reads the same after the upgrade as before it.
    bind = op.get_bind()
    activity = sa.table(
        'pairing_activity', sa.column('pairing_id'), sa.column('held_meetings'), sa.column('open_help'),
        sa.column('paused_until'), sa.column('said_not_a_fit'), sa.column('lowest_latest_pulse'),
    )
    helps = sa.table('help_requests', sa.column('pairing_id'), sa.column('status'))
    pauses = sa.table('pairing_pauses', sa.column('pairing_id'), sa.column('until', sa.Date()), sa.column('resumed_at'))
    check_ins = sa.table(
        'check_ins', sa.column('pairing_id'), sa.column('user_id'), sa.column('round'), sa.column('fit'),
        sa.column('score'), sa.column('answered_at'),
    )
    found = {}
    for pairing_id, count in bind.execute(
        sa.select(helps.c.pairing_id, sa.func.count())
        .where(helps.c.pairing_id.is_not(None), helps.c.status != 'resolved')
        .group_by(helps.c.pairing_id)
    ):
        found.setdefault(pairing_id, {})['open_help'] = count
    for pairing_id, until in bind.execute(
        sa.select(pauses.c.pairing_id, sa.func.max(pauses.c.until))
        .where(pauses.c.resumed_at.is_(None))
        .group_by(pauses.c.pairing_id)
    ):
        found.setdefault(pairing_id, {})['paused_until'] = until
    answered = check_ins.c.answered_at.is_not(None)
    for (pairing_id,) in bind.execute(
        sa.select(check_ins.c.pairing_id)
        .where(answered, check_ins.c.round == 0, check_ins.c.fit == 'not_a_fit')
        .group_by(check_ins.c.pairing_id)
    ):
        found.setdefault(pairing_id, {})['said_not_a_fit'] = True
    last = (
        sa.select(check_ins.c.pairing_id, check_ins.c.user_id, sa.func.max(check_ins.c.round).label('round'))
        .where(answered, check_ins.c.round > 0)
        .group_by(check_ins.c.pairing_id, check_ins.c.user_id)
        .subquery()
    )
    for pairing_id, score in bind.execute(
        sa.select(check_ins.c.pairing_id, sa.func.min(check_ins.c.score))
        .join(last, sa.and_(
            last.c.pairing_id == check_ins.c.pairing_id, last.c.user_id == check_ins.c.user_id,
            last.c.round == check_ins.c.round,
        ))
        .group_by(check_ins.c.pairing_id)
    ):
        if score is not None:
            found.setdefault(pairing_id, {})['lowest_latest_pulse'] = score
    if not found:
        return
    existing = set(bind.execute(sa.select(activity.c.pairing_id).where(activity.c.pairing_id.in_(list(found)))).scalars())
    missing = [pairing_id for pairing_id in found if pairing_id not in existing]
    if missing:
        op.bulk_insert(activity, [{'pairing_id': pairing_id, 'held_meetings': 0} for pairing_id in missing])
    columns = ('open_help', 'paused_until', 'said_not_a_fit', 'lowest_latest_pulse')
    defaults = {'open_help': 0, 'paused_until': None, 'said_not_a_fit': False, 'lowest_latest_pulse': None}
    bind.execute(
        activity.update()
        .where(activity.c.pairing_id == sa.bindparam('key'))
        .values({name: sa.bindparam(f'new_{name}') for name in columns}),
        [
            {'key': pairing_id, **{f'new_{name}': value for name, value in {**defaults, **values}.items()}}
            for pairing_id, values in found.items()
        ],
    )


def downgrade():
    with op.batch_alter_table('pairing_activity', schema=None) as batch_op:
        batch_op.drop_column('lowest_latest_pulse')
        batch_op.drop_column('said_not_a_fit')
        batch_op.drop_column('paused_until')
        batch_op.drop_column('open_help')
