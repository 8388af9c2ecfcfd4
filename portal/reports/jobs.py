"""Scheduled work of the reports area: closing the pairings of cycles that have ended."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, update

from portal.clock import utcnow
from portal.extensions import db
from portal.models import Cycle, Pairing, PairingEnd, PairingStatus, User


def close_finished_cycles(*, on: date) -> int:
    """Close the active pairings of every cycle whose end date is before ``on`` as completed.

    Each partner is told and offered the retrospective. Idempotent: a second run finds nothing active, and a
    pairing closed early keeps how it ended. Nothing is deleted. Returns the number of pairings closed.
    """
    due = db.session.execute(
        select(Pairing.id, Pairing.mentor_id, Pairing.mentee_id)
        .join(Cycle, Cycle.id == Pairing.cycle_id)
        .where(Pairing.status == PairingStatus.ACTIVE, Cycle.ends_on < on)
    ).all()
    if not due:
        return 0
    now = utcnow()
    # Conditional on still being active, so a pairing closed meanwhile by a partner keeps its own ending.
    ids = [row.id for row in due]
    db.session.execute(
        update(Pairing)
        .where(Pairing.id.in_(ids), Pairing.status == PairingStatus.ACTIVE)
        .values(status=PairingStatus.ENDED, ended_at=now, end_kind=PairingEnd.COMPLETED)
        .execution_options(synchronize_session=False)
    )
    closed_ids = set(db.session.scalars(select(Pairing.id).where(Pairing.id.in_(ids), Pairing.ended_at == now)))
    offer_retrospectives([row for row in due if row.id in closed_ids])
    db.session.flush()
    return len(closed_ids)


def offer_retrospectives(rows) -> None:
    """Tell both partners of each ended pairing (rows of id, mentor_id, mentee_id) that a retrospective waits."""
    from portal.notifications.services import notify, path_for

    people = {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(_ids(rows))))}
    for row in rows:
        # A path, not url_for: this runs from the command line, outside any request.
        link = path_for("reports.retrospective", pairing_id=row.id)
        for user_id in (row.mentor_id, row.mentee_id):
            notify(
                people[user_id],
                "Your pairing has come to the end of its cycle. Thank you for taking part. If you like, a few "
                "short questions help the program learn; every one can be skipped.",
                link=link,
            )


def _ids(rows) -> set[int]:
    return {user_id for row in rows for user_id in (row.mentor_id, row.mentee_id)}
