"""The home page and the health check."""

from __future__ import annotations

from flask import render_template
from flask_login import current_user
from sqlalchemy import select, text

from portal.access import public
from portal.clock import utcnow
from portal.extensions import db
from portal.goals.services import goal_summaries
from portal.main import bp
from portal.matches.cohort import explain_pairs
from portal.matches.services import pairings_of
from portal.models import ActionItem, Meeting, MeetingStatus
from portal.onboarding.services import progress_for
from portal.programs.services import current_cycle, enrolment_for
from portal.support.services import home_support


@bp.route("/")
@public
def home():
    if not current_user.is_authenticated:
        return render_template("main/welcome.html")
    cycle = current_cycle()
    pairings = pairings_of(current_user, cycle) if cycle else []
    # Stored reasons speak to the mentee; a mentor reads them phrased for a mentor.
    mentoring = [(p.mentee_id, p.mentor_id) for p in pairings if p.mentor_id == current_user.id]
    mentor_reasons = explain_pairs(cycle, mentoring, audience="mentor") if mentoring else {}
    return render_template(
        "main/home.html",
        progress=progress_for(current_user),
        cycle=cycle,
        enrolment=enrolment_for(current_user, cycle),
        pairings=pairings,
        mentor_reasons=mentor_reasons,
        support=home_support(current_user, pairings, now=utcnow()),
        **pair_life(current_user, pairings),
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


@bp.route("/healthz")
@public
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001  (any database failure means "not healthy")
        db.session.rollback()
        return {"status": "database unavailable"}, 503
    return {"status": "ok"}, 200
