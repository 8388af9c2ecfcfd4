"""Each pairing's activity and signals, worked out once when they change instead of on every visit to the board.

``pairing_activity`` holds, per pairing, how many meetings were held and the first and last day one was (the
UTC day of its start), how many were cancelled and how many moved at least once, how many of its questions for
the director are open, the day a pause not yet resumed runs to, whether a partner said "Not a good fit" at the
first check-in, and the lower of the two partners' latest pulses. A session listener works a pairing out again
in the same transaction whenever one of its meetings, check-ins, questions or pauses is added, changed or deleted
through the ORM; code that writes those rows with Core statements (bulk inserts, conditional updates) calls
``refresh`` itself.

The refresh takes the activity row's lock first: on PostgreSQL two requests changing one pair at once then run
one after the other, and the second one's reads (new statements, so new snapshots under READ COMMITTED) see the
first one's rows. SQLite has one writer at a time anyway.
"""

from __future__ import annotations

from datetime import UTC

from sqlalchemy import and_, bindparam, case, event, func, inspect, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from portal.database import conflict_insert
from portal.models import (
    CheckIn,
    Fit,
    HelpRequest,
    HelpStatus,
    Meeting,
    MeetingStatus,
    PairingActivity,
    PairingPause,
)

# Changing any other column of these rows (notes, topics, messages) leaves the activity as it is.
_WATCHED = {
    Meeting: ("status", "starts_at", "reschedules", "pairing_id"),
    CheckIn: ("pairing_id", "user_id", "round", "fit", "score", "answered_at"),
    HelpRequest: ("pairing_id", "status"),
    PairingPause: ("pairing_id", "until", "resumed_at"),
}
_SIGNALS = {"open_help": 0, "paused_until": None, "said_not_a_fit": False, "lowest_latest_pulse": None}


def refresh(connection: Connection, pairing_ids) -> None:
    """Work out the activity and signals of these pairings into ``pairing_activity``, making rows that are missing.

    Takes the rows' locks in id order, so concurrent refreshes of overlapping pairings cannot deadlock.
    """
    ids = sorted(set(pairing_ids))
    if not ids:
        return
    connection.execute(
        conflict_insert(PairingActivity, connection)
        .values([{"pairing_id": pairing_id, "held_meetings": 0} for pairing_id in ids])
        .on_conflict_do_nothing(index_elements=["pairing_id"])
    )
    mine = PairingActivity.pairing_id.in_(ids)
    connection.execute(
        select(PairingActivity.pairing_id).where(mine).order_by(PairingActivity.pairing_id).with_for_update()
    )
    # Parameters named apart from the columns: the columns' own names are taken by the SET clause.
    start = {
        "count": 0,
        "first": None,
        "last": None,
        "cancelled": 0,
        "moved": 0,
        **{f"new_{name}": value for name, value in _SIGNALS.items()},
    }
    found = {pairing_id: dict(start) for pairing_id in ids}
    held = Meeting.status == MeetingStatus.HELD
    for pairing_id, count, first, last, cancelled, moved in connection.execute(
        select(
            Meeting.pairing_id,
            func.count(case((held, 1))),
            func.min(case((held, Meeting.starts_at))),
            func.max(case((held, Meeting.starts_at))),
            func.count(case((Meeting.status == MeetingStatus.CANCELLED, 1))),
            func.count(case((Meeting.reschedules > 0, 1))),
        )
        .where(Meeting.pairing_id.in_(ids))
        .group_by(Meeting.pairing_id)
    ):
        if first is not None:
            first, last = first.astimezone(UTC).date(), last.astimezone(UTC).date()
        found[pairing_id].update(count=count, first=first, last=last, cancelled=cancelled, moved=moved)
    for name, pairing_id, value in _signals(connection, ids):
        found[pairing_id][f"new_{name}"] = value
    connection.execute(
        update(PairingActivity)
        .where(PairingActivity.pairing_id == bindparam("key"))
        .values(
            held_meetings=bindparam("count"),
            first_held_on=bindparam("first"),
            last_held_on=bindparam("last"),
            cancelled_meetings=bindparam("cancelled"),
            moved_meetings=bindparam("moved"),
            **{name: bindparam(f"new_{name}") for name in _SIGNALS},
        ),
        [{"key": pairing_id, **values} for pairing_id, values in found.items()],
    )


def _signals(connection: Connection, ids: list[int]):
    """(signal, pairing id, value) for every signal of these pairings that is not at its default."""
    for pairing_id, count in connection.execute(
        select(HelpRequest.pairing_id, func.count())
        .where(HelpRequest.pairing_id.in_(ids), HelpRequest.status != HelpStatus.RESOLVED)
        .group_by(HelpRequest.pairing_id)
    ):
        yield "open_help", pairing_id, count
    for pairing_id, until in connection.execute(
        select(PairingPause.pairing_id, func.max(PairingPause.until))
        .where(PairingPause.pairing_id.in_(ids), PairingPause.resumed_at.is_(None))
        .group_by(PairingPause.pairing_id)
    ):
        yield "paused_until", pairing_id, until
    answered = and_(CheckIn.pairing_id.in_(ids), CheckIn.answered_at.is_not(None))
    for (pairing_id,) in connection.execute(
        select(CheckIn.pairing_id)
        .where(answered, CheckIn.round == 0, CheckIn.fit == Fit.NOT_A_FIT)
        .group_by(CheckIn.pairing_id)
    ):
        yield "said_not_a_fit", pairing_id, True
    # Each partner's latest answered pulse, then the lower of the pair's.
    last_round = (
        select(CheckIn.pairing_id, CheckIn.user_id, func.max(CheckIn.round).label("round"))
        .where(answered, CheckIn.round > 0)
        .group_by(CheckIn.pairing_id, CheckIn.user_id)
        .subquery()
    )
    for pairing_id, score in connection.execute(
        select(CheckIn.pairing_id, func.min(CheckIn.score))
        .join(
            last_round,
            and_(
                last_round.c.pairing_id == CheckIn.pairing_id,
                last_round.c.user_id == CheckIn.user_id,
                last_round.c.round == CheckIn.round,
            ),
        )
        .group_by(CheckIn.pairing_id)
    ):
        yield "lowest_latest_pulse", pairing_id, score


def _touched(session: Session) -> set[int]:
    """The pairings whose activity or signals this flush may have changed."""
    found = set()
    for row in (*session.new, *session.deleted):
        if type(row) in _WATCHED and row.pairing_id is not None:
            found.add(row.pairing_id)
    for row in session.dirty:
        watched = _WATCHED.get(type(row))
        if watched is None:
            continue
        state = inspect(row)
        if any(state.attrs[name].history.has_changes() for name in watched):
            if row.pairing_id is not None:
                found.add(row.pairing_id)
            found.update(p for p in state.attrs.pairing_id.history.deleted if p is not None)
    return found


@event.listens_for(Session, "after_flush")
def _refresh_after_flush(session: Session, flush_context) -> None:
    touched = _touched(session)
    if touched:
        refresh(session.connection(), touched)
