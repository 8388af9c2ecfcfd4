"""The impact report's measures as they were computed before the database did more of the counting: the oracle that
tests/test_reports_oracle.py compares today's measures with, on randomly built organisations.

Copied unchanged from portal/reports (measures.py and services.py at 4c84a27), but for the names they import.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import and_, case, distinct, exists, func, literal, select

from portal.clock import today
from portal.extensions import db
from portal.models import (
    Choice,
    Cycle,
    Enrolment,
    Goal,
    GoalSkill,
    GoalStatus,
    InterestEvent,
    InterestKind,
    Meeting,
    MeetingStatus,
    Objective,
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
    GoalRow,
    Goals,
    Meetings,
    _goal_columns,
    _goal_row,
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
    goals = goals_of(cycles)
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


def goals_of(cycles: list[Cycle], *, on: date | None = None, people: dict[int, int] | None = None) -> dict[int, Goals]:
    """Goals of each cycle: set, achieved, achieved by the due date, set aside; by objective and by skill.

    "Due in the cycle so far" means due on or before ``on`` (today) and the cycle's end. The cycle's totals add
    up the objectives' rows; ``people`` (mentees with a goal, by cycle, as the funnel counts them) saves the
    query that would count them again. Two or three queries.
    """
    on = on or today()
    ids = [cycle.id for cycle in cycles]
    ends = {cycle.id: min(on, cycle.ends_on) for cycle in cycles}
    # Each cycle compares due dates with its own cutoff.
    cutoff = case({cycle_id: literal(end) for cycle_id, end in ends.items()}, value=Pairing.cycle_id)
    columns = _goal_columns(cutoff)  # type: ignore[arg-type]
    if people is None:
        people = dict(
            db.session.execute(
                select(Pairing.cycle_id, func.count(distinct(Pairing.mentee_id)))
                .where(Pairing.cycle_id.in_(ids), exists().where(Goal.pairing_id == Pairing.id))
                .group_by(Pairing.cycle_id)
            ).all()
        )
    sums: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    objectives: dict[int, list[GoalRow]] = defaultdict(list)
    for row in db.session.execute(
        select(Pairing.cycle_id, Objective.title, Objective.level, *columns)
        .join(Pairing, Pairing.id == Goal.pairing_id)
        .outerjoin(Objective, Objective.id == Goal.objective_id)
        .where(Pairing.cycle_id.in_(ids))
        .group_by(Pairing.cycle_id, Goal.objective_id, Objective.title, Objective.level)
        .order_by(Pairing.cycle_id, Objective.level, Objective.title)
    ):
        title, level = row[1], row[2]
        label = title if title else "No objective named"
        objectives[row[0]].append(_goal_row(label, level.value if level else "", row[3:]))
        for index, value in enumerate(row[3:8]):
            sums[row[0]][index] += value
    skills: dict[int, list[GoalRow]] = defaultdict(list)
    for row in db.session.execute(
        select(Pairing.cycle_id, Choice.label, *columns)
        .select_from(GoalSkill)
        .join(Goal, Goal.id == GoalSkill.goal_id)
        .join(Pairing, Pairing.id == Goal.pairing_id)
        .join(Choice, Choice.id == GoalSkill.choice_id)
        .where(Pairing.cycle_id.in_(ids))
        .group_by(Pairing.cycle_id, Choice.id, Choice.label, Choice.position)
        .order_by(Pairing.cycle_id, Choice.position)
    ):
        skills[row[0]].append(_goal_row(row[1], "", row[2:]))
    # Team, product and company: its own query, so each level counts its mentees once (the rule of five).
    levels: dict[int, list[GoalRow]] = defaultdict(list)
    for row in db.session.execute(
        select(Pairing.cycle_id, Objective.level, *columns)
        .join(Pairing, Pairing.id == Goal.pairing_id)
        .outerjoin(Objective, Objective.id == Goal.objective_id)
        .where(Pairing.cycle_id.in_(ids))
        .group_by(Pairing.cycle_id, Objective.level)
        .order_by(Pairing.cycle_id, Objective.level)
    ):
        name = f"{row[1].value.capitalize()} objectives" if row[1] else "No objective named"
        levels[row[0]].append(_goal_row(name, row[1].value if row[1] else "", row[2:]))
    return {
        cycle_id: Goals(
            total=_goal_row("All goals", "", (*sums[cycle_id], people.get(cycle_id, 0))),
            by_objective=objectives.get(cycle_id, []),
            by_skill=skills.get(cycle_id, []),
            by_level=levels.get(cycle_id, []),
        )
        for cycle_id in ids
    }
