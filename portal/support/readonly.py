"""An ended pairing's journal, goals and reflections stay readable to its two people, and read only.

Rather than repeat a check in every journal and goal route, two guards refuse writes to a pairing that has
ended, with a kind 409 and nothing changed: at the request edge, a POST to a journal or goal page of an ended
pairing (this covers conditional UPDATEs and drafts too); and, as a safety net for any other path, a
``before_flush`` hook on the rows themselves. Each costs one query, and only when a write is on its way.
"""

from __future__ import annotations

from flask import request
from sqlalchemy import event, or_, select
from sqlalchemy.orm import Session

from portal.errors import Conflict
from portal.extensions import db
from portal.models import (
    ActionItem,
    Goal,
    GoalComment,
    Meeting,
    MeetingGoal,
    Milestone,
    Pairing,
    PairingStatus,
    Reflection,
)

ENDED_MESSAGE = (
    "This pairing has come to a close. Its journal and goals stay here for you to read, and can no longer "
    "be changed. Nothing was saved."
)


# What each URL argument of a journal or goal page names, and how it leads to its pairing.
_PAIRING_OF = {
    "pairing_id": lambda i: select(Pairing.id).where(Pairing.id == i),
    "meeting_id": lambda i: select(Meeting.pairing_id).where(Meeting.id == i),
    "action_id": lambda i: select(ActionItem.pairing_id).where(ActionItem.id == i),
    "goal_id": lambda i: select(Goal.pairing_id).where(Goal.id == i),
    "milestone_id": lambda i: (
        select(Goal.pairing_id).join(Milestone, Milestone.goal_id == Goal.id).where(Milestone.id == i)
    ),
}


def refuse_posts_to_ended_pairings() -> None:
    """Before a POST to a journal or goal page, refuse it when its pairing has ended (Conflict, 409)."""
    if request.method != "POST" or not request.endpoint or not request.view_args:
        return
    if request.blueprint not in ("journals", "goals"):
        return
    for name, pairing_of in _PAIRING_OF.items():
        if name in request.view_args:
            ended = db.session.scalar(
                select(Pairing.id).where(
                    Pairing.id.in_(pairing_of(request.view_args[name])), Pairing.status == PairingStatus.ENDED
                )
            )
            if ended is not None:
                raise Conflict(ENDED_MESSAGE)
            return


@event.listens_for(Session, "before_flush")
def refuse_writes_to_ended_pairings(session: Session, flush_context, instances) -> None:
    pairing_ids, goal_ids, meeting_ids = set(), set(), set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if obj not in session.new and obj not in session.deleted and not session.is_modified(obj):
            continue
        if isinstance(obj, Meeting | ActionItem | Goal):
            pairing_ids.add(obj.pairing_id)
        elif isinstance(obj, Milestone | GoalComment):
            goal_ids.add(obj.goal_id)
        elif isinstance(obj, Reflection | MeetingGoal):
            meeting_ids.add(obj.meeting_id)
    pairing_ids.discard(None)
    goal_ids.discard(None)
    meeting_ids.discard(None)
    if not (pairing_ids or goal_ids or meeting_ids):
        return
    conditions = []
    if pairing_ids:
        conditions.append(Pairing.id.in_(pairing_ids))
    if goal_ids:
        conditions.append(Pairing.id.in_(select(Goal.pairing_id).where(Goal.id.in_(goal_ids))))
    if meeting_ids:
        conditions.append(Pairing.id.in_(select(Meeting.pairing_id).where(Meeting.id.in_(meeting_ids))))
    with session.no_autoflush:
        ended = session.scalar(
            select(Pairing.id).where(Pairing.status == PairingStatus.ENDED, or_(*conditions)).limit(1)
        )
    if ended is not None:
        raise Conflict(ENDED_MESSAGE)
