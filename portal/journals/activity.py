"""Each pairing's held meetings, counted once when they change instead of on every visit to the board.

``pairing_activity`` holds, per pairing, how many meetings were held and the first and last day one was (the
UTC day of its start). A session listener recounts a pairing in the same transaction whenever one of its
meetings is added, changed or deleted through the ORM; code that inserts meetings in bulk with Core calls
``refresh`` itself.

The recount takes the activity row's lock first: on PostgreSQL two requests logging meetings of one pair at
once then run one after the other, and the second one's count (a new statement, so a new snapshot under READ
COMMITTED) sees the first one's meeting. SQLite has one writer at a time anyway.
"""

from __future__ import annotations

from datetime import UTC

from sqlalchemy import bindparam, event, func, inspect, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from portal.models import Meeting, MeetingStatus, PairingActivity

# Changing any other column of a meeting (its notes, topics, format) leaves the counts as they are.
_COUNTED = ("status", "starts_at", "pairing_id")


def refresh(connection: Connection, pairing_ids) -> None:
    """Recount the held meetings of these pairings into ``pairing_activity``, making rows that are missing.

    Takes the rows' locks in id order, so concurrent recounts of overlapping pairings cannot deadlock.
    """
    ids = sorted(set(pairing_ids))
    if not ids:
        return
    dialect = connection.dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    connection.execute(
        insert(PairingActivity)
        .values([{"pairing_id": pairing_id, "held_meetings": 0} for pairing_id in ids])
        .on_conflict_do_nothing(index_elements=["pairing_id"])
    )
    mine = PairingActivity.pairing_id.in_(ids)
    connection.execute(
        select(PairingActivity.pairing_id).where(mine).order_by(PairingActivity.pairing_id).with_for_update()
    )
    counted = {pairing_id: {"count": 0, "first": None, "last": None} for pairing_id in ids}
    for pairing_id, count, first, last in connection.execute(
        select(Meeting.pairing_id, func.count(), func.min(Meeting.starts_at), func.max(Meeting.starts_at))
        .where(Meeting.pairing_id.in_(ids), Meeting.status == MeetingStatus.HELD)
        .group_by(Meeting.pairing_id)
    ):
        first, last = first.astimezone(UTC).date(), last.astimezone(UTC).date()
        counted[pairing_id] = {"count": count, "first": first, "last": last}
    connection.execute(
        update(PairingActivity)
        .where(PairingActivity.pairing_id == bindparam("key"))
        .values(held_meetings=bindparam("count"), first_held_on=bindparam("first"), last_held_on=bindparam("last")),
        [{"key": pairing_id, **values} for pairing_id, values in counted.items()],
    )


def _touched(session: Session) -> set[int]:
    """The pairings whose held meetings this flush may have changed."""
    found = set()
    for meeting in (*session.new, *session.deleted):
        if isinstance(meeting, Meeting) and meeting.pairing_id is not None:
            found.add(meeting.pairing_id)
    for meeting in session.dirty:
        if not isinstance(meeting, Meeting):
            continue
        state = inspect(meeting)
        if any(state.attrs[name].history.has_changes() for name in _COUNTED):
            found.add(meeting.pairing_id)
            found.update(p for p in state.attrs.pairing_id.history.deleted if p is not None)
    return found


@event.listens_for(Session, "after_flush")
def _recount_after_flush(session: Session, flush_context) -> None:
    touched = _touched(session)
    if touched:
        refresh(session.connection(), touched)
