"""What the home page gathers about a person's pairings."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Row, bindparam, select

from portal.clock import utcnow
from portal.extensions import db
from portal.goals.services import goal_summaries
from portal.models import (
    ActionItem,
    Cycle,
    Enrolment,
    HelpRequest,
    Meeting,
    MeetingStatus,
    SupportSettings,
    User,
)
from portal.support.health import Thresholds

# The current cycle as this person meets it, as one row even when no cycle is current: the cycle, the person's
# enrolment in it, its back-up plan's thresholds, and whether the person ever asked the director something.
_PROGRAM = (
    select(Cycle, Enrolment, SupportSettings, select(HelpRequest.id).where(HelpRequest.user_id == User.id).exists())
    .select_from(User)
    .outerjoin(Cycle, Cycle.is_current.is_(True))
    .outerjoin(Enrolment, (Enrolment.cycle_id == Cycle.id) & (Enrolment.user_id == User.id))
    .outerjoin(SupportSettings, SupportSettings.cycle_id == Cycle.id)
    .where(User.id == bindparam("user_id"))
    .limit(1)
)


@dataclass(frozen=True)
class Program:
    """What the home page needs of the program for one person."""

    cycle: Cycle | None
    enrolment: Enrolment | None
    thresholds: Thresholds
    has_help: bool


def program_for(user: User) -> Program:
    """The current cycle (if any), the person's enrolment in it, its thresholds and whether the person has
    questions with the director, in one query."""
    cycle, enrolment, settings, has_help = db.session.execute(_PROGRAM, {"user_id": user.id}).one()
    return Program(cycle, enrolment, Thresholds.of(settings), bool(has_help))


# Built once, as plain rows of what the page shows: building a select per request cost more than running it.
_UPCOMING = (
    select(Meeting.pairing_id, Meeting.starts_at, Meeting.duration_minutes)
    .where(
        Meeting.pairing_id.in_(bindparam("pairing_ids", expanding=True)),
        Meeting.status == MeetingStatus.PLANNED,
        Meeting.starts_at >= bindparam("now"),
    )
    .order_by(Meeting.starts_at)
)
_OPEN_ACTIONS = (
    select(ActionItem.title, ActionItem.due_on)
    .where(
        ActionItem.owner_id == bindparam("user_id"),
        ActionItem.done_at.is_(None),
        ActionItem.pairing_id.in_(bindparam("pairing_ids", expanding=True)),
    )
    .order_by(ActionItem.due_on.is_(None), ActionItem.due_on, ActionItem.id)
    .limit(10)
)


def pair_life(user, pairings) -> dict:
    """What the home page shows of each pairing: active goals with progress, the next meeting, open actions.

    A fixed number of queries whatever the number of goals, meetings or actions.
    """
    if not pairings:
        return {"goals_by_pairing": {}, "next_meetings": {}, "open_actions": []}
    ids = [p.id for p in pairings]
    goals_by_pairing: dict[int, list] = {}
    for summary in goal_summaries(ids):
        goals_by_pairing.setdefault(summary.pairing_id, []).append(summary)
    # Plain rows: the session's connection runs them without the ORM's bookkeeping per statement.
    connection = db.session.connection()
    upcoming = connection.execute(_UPCOMING, {"pairing_ids": ids, "now": utcnow()})
    next_meetings: dict[int, Row] = {}
    for meeting in upcoming:
        next_meetings.setdefault(meeting.pairing_id, meeting)
    open_actions = connection.execute(_OPEN_ACTIONS, {"user_id": user.id, "pairing_ids": ids}).all()
    return {"goals_by_pairing": goals_by_pairing, "next_meetings": next_meetings, "open_actions": open_actions}
