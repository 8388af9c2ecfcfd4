"""The impact report's measures as they were computed before the database did the counting: the oracle that
tests/test_reports_oracle.py compares today's measures with, on randomly built organisations.

Copied unchanged from portal/reports (measures.py and services.py at 4c84a27), but for the names they import.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import and_, case, distinct, exists, func, select

from portal.extensions import db
from portal.models import (
    Cycle,
    Enrolment,
    Goal,
    GoalStatus,
    InterestEvent,
    InterestKind,
    Meeting,
    MeetingStatus,
    Pairing,
    Retrospective,
    RosterEntry,
    User,
)
from portal.reports import measures
from portal.reports.measures import (
    MEETING_BUCKETS,
    MENTEE_ROLES,
    MENTOR_ROLES,
    Figure,
    Funnel,
    Meetings,
    count,
    days_between,
    median_of,
    rate,
)
from portal.reports.services import ProgramNumbers


def funnels(cycles: list[Cycle]) -> dict[int, Funnel]:
    """The funnel of each cycle: roster, curious visits, enrolled, matched, met, set and achieved a goal.

    Six queries whatever the number of cycles or people.
    """
    ids = [cycle.id for cycle in cycles]
    accounts = select(func.count()).select_from(User).scalar_subquery()
    roster_only = (
        select(func.count())
        .select_from(RosterEntry)
        .where(~exists().where(User.email == RosterEntry.email))
        .scalar_subquery()
    )
    roster = sum(db.session.execute(select(accounts, roster_only)).one())

    enrolled = {
        cycle_id: (mentees or 0, mentors or 0)
        for cycle_id, mentees, mentors in db.session.execute(
            select(
                Enrolment.cycle_id,
                func.count(case((Enrolment.role.in_(MENTEE_ROLES), 1))),
                func.count(case((Enrolment.role.in_(MENTOR_ROLES), 1))),
            )
            .where(Enrolment.cycle_id.in_(ids))
            .group_by(Enrolment.cycle_id)
        )
    }
    held = exists().where(Meeting.pairing_id == Pairing.id, Meeting.status == MeetingStatus.HELD)
    has_goal = exists().where(Goal.pairing_id == Pairing.id)
    achieved = exists().where(Goal.pairing_id == Pairing.id, Goal.status == GoalStatus.ACHIEVED)
    people = {
        row[0]: row[1:]
        for row in db.session.execute(
            select(
                Pairing.cycle_id,
                func.count(distinct(Pairing.mentee_id)),
                func.count(distinct(case((held, Pairing.mentee_id)))),
                func.count(distinct(case((has_goal, Pairing.mentee_id)))),
                func.count(distinct(case((achieved, Pairing.mentee_id)))),
            )
            .where(Pairing.cycle_id.in_(ids))
            .group_by(Pairing.cycle_id)
        )
    }
    visits = dict(
        db.session.execute(
            select(Cycle.id, func.count(InterestEvent.id))
            .join(
                InterestEvent,
                and_(
                    InterestEvent.kind == InterestKind.VISIT,
                    InterestEvent.occurred_on >= Cycle.enrolment_opens_on,
                    InterestEvent.occurred_on <= Cycle.matching_closes_on,
                ),
            )
            .where(Cycle.id.in_(ids))
            .group_by(Cycle.id)
        ).all()
    )
    # Days are counted in SQL: 2,000 numbers cross over instead of 4,000 timestamps to parse.
    waits: dict[int, list[float]] = defaultdict(list)
    for cycle_id, days in db.session.execute(
        select(Pairing.cycle_id, days_between(func.min(Pairing.created_at), Enrolment.created_at))
        .join(Enrolment, and_(Enrolment.cycle_id == Pairing.cycle_id, Enrolment.user_id == Pairing.mentee_id))
        .where(Pairing.cycle_id.in_(ids))
        .group_by(Pairing.cycle_id, Pairing.mentee_id, Enrolment.created_at)
    ):
        waits[cycle_id].append(max(0, int(days)))

    result = {}
    for cycle_id in ids:
        mentees, mentors = enrolled.get(cycle_id, (0, 0))
        matched, met, set_goal, achieved_goal = people.get(cycle_id, (0, 0, 0, 0))
        days = waits.get(cycle_id, [])
        result[cycle_id] = Funnel(
            roster=count("roster", roster),
            curious=Figure("curious", visits.get(cycle_id, 0), visits.get(cycle_id, 0)),
            mentees=count("mentees", mentees),
            mentors=count("mentors", mentors),
            matched=count("matched", matched),
            met=count("met", met),
            set_goal=count("set_goal", set_goal),
            achieved_goal=count("achieved_goal", achieved_goal),
            match_rate=rate("match_rate", matched, mentees),
            days_to_match=Figure("days_to_match", median_of(days), len(days), "days"),
        )
    return result


def meetings(cycles: list[Cycle]) -> dict[int, Meetings]:
    """Meetings of each cycle's pairs: held (total, median per pair, distribution), cancelled, moved, none.

    One query (a row per pair), whatever the number of meetings.
    """
    ids = [cycle.id for cycle in cycles]
    rows = db.session.execute(
        select(
            Pairing.cycle_id,
            func.count(case((Meeting.status == MeetingStatus.HELD, 1))),
            func.count(case((Meeting.status == MeetingStatus.CANCELLED, 1))),
            func.count(case((Meeting.reschedules > 0, 1))),
        )
        .select_from(Pairing)
        .outerjoin(Meeting, Meeting.pairing_id == Pairing.id)
        .where(Pairing.cycle_id.in_(ids))
        .group_by(Pairing.cycle_id, Pairing.id)
    ).all()
    per_cycle: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for cycle_id, held, cancelled, moved in rows:
        per_cycle[cycle_id].append((held, cancelled, moved))
    result = {}
    for cycle_id in ids:
        pairs = per_cycle.get(cycle_id, [])
        n = len(pairs)
        held = [p[0] for p in pairs]
        distribution = []
        for low, high, label in MEETING_BUCKETS:
            in_bucket = sum(1 for h in held if h >= low and (high is None or h <= high))
            # A bucket is about pairs: the rule of five applies to each bucket too.
            distribution.append((label, count("meetings_per_pair", in_bucket)))
        result[cycle_id] = Meetings(
            pairs=count("pairs", n),
            held=Figure("meetings_held", sum(held), n),
            per_pair=Figure("meetings_per_pair", median_of(held), n, "number"),
            cancelled=Figure("meetings_cancelled", sum(p[1] for p in pairs), n),
            moved=Figure("meetings_moved", sum(p[2] for p in pairs), n),
            without=count("pairs_without_meeting", sum(1 for h in held if h == 0)),
            distribution=distribution,
        )
    return result


def recommend_overall() -> Figure:
    """The recommend score over every answered retrospective of every cycle (one query)."""
    answers, promoters, detractors = db.session.execute(
        select(
            func.count(Retrospective.recommend),
            func.count(case((Retrospective.recommend >= 9, 1))),
            func.count(case((Retrospective.recommend <= 6, 1))),
        ).where(Retrospective.answered_at.is_not(None))
    ).one()
    return measures.recommend_score(promoters, detractors, answers)


def program_numbers() -> ProgramNumbers:
    """Pairs, meetings held, goals achieved and the recommend score over all cycles (fixed queries)."""
    cycles = list(db.session.scalars(select(Cycle)))
    if not cycles:
        return ProgramNumbers(
            *(Figure(key, None, 0) for key in ("pairs", "meetings_held", "goals_achieved", "recommend"))
        )
    meets = meetings(cycles)
    goals = measures.goals(cycles)
    pairs = sum(meets[c.id].pairs.value for c in cycles)
    held = sum(meets[c.id].held.value for c in cycles)
    achieved = sum(goals[c.id].total.achieved.value for c in cycles)
    people = sum(goals[c.id].total.achieved.base for c in cycles)
    score = recommend_overall()
    return ProgramNumbers(
        pairs=measures.count("pairs", pairs),
        meetings=Figure("meetings_held", held, pairs),
        goals_achieved=Figure("goals_achieved", achieved, people),
        recommend=score,
    )
