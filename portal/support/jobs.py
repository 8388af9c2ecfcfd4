"""Gentle re-engagement: one kind "time for a catch-up?" note to pairs that have gone quiet.

``send_catch_up_notes`` is a plain, idempotent function (the job queue schedules it; ``flask
send-catch-up-notes`` runs it by hand or from cron): running it twice on a day sends nothing twice.
"""

from __future__ import annotations

from datetime import date, timedelta

import click
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.database import batches
from portal.extensions import db
from portal.models import CatchUpNote, Cycle, Meeting, MeetingStatus, Pairing, PairingPause, PairingStatus, User
from portal.notifications.services import notify
from portal.support import bp
from portal.support.health import thresholds_for

CATCH_UP_MESSAGE = (
    "It has been a little while since you and {partner} last met. A short catch-up, even twenty minutes, "
    "often helps things flow again. Plan one whenever it suits you both."
)


def send_catch_up_notes(*, today: date) -> int:
    """Send one kind note to both people of each quiet pair; return how many pairs were written to.

    A pair is quiet when its last held meeting (or its start, without one) is the cycle's quiet period ago
    (default 4 weeks) and nothing is planned ahead. Paused pairs are left alone, and a pair hears at most
    once every ``note_spacing_weeks`` (default 3). The note goes to both and never says who has been quiet.
    A fixed number of queries per running cycle.
    """
    sent = 0
    cycles = db.session.scalars(select(Cycle).where(Cycle.starts_on <= today, Cycle.ends_on >= today)).all()
    for cycle in cycles:
        t = thresholds_for(cycle.id)
        quiet_before = today - timedelta(weeks=t.quiet_weeks)
        last_held = (
            select(Meeting.pairing_id, func.max(Meeting.starts_at).label("last"))
            .where(Meeting.status == MeetingStatus.HELD)
            .group_by(Meeting.pairing_id)
            .subquery()
        )
        planned = select(Meeting.pairing_id).where(
            Meeting.status == MeetingStatus.PLANNED, Meeting.held_on.is_(None), Meeting.starts_at >= _midnight(today)
        )
        paused = select(PairingPause.pairing_id).where(PairingPause.resumed_at.is_(None), PairingPause.until > today)
        noted = select(CatchUpNote.pairing_id).where(
            CatchUpNote.sent_on > today - timedelta(weeks=t.note_spacing_weeks)
        )
        due = db.session.scalars(
            select(Pairing)
            .outerjoin(last_held, last_held.c.pairing_id == Pairing.id)
            .where(
                Pairing.cycle_id == cycle.id,
                Pairing.status == PairingStatus.ACTIVE,
                func.coalesce(last_held.c.last, Pairing.created_at) < _midnight(quiet_before + timedelta(days=1)),
                Pairing.id.not_in(planned),
                Pairing.id.not_in(paused),
                Pairing.id.not_in(noted),
            )
        ).all()
        people = _people({uid for p in due for uid in (p.mentor_id, p.mentee_id)})
        for pairing in due:
            try:
                with db.session.begin_nested():
                    db.session.add(CatchUpNote(pairing_id=pairing.id, sent_on=today))
            except IntegrityError:
                continue  # another run got there first today
            mentor, mentee = people[pairing.mentor_id], people[pairing.mentee_id]
            for person, partner in ((mentor, mentee), (mentee, mentor)):
                notify(
                    person,
                    CATCH_UP_MESSAGE.format(partner=partner.display_name),
                    endpoint="journals.plan",
                    pairing_id=pairing.id,
                    email_subject="Time for a catch-up?",
                )
            sent += 1
    db.session.flush()
    return sent


def _people(ids: set[int]) -> dict[int, User]:
    return {u.id: u for chunk in batches(ids) for u in db.session.scalars(select(User).where(User.id.in_(chunk)))}


def _midnight(day: date):
    from datetime import UTC, datetime, time

    return datetime.combine(day, time.min, tzinfo=UTC)


@bp.cli.command("send-catch-up-notes")
def send_catch_up_notes_command() -> None:
    """Send a kind catch-up note to pairs that have gone quiet (daily; safe to run more often)."""
    from portal.clock import today

    sent = send_catch_up_notes(today=today())
    db.session.commit()
    click.echo(f"{sent} quiet {'pair was' if sent == 1 else 'pairs were'} sent a catch-up note.")
