"""What the home page gathers about a person's pairings."""

from __future__ import annotations

from sqlalchemy import select

from portal.clock import utcnow
from portal.extensions import db
from portal.goals.services import goal_summaries
from portal.models import ActionItem, Meeting, MeetingStatus


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
    upcoming = db.session.scalars(
        select(Meeting)
        .where(
            Meeting.pairing_id.in_(ids),
            Meeting.status == MeetingStatus.PLANNED,
            Meeting.starts_at >= utcnow(),
        )
        .order_by(Meeting.starts_at)
    ).all()
    next_meetings: dict[int, Meeting] = {}
    for meeting in upcoming:
        next_meetings.setdefault(meeting.pairing_id, meeting)
    open_actions = db.session.scalars(
        select(ActionItem)
        .where(ActionItem.owner_id == user.id, ActionItem.done_at.is_(None), ActionItem.pairing_id.in_(ids))
        .order_by(ActionItem.due_on.is_(None), ActionItem.due_on, ActionItem.id)
        .limit(10)
    ).all()
    return {"goals_by_pairing": goals_by_pairing, "next_meetings": next_meetings, "open_actions": open_actions}
