"""The impact report's measures: plain query functions, each with its definition, tested on hand-counted data.

Every function takes cycle ids and answers for all of them at once with a fixed number of queries, so the
report of one cycle and the table across cycles cost the same whatever the data. The back-up plan's
measures (check-ins, closing surveys, help requests, pair health) read numbers only, never the notes and
threads people write for the director.

Privacy: a figure about fewer than ``SMALL`` people (or pairs) is never shown, only "fewer than 5"
(``Figure.text``), and no measure returns who anybody is. The director's two work queues on the home page
(pairs that may need help, questions waiting) are the one exception: each item in them is already shown to
the director by name on the board or in the help queue, so hiding their size would hide work, not a person.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import (
    Date,
    Float,
    Integer,
    String,
    and_,
    bindparam,
    case,
    cast,
    distinct,
    exists,
    func,
    literal,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from portal.clock import today
from portal.extensions import db
from portal.fragments import cache
from portal.models import (
    CheckIn,
    Choice,
    ClosingReason,
    ClosingSurvey,
    Cycle,
    Enrolment,
    EnrolmentRole,
    Fit,
    Goal,
    GoalSkill,
    GoalStatus,
    HelpMessage,
    HelpRequest,
    InterestEvent,
    InterestKind,
    Nudge,
    Objective,
    ObjectiveLevel,
    Pairing,
    PairingActivity,
    PairingEnd,
    Retrospective,
    RetrospectiveSkill,
    RosterEntry,
    User,
)
from portal.support.board import health_counts
from portal.support.health import HealthState
from portal.support.services import CLOSING_LABELS, FIT_LABELS, Waiting, waiting_summary

SMALL = 5

# The tables each measure reads (a test checks that their SQL names no other). A measure is kept per process
# until one of its tables changes (``portal.stamps``): logging a meeting recounts the funnel's matched part and
# the meetings, nothing else. Every measure reads the cycles' dates.
MEASURE_TABLES: dict[str, tuple[str, ...]] = {
    # The funnel in three parts, each kept until its own tables change.
    "funnel_enrolment": ("cycles", "enrolments", "interest_events", "pairings", "roster_entries", "users"),
    "funnel_matched": ("cycles", "pairing_activity", "pairings"),
    "funnel_goals": ("cycles", "goals", "pairings"),
    # Meetings are counted from each pair's activity row: saving a meeting's notes leaves these figures kept.
    "meetings": ("cycles", "pairing_activity", "pairings"),
    "goals": ("choices", "cycles", "goal_skills", "goals", "objectives", "pairings"),
    "satisfaction": (
        "check_ins",
        "closing_surveys",
        "cycles",
        "help_messages",
        "help_requests",
        "pairings",
        "retrospectives",
    ),
    "growth": ("choices", "cycles", "retrospective_skills", "retrospectives"),
    "nudges": ("cycles", "enrolments", "nudges", "users"),
    "free_text": ("cycles", "retrospectives"),
}
REPORT_TABLES = tuple(sorted({table for tables in MEASURE_TABLES.values() for table in tables}))

# Every figure's definition, one click away on the report (key: (label, definition)).
DEFINITIONS: dict[str, tuple[str, str]] = {
    "roster": ("On the roster", "People on the company roster today, plus people with an account who are not on it."),
    "curious": (
        "Looked (\u201ccurious\u201d)",
        "Visits to \u201cCurious about mentoring?\u201d from the day enrolment opened to the day matching "
        "closed. These are visits, not people: who looked is never kept.",
    ),
    "mentees": ("Enrolled mentees", "People enrolled in the cycle to be mentored (as a mentee, or as both)."),
    "mentors": ("Enrolled mentors", "People enrolled in the cycle to mentor (as a mentor, or as both)."),
    "matched": ("Matched", "Mentees with at least one pairing in the cycle, whether it is still running or ended."),
    "met": ("Met at least once", "Mentees whose pairing logged at least one held meeting."),
    "set_goal": ("Set a goal", "Mentees with at least one goal in the cycle."),
    "achieved_goal": ("Achieved a goal", "Mentees with at least one goal marked achieved."),
    "match_rate": ("Match rate", "Matched mentees over enrolled mentees."),
    "days_to_match": (
        "Median days to a match",
        "For each matched mentee, the days from their enrolment to their first pairing; the middle value.",
    ),
    "pairs": ("Pairs", "Pairings in the cycle, running or ended."),
    "meetings_held": ("Meetings held", "Meetings logged as held by the pairs of the cycle."),
    "meetings_per_pair": ("Meetings per pair (median)", "Held meetings of each pair; the middle value."),
    "meetings_cancelled": ("Meetings cancelled", "Meetings of the cycle's pairs that were cancelled with a reason."),
    "meetings_moved": ("Meetings moved", "Meetings that were moved to another time at least once."),
    "pairs_without_meeting": ("Pairs with no meeting", "Pairs that have not logged a held meeting yet."),
    "goals_set": ("Goals set", "Goals the mentees of the cycle set, whatever became of them."),
    "goals_achieved": ("Goals achieved", "Goals marked achieved."),
    "goals_on_time": (
        "Achieved by the due date",
        "Goals achieved on or before their due date (the day of achieving, in UTC), over goals due in the "
        "cycle so far (due today or earlier, and never after the cycle's end).",
    ),
    "goals_set_aside": ("Goals set aside", "Goals set aside with a reflection; never a failure, often a wise call."),
    "growth": (
        "Skill growth",
        "For each skill, the average change from where people felt they were when they enrolled (1 to 5) to "
        "where they feel at the retrospective (1 to 5); only people who gave both are counted.",
    ),
    "retro_answered": ("Retrospectives answered", "Partners of ended pairings who answered the retrospective."),
    "recommend": (
        "Recommend score",
        "\u201cHow likely are you to recommend the program to a colleague?\u201d (0 to 10): the share "
        "answering 9 or 10 minus the share answering 0 to 6, from \u2212100 to +100.",
    ),
    "ended_early": (
        "Pairings closed early",
        "Pairings that ended before their cycle did, by a partner or the director.",
    ),
    "checkins": (
        "Check-in answers",
        "Answers partners gave to their check-ins (the first check-in and the pulses), skipped ones left out; "
        "the rule of five counts the people who answered.",
    ),
    "checkin_first": (
        "First check-in",
        "Answers to \u201cHow is this pairing going for you?\u201d, asked of each partner a few days after "
        "the pair's first meeting (at the latest two weeks after pairing); each answer counts the partners who "
        "chose it.",
    ),
    "pulse_answers": (
        "Pulse answers",
        "Partners who answered that round of pulses (1 to 5), which comes every 6 weeks after the first "
        "check-in by default: pulse 1 about 6 weeks in, pulse 2 about 12 weeks in.",
    ),
    "pulse_average": ("Average pulse", "The average of that round's answers, from 1 (hard going) to 5 (very well)."),
    "closing_surveys": (
        "Closing surveys",
        "Pairings closed early whose closing survey was answered (whoever ended it answers it).",
    ),
    "closing_reasons": (
        "Reasons for closing early",
        "For each reason offered in the closing survey, the pairings closed early that gave it.",
    ),
    "suitability": (
        "Suitability of matches",
        "\u201cHow suitable was the match?\u201d from 1 (not at all) to 5 (very), asked in the closing survey "
        "of pairings closed early; the average over those who answered this optional question.",
    ),
    "help_requests": (
        "Help requests",
        "Questions sent to the program director about a pairing of the cycle, or about no pairing while the "
        "cycle ran (from enrolment to its last day); the rule of five counts the people who asked.",
    ),
    "help_answer_days": (
        "Median days to answer help",
        "For each question answered, the time from its sending to the director's first answer, in days; the "
        "middle value. Questions not answered yet are left out.",
    ),
    "pairs_needing_help": (
        "Pairs that may need help",
        "Running pairs of the current cycle whose health reads \u201cMight need a check-in\u201d on the "
        "director's board: no meeting for weeks, overdue milestones, a partner answering \u201cNot a good "
        "fit\u201d, a low pulse or an open question. Shown whatever its size: the board lists each of them.",
    ),
    "help_waiting": (
        "Help requests waiting",
        "Questions to the program director that wait for a first answer (new, or reopened by the person). "
        "Shown whatever its size: the help queue lists each of them.",
    ),
    "nudges_invited": (
        "Invited",
        "Personal nudges delivered from the day enrolment opened to the day matching closed.",
    ),
    "nudges_opened": ("Opened", "Nudges their recipient opened, over nudges delivered."),
    "nudges_joined": ("Joined", "Nudges whose recipient enrolled in the cycle, over nudges delivered."),
}


@dataclass(frozen=True)
class Figure:
    """One number of the report, the size of the group it is about, and how to show it.

    ``base`` is the number of people (or pairs) behind the figure; under ``SMALL`` it reads "fewer than 5",
    unless the figure is one of the director's work queues (``queue``, see the module's docstring).
    ``kind``: count, rate (0 to 1), days, score (-100 to +100), change (an average on a 1 to 5 scale),
    average (on a 1 to 5 scale).
    """

    key: str
    value: float | int | None
    base: int
    kind: str = "count"
    queue: bool = False

    @property
    def small(self) -> bool:
        return not self.queue and 0 < self.base < SMALL

    @property
    def shown(self) -> bool:
        """Whether the value may be shown (known, and about enough people)."""
        return self.value is not None and not self.small

    @property
    def number(self) -> float | int | None:
        """The value when it may be shown, else None (charts and CSV use this)."""
        return self.value if self.shown else None

    @property
    def text(self) -> str:
        if self.small:
            return "fewer than 5"
        if self.value is None:
            return "none yet"
        return format_value(self.value, self.kind)


def format_value(value: float | int, kind: str) -> str:
    """A value as the report writes it."""
    if kind == "rate":
        return f"{round(value * 100)} %"
    if kind == "days":
        return f"{value:g} days" if value != 1 else "1 day"
    if kind == "score":
        return f"{round(value):+d}"
    if kind == "change":
        return f"{value:+.1f}"
    if kind == "average":
        return f"{value:.1f}"
    return f"{round(value):,}"


def queue_count(key: str, value: int) -> Figure:
    """The size of one of the director's work queues: shown whatever it is (see the module's docstring)."""
    return Figure(key, value, value, queue=True)


def count(key: str, value: int) -> Figure:
    """A count of people or pairs: it is its own base."""
    return Figure(key, value, value)


def rate(key: str, part: int, whole: int) -> Figure:
    return Figure(key, part / whole if whole else None, whole, "rate")


def median_of(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


class day_of(FunctionElement):
    """The UTC calendar day of a timestamp column, on SQLite and PostgreSQL alike."""

    type = Date()
    inherit_cache = True


@compiles(day_of)
def _day_of_default(element, compiler, **kw):
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(day_of, "postgresql")
def _day_of_postgresql(element, compiler, **kw):
    return f"CAST(({compiler.process(element.clauses, **kw)} AT TIME ZONE 'UTC') AS DATE)"


class days_between(FunctionElement):
    """Whole calendar days (UTC) from the second timestamp to the first, on SQLite and PostgreSQL alike."""

    type = Float()
    inherit_cache = True


@compiles(days_between)
def _days_between_default(element, compiler, **kw):
    later, earlier = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"(julianday(date({later})) - julianday(date({earlier})))"


@compiles(days_between, "postgresql")
def _days_between_postgresql(element, compiler, **kw):
    later, earlier = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"(CAST(({later} AT TIME ZONE 'UTC') AS DATE) - CAST(({earlier} AT TIME ZONE 'UTC') AS DATE))"


def _window(cycle: Cycle) -> tuple[datetime, datetime]:
    """From the day enrolment opens to the end of the day matching closes, as UTC times."""
    start = datetime.combine(cycle.enrolment_opens_on, time.min, tzinfo=UTC)
    end = datetime.combine(cycle.matching_closes_on + timedelta(days=1), time.min, tzinfo=UTC)
    return start, end


MENTEE_ROLES = (EnrolmentRole.MENTEE, EnrolmentRole.BOTH)
MENTOR_ROLES = (EnrolmentRole.MENTOR, EnrolmentRole.BOTH)


# -- the funnel --------------------------------------------------------------------------------------------


@dataclass
class Funnel:
    roster: Figure
    curious: Figure
    mentees: Figure
    mentors: Figure
    matched: Figure
    met: Figure
    set_goal: Figure
    achieved_goal: Figure
    match_rate: Figure
    days_to_match: Figure

    def steps(self) -> list[Figure]:
        """The funnel in order, for its table and chart."""
        return [self.roster, self.curious, self.mentees, self.matched, self.met, self.set_goal, self.achieved_goal]


def _waits_select():
    """How many matched mentees of each cycle waited each number of whole days (UTC, never below 0) from their
    enrolment to their first pairing: a row per cycle and number of days."""
    days = days_between(func.min(Pairing.created_at), Enrolment.created_at)
    per_mentee = (
        select(Pairing.cycle_id, case((days > 0, cast(days, Integer)), else_=0).label("days"))
        .join(Enrolment, and_(Enrolment.cycle_id == Pairing.cycle_id, Enrolment.user_id == Pairing.mentee_id))
        .where(Pairing.cycle_id.in_(bindparam("cycle_ids", expanding=True)))
        .group_by(Pairing.cycle_id, Pairing.mentee_id, Enrolment.created_at)
        .subquery()
    )
    return (
        select(per_mentee.c.cycle_id, per_mentee.c.days, func.count())
        .group_by(per_mentee.c.cycle_id, per_mentee.c.days)
        .order_by(per_mentee.c.cycle_id, per_mentee.c.days)
    )


def _roster_select():
    """People with an account, entries on the roster, and people who are both (emails are unique on each side):
    the roster step counts the first two less the third. Looking each account up on the roster reads a few
    thousand index entries; looking each roster entry up among the accounts read the whole roster (25,000 in
    the benchmark) and took seven times as long."""
    on_roster = exists().where(RosterEntry.email == User.email)
    return select(
        select(func.count()).select_from(User).scalar_subquery(),
        select(func.count()).select_from(RosterEntry).scalar_subquery(),
        select(func.count()).select_from(User).where(on_roster).scalar_subquery(),
    )


_ROSTER = _roster_select()


def funnel_enrolment(cycles: list[Cycle]) -> dict[int, tuple]:
    """The funnel's first steps for each cycle: (roster, curious visits, enrolled mentees, enrolled mentors, the
    matched mentees' waits as (days, mentees) in increasing days). Four queries whatever the number of cycles."""
    ids = [cycle.id for cycle in cycles]
    accounts, entries, both = db.session.execute(_ROSTER).one()
    roster = accounts + entries - both
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
    waits: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for cycle_id, days, mentees in db.session.execute(_WAITS, {"cycle_ids": ids}):
        waits[cycle_id].append((days, mentees))
    return {
        cycle_id: (roster, visits.get(cycle_id, 0), *enrolled.get(cycle_id, (0, 0)), waits.get(cycle_id, []))
        for cycle_id in ids
    }


def _mentees_in_pairings(cycles: list[Cycle], *conditions) -> dict[int, tuple[int, ...]]:
    """For each cycle, how many mentees have a pairing that meets each condition (``None``: any pairing), each
    counted once; one query whatever the number of cycles."""
    ids = [cycle.id for cycle in cycles]
    columns = [
        func.count(distinct(Pairing.mentee_id if condition is None else case((condition, Pairing.mentee_id))))
        for condition in conditions
    ]
    found = {
        row[0]: tuple(row[1:])
        for row in db.session.execute(
            select(Pairing.cycle_id, *columns).where(Pairing.cycle_id.in_(ids)).group_by(Pairing.cycle_id)
        )
    }
    return {cycle_id: found.get(cycle_id, (0,) * len(conditions)) for cycle_id in ids}


def funnel_matched(cycles: list[Cycle]) -> dict[int, tuple[int, ...]]:
    """(mentees matched, mentees whose pairing held a meeting) of each cycle, in one query. Held meetings as
    each pair's activity row counts them, as in ``_meetings_select``."""
    held = exists().where(PairingActivity.pairing_id == Pairing.id, PairingActivity.held_meetings > 0)
    return _mentees_in_pairings(cycles, None, held)


def funnel_goals(cycles: list[Cycle]) -> dict[int, tuple[int, ...]]:
    """(mentees who set a goal, mentees who achieved one) of each cycle, in one query."""
    has_goal = exists().where(Goal.pairing_id == Pairing.id)
    achieved = exists().where(Goal.pairing_id == Pairing.id, Goal.status == GoalStatus.ACHIEVED)
    return _mentees_in_pairings(cycles, has_goal, achieved)


def funnel_from(enrolment: dict[int, tuple], matched: dict[int, tuple], goals: dict[int, tuple]) -> dict[int, Funnel]:
    """Each cycle's funnel from its three parts, which change with different tables and so are kept apart: a
    meeting logged counts the matched part again, a goal set the goals part, an enrolment the first."""
    result = {}
    for cycle_id, (roster, visits, mentees, mentors, days) in enrolment.items():
        matched_here, met = matched[cycle_id]
        set_goal, achieved_goal = goals[cycle_id]
        result[cycle_id] = Funnel(
            roster=count("roster", roster),
            curious=Figure("curious", visits, visits),
            mentees=count("mentees", mentees),
            mentors=count("mentors", mentors),
            matched=count("matched", matched_here),
            met=count("met", met),
            set_goal=count("set_goal", set_goal),
            achieved_goal=count("achieved_goal", achieved_goal),
            match_rate=rate("match_rate", matched_here, mentees),
            days_to_match=Figure("days_to_match", median_of_counts(days), sum(people for _, people in days), "days"),
        )
    return result


def funnels(cycles: list[Cycle]) -> dict[int, Funnel]:
    """The funnel of each cycle: roster, curious visits, enrolled, matched, met, set and achieved a goal.

    Six queries whatever the number of cycles or people.
    """
    return funnel_from(funnel_enrolment(cycles), funnel_matched(cycles), funnel_goals(cycles))


# -- meetings ----------------------------------------------------------------------------------------------

MEETING_BUCKETS = (
    (0, 0, "none"),
    (1, 1, "1"),
    (2, 2, "2"),
    (3, 5, "3 to 5"),
    (6, 10, "6 to 10"),
    (11, None, "11 or more"),
)


@dataclass
class Meetings:
    pairs: Figure
    held: Figure
    per_pair: Figure
    cancelled: Figure
    moved: Figure
    without: Figure
    # (bucket label, pairs) for the distribution of held meetings per pair.
    distribution: list[tuple[str, Figure]] = field(default_factory=list)


def median_of_counts(counts: list[tuple[int, int]]) -> float | int | None:
    """The median of the values that ``counts`` lists as (value, how many times), in increasing value order:
    exactly what ``statistics.median`` gives for the whole list (the middle value, or the mean of the two)."""
    size = sum(times for _, times in counts)
    if not size:
        return None
    wanted = [size // 2] if size % 2 else [size // 2 - 1, size // 2]
    found, seen = [], 0
    for value, times in counts:
        while wanted and wanted[0] < seen + times:
            found.append(value)
            wanted.pop(0)
        seen += times
    return found[0] if len(found) == 1 else (found[0] + found[1]) / 2


def _meetings_select():
    """How many pairs of each cycle held each number of meetings, with their cancelled and moved meetings: a row
    per cycle and number held. Each pair's counts come from its ``pairing_activity`` row, which counts them
    whenever its meetings change: no meeting is read.
    """
    # A pairing without an activity row has never had a meeting.
    pairs = (
        select(
            Pairing.cycle_id,
            func.coalesce(PairingActivity.held_meetings, 0).label("held"),
            func.coalesce(PairingActivity.cancelled_meetings, 0).label("cancelled"),
            func.coalesce(PairingActivity.moved_meetings, 0).label("moved"),
        )
        .outerjoin(PairingActivity, PairingActivity.pairing_id == Pairing.id)
        .where(Pairing.cycle_id.in_(bindparam("cycle_ids", expanding=True)))
        .subquery()
    )
    return (
        select(pairs.c.cycle_id, pairs.c.held, func.count(), func.sum(pairs.c.cancelled), func.sum(pairs.c.moved))
        .group_by(pairs.c.cycle_id, pairs.c.held)
        .order_by(pairs.c.cycle_id, pairs.c.held)
    )


_MEETINGS = _meetings_select()
_WAITS = _waits_select()


def meetings(cycles: list[Cycle]) -> dict[int, Meetings]:
    """Meetings of each cycle's pairs: held (total, median per pair, distribution), cancelled, moved, none.

    One query; the database counts, and answers a row per cycle and number of meetings held.
    """
    ids = [cycle.id for cycle in cycles]
    held_by: dict[int, list[tuple[int, int]]] = defaultdict(list)
    cancelled: dict[int, int] = defaultdict(int)
    moved: dict[int, int] = defaultdict(int)
    for cycle_id, held, pairs, cancelled_here, moved_here in db.session.execute(_MEETINGS, {"cycle_ids": ids}):
        held_by[cycle_id].append((held, pairs))
        cancelled[cycle_id] += int(cancelled_here)
        moved[cycle_id] += int(moved_here)
    result = {}
    for cycle_id in ids:
        counts = held_by.get(cycle_id, [])
        n = sum(pairs for _, pairs in counts)
        distribution = []
        for low, high, label in MEETING_BUCKETS:
            in_bucket = sum(pairs for held, pairs in counts if held >= low and (high is None or held <= high))
            # A bucket is about pairs: the rule of five applies to each bucket too.
            distribution.append((label, count("meetings_per_pair", in_bucket)))
        result[cycle_id] = Meetings(
            pairs=count("pairs", n),
            held=Figure("meetings_held", sum(held * pairs for held, pairs in counts), n),
            per_pair=Figure("meetings_per_pair", median_of_counts(counts), n, "number"),
            cancelled=Figure("meetings_cancelled", cancelled[cycle_id], n),
            moved=Figure("meetings_moved", moved[cycle_id], n),
            without=count("pairs_without_meeting", sum(pairs for held, pairs in counts if held == 0)),
            distribution=distribution,
        )
    return result


# -- goals -------------------------------------------------------------------------------------------------


@dataclass
class GoalRow:
    """Goals of one group (the whole cycle, an objective or a skill)."""

    label: str
    level: str
    set: Figure
    achieved: Figure
    on_time: Figure
    set_aside: Figure


def _goal_counts(cutoff: date):
    """The goal tables' counts: goals, achieved, achieved by the due date, due so far, set aside."""
    on_time = and_(Goal.status == GoalStatus.ACHIEVED, day_of(Goal.closed_at) <= Goal.due_on)
    due = Goal.due_on <= cutoff
    return (
        # count(*), not count(goals.id): PostgreSQL then answers from the goals' index alone.
        func.count(),
        func.count(case((Goal.status == GoalStatus.ACHIEVED, 1))),
        func.count(case((and_(on_time, due), 1))),
        func.count(case((due, 1))),
        func.count(case((Goal.status == GoalStatus.SET_ASIDE, 1))),
    )


def _goal_columns(cutoff: date):
    """Aggregate columns shared by the goal tables; the last one counts the mentees behind the row."""
    return (*_goal_counts(cutoff), func.count(distinct(Pairing.mentee_id)))


class distinct_ids(FunctionElement):
    """The distinct values of an integer column over a group, as one comma-separated text (NULL over no row),
    on SQLite and PostgreSQL alike."""

    type = String()
    inherit_cache = True


@compiles(distinct_ids)
def _distinct_ids_default(element, compiler, **kw):
    # SQLite takes DISTINCT only with group_concat's default separator, which is a comma.
    return f"group_concat(DISTINCT {compiler.process(element.clauses, **kw)})"


@compiles(distinct_ids, "postgresql")
def _distinct_ids_postgresql(element, compiler, **kw):
    # Distinct integers, then text: string_agg(DISTINCT text) sorted every row's text, and took twice as long.
    return f"array_to_string(array_agg(DISTINCT {compiler.process(element.clauses, **kw)}), ',')"


def _labelled(columns) -> list:
    """The goal columns named, to be read back from a subquery with ``_counts``."""
    return [column.label(f"goal_count_{n}") for n, column in enumerate(columns)]


def _counts(subquery) -> list:
    return [column for column in subquery.c if column.name.startswith("goal_count_")]


def _goal_row(label: str, level: str, values) -> GoalRow:
    total, achieved, on_time, due, set_aside, people = values
    return GoalRow(
        label=label,
        level=level,
        set=Figure("goals_set", total, people),
        achieved=Figure("goals_achieved", achieved, people),
        on_time=Figure("goals_on_time", on_time / due if due else None, people, "rate"),
        set_aside=Figure("goals_set_aside", set_aside, people),
    )


@dataclass
class Goals:
    total: GoalRow
    by_objective: list[GoalRow]
    by_skill: list[GoalRow]
    by_level: list[GoalRow] = field(default_factory=list)


def goals(cycles: list[Cycle], *, on: date | None = None, people: dict[int, int] | None = None) -> dict[int, Goals]:
    """Goals of each cycle: set, achieved, achieved by the due date, set aside; by objective, level and skill.

    "Due in the cycle so far" means due on or before ``on`` (today) and the cycle's end. The cycle's totals add
    up the objectives' rows; ``people`` (mentees with a goal, by cycle, as the funnel counts them) saves the
    query that would count them again. Two or three queries.
    """
    on = on or today()
    ids = [cycle.id for cycle in cycles]
    ends = {cycle.id: min(on, cycle.ends_on) for cycle in cycles}
    # Each cycle compares due dates with its own cutoff.
    cutoff = case({cycle_id: literal(end) for cycle_id, end in ends.items()}, value=Pairing.cycle_id)
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
    # Objectives, their levels (team, product, company) and the cycle's totals from one grouped pass over the
    # goals: each objective's row names its mentees, so that each level counts a mentee with goals under two of
    # its objectives once (the rule of five). Grouping each mentee's goals first, then objectives and levels from
    # those, sorted the goals and then those rows twice more: at 20,000 goals 39 ms of SQLite's time, now 21 ms.
    by_objective = (
        select(
            Pairing.cycle_id,
            Goal.objective_id,
            *_labelled(_goal_counts(cutoff)),  # type: ignore[arg-type]
            distinct_ids(Pairing.mentee_id).label("mentees"),
        )
        .join(Pairing, Pairing.id == Goal.pairing_id)
        .where(Pairing.cycle_id.in_(ids))
        .group_by(Pairing.cycle_id, Goal.objective_id)
        .subquery()
    )
    # Named after grouping, by ids: sorting 20,000 goals by a title as well cost a third more on SQLite.
    levels: dict[int, dict[ObjectiveLevel | None, tuple[list[int], set[str]]]] = defaultdict(dict)
    named = select(by_objective.c.cycle_id, Objective.title, Objective.level, *_counts(by_objective))
    for cycle_id, title, level, *values, mentees in db.session.execute(
        named.add_columns(by_objective.c.mentees)
        .outerjoin(Objective, Objective.id == by_objective.c.objective_id)
        .order_by(by_objective.c.cycle_id, Objective.level, Objective.title, by_objective.c.objective_id)
    ):
        level = ObjectiveLevel(level) if level else None
        who = set(mentees.split(","))
        objectives[cycle_id].append(
            _goal_row(title or "No objective named", level.value if level else "", (*values, len(who)))
        )
        # Levels come in the database's order of levels (rows are sorted by level first), as when it grouped them.
        added, everyone = levels[cycle_id].setdefault(level, ([0, 0, 0, 0, 0], set()))
        everyone |= who
        for index, value in enumerate(values):
            added[index] += value
            sums[cycle_id][index] += value
    skills: dict[int, list[GoalRow]] = defaultdict(list)
    by_skill = (
        select(Pairing.cycle_id, GoalSkill.choice_id, *_labelled(_goal_columns(cutoff)))  # type: ignore[arg-type]
        .select_from(GoalSkill)
        .join(Goal, Goal.id == GoalSkill.goal_id)
        .join(Pairing, Pairing.id == Goal.pairing_id)
        .where(Pairing.cycle_id.in_(ids))
        .group_by(Pairing.cycle_id, GoalSkill.choice_id)
        .subquery()
    )
    for row in db.session.execute(
        select(by_skill.c.cycle_id, Choice.label, *_counts(by_skill))
        .join(Choice, Choice.id == by_skill.c.choice_id)
        .order_by(by_skill.c.cycle_id, Choice.position, Choice.id)
    ):
        skills[row[0]].append(_goal_row(row[1], "", row[2:]))
    return {
        cycle_id: Goals(
            total=_goal_row("All goals", "", (*sums[cycle_id], people.get(cycle_id, 0))),
            by_objective=objectives.get(cycle_id, []),
            by_skill=skills.get(cycle_id, []),
            by_level=[
                _goal_row(
                    f"{level.value.capitalize()} objectives" if level else "No objective named",
                    level.value if level else "",
                    (*added, len(everyone)),
                )
                for level, (added, everyone) in levels[cycle_id].items()
            ],
        )
        for cycle_id in ids
    }


# -- growth and satisfaction -------------------------------------------------------------------------------


@dataclass
class Growth:
    label: str
    before: Figure
    after: Figure
    change: Figure


def growth(cycles: list[Cycle]) -> dict[int, list[Growth]]:
    """Self-rated skill change from baseline to retrospective, by skill, over people who gave both (one query)."""
    ids = [cycle.id for cycle in cycles]
    result: dict[int, list[Growth]] = {cycle_id: [] for cycle_id in ids}
    for cycle_id, label, people, before, after in db.session.execute(
        select(
            Retrospective.cycle_id,
            Choice.label,
            func.count(),
            func.avg(RetrospectiveSkill.level_before),
            func.avg(RetrospectiveSkill.level_after),
        )
        .select_from(RetrospectiveSkill)
        .join(Retrospective, Retrospective.id == RetrospectiveSkill.retrospective_id)
        .join(Choice, Choice.id == RetrospectiveSkill.choice_id)
        .where(
            Retrospective.cycle_id.in_(ids),
            Retrospective.answered_at.is_not(None),
            RetrospectiveSkill.level_before.is_not(None),
        )
        .group_by(Retrospective.cycle_id, Choice.id, Choice.label, Choice.position)
        .order_by(Retrospective.cycle_id, Choice.position)
    ):
        before, after = float(before), float(after)
        result[cycle_id].append(
            Growth(
                label=label,
                before=Figure("growth", round(before, 1), people, "number"),
                after=Figure("growth", round(after, 1), people, "number"),
                change=Figure("growth", round(after - before, 1), people, "change"),
            )
        )
    return result


@dataclass
class Satisfaction:
    answered: Figure
    recommend: Figure
    recommend_mentees: Figure
    recommend_mentors: Figure
    ended_early: Figure
    checkins: CheckIns
    closing: Closing
    help: Help


def recommend_score(promoters: int, detractors: int, answers: int) -> Figure:
    value = 100 * (promoters - detractors) / answers if answers else None
    return Figure("recommend", value, answers, "score")


def satisfaction(cycles: list[Cycle]) -> dict[int, Satisfaction]:
    """Retrospectives answered, the recommend score (all, mentees, mentors), pairings closed early, and the
    back-up plan's check-ins, closing surveys and help requests. Five queries whatever the number of cycles."""
    ids = [cycle.id for cycle in cycles]
    scores: dict[int, dict[str, tuple[int, int, int, int]]] = defaultdict(dict)
    for cycle_id, role, answered, answers, promoters, detractors in db.session.execute(
        select(
            Retrospective.cycle_id,
            Retrospective.role,
            func.count(),
            func.count(Retrospective.recommend),
            func.count(case((Retrospective.recommend >= 9, 1))),
            func.count(case((Retrospective.recommend <= 6, 1))),
        )
        .where(Retrospective.cycle_id.in_(ids), Retrospective.answered_at.is_not(None))
        .group_by(Retrospective.cycle_id, Retrospective.role)
    ):
        scores[cycle_id][role] = (answered, answers, promoters, detractors)
    early = dict(
        db.session.execute(
            select(Pairing.cycle_id, func.count())
            .where(Pairing.cycle_id.in_(ids), Pairing.end_kind == PairingEnd.CLOSED_EARLY)
            .group_by(Pairing.cycle_id)
        ).all()
    )
    checkins = checkin_answers(ids)
    closing = closing_reasons(ids)
    questions = help_requests(ids)
    result = {}
    for cycle_id in ids:
        by_role = scores.get(cycle_id, {})
        total = [sum(values[i] for values in by_role.values()) for i in range(4)]
        mentee = by_role.get("mentee", (0, 0, 0, 0))
        mentor = by_role.get("mentor", (0, 0, 0, 0))
        result[cycle_id] = Satisfaction(
            answered=count("retro_answered", total[0]),
            recommend=recommend_score(total[2], total[3], total[1]),
            recommend_mentees=recommend_score(mentee[2], mentee[3], mentee[1]),
            recommend_mentors=recommend_score(mentor[2], mentor[3], mentor[1]),
            ended_early=count("ended_early", early.get(cycle_id, 0)),
            checkins=checkins[cycle_id],
            closing=closing[cycle_id],
            help=questions[cycle_id],
        )
    return result


# -- the back-up plan: check-ins, closing surveys, help requests, pair health --------------------------------
# Numbers only: the notes people write for the director, the closing survey's note and the help threads'
# text are never read here.


def _average(total: int | None, answers: int) -> float | None:
    return round(total / answers, 1) if answers else None


@dataclass
class Pulse:
    """One round of pulses (the first is about 6 weeks after the first check-in, then every 6 weeks)."""

    label: str
    answers: Figure
    average: Figure


@dataclass
class CheckIns:
    answers: Figure
    # The first check-in, "How is this pairing going for you?": (answer, how many gave it).
    first: list[tuple[str, Figure]]
    pulses: list[Pulse]


def checkin_answers(cycle_ids: list[int]) -> dict[int, CheckIns]:
    """Check-in answers of each cycle's pairs: the first check-in's answers, then each pulse round's average.

    Rounds stand for time: every pair's round 1 comes a pulse interval after its first check-in, round 2 one
    more interval later, so the rows read as the pairing's life goes on. Skipped check-ins are not answers.
    One query.
    """
    answered = and_(CheckIn.pairing_id == Pairing.id, CheckIn.answered_at.is_not(None))
    totals: dict[int, int] = defaultdict(int)
    people: dict[int, set[str]] = defaultdict(set)
    fits: dict[int, dict[Fit, int]] = defaultdict(dict)
    pulses: dict[int, list[Pulse]] = defaultdict(list)
    # Each group names the people who answered in it, so the cycle's answers and the people behind them (the
    # rule of five) come from the same pass over the check-ins as the rounds: a second query read them all again.
    for cycle_id, round_, fit, answers, scored, total, who in db.session.execute(
        select(
            Pairing.cycle_id,
            CheckIn.round,
            CheckIn.fit,
            func.count(CheckIn.id),
            func.count(CheckIn.score),
            func.sum(CheckIn.score),
            distinct_ids(CheckIn.user_id),
        )
        .join(CheckIn, answered)
        .where(Pairing.cycle_id.in_(cycle_ids))
        .group_by(Pairing.cycle_id, CheckIn.round, CheckIn.fit)
        .order_by(Pairing.cycle_id, CheckIn.round)
    ):
        totals[cycle_id] += answers
        people[cycle_id].update(who.split(","))
        if round_ == 0:
            if fit is not None:
                fits[cycle_id][Fit(fit)] = answers
        elif scored:
            pulses[cycle_id].append(
                Pulse(
                    f"Pulse {round_}",
                    count("pulse_answers", scored),
                    Figure("pulse_average", _average(total, scored), scored, "average"),
                )
            )
    result = {}
    for cycle_id in cycle_ids:
        result[cycle_id] = CheckIns(
            answers=Figure("checkins", totals[cycle_id], len(people[cycle_id])),
            # Each answer is a group of people: under 5 it is hidden like any other.
            first=[(FIT_LABELS[fit], count("checkin_first", fits[cycle_id].get(fit, 0))) for fit in Fit],
            pulses=pulses.get(cycle_id, []),
        )
    return result


@dataclass
class Closing:
    surveys: Figure
    reasons: list[tuple[str, Figure]]
    suitability: Figure


def closing_reasons(cycle_ids: list[int]) -> dict[int, Closing]:
    """The closing surveys of each cycle's pairings closed early: how many gave each reason, and how suitable
    the match was on average (1 to 5, over those who answered that optional question). One query."""
    counts: dict[int, dict[ClosingReason, int]] = defaultdict(dict)
    suitability: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for cycle_id, reason, surveys, rated, total in db.session.execute(
        select(
            Pairing.cycle_id,
            ClosingSurvey.reason,
            func.count(ClosingSurvey.id),
            func.count(ClosingSurvey.suitability),
            func.sum(ClosingSurvey.suitability),
        )
        .join(Pairing, Pairing.id == ClosingSurvey.pairing_id)
        .where(Pairing.cycle_id.in_(cycle_ids), Pairing.end_kind == PairingEnd.CLOSED_EARLY)
        .group_by(Pairing.cycle_id, ClosingSurvey.reason)
    ):
        counts[cycle_id][ClosingReason(reason)] = surveys
        suitability[cycle_id][0] += rated
        suitability[cycle_id][1] += total or 0
    result = {}
    for cycle_id in cycle_ids:
        rated, total = suitability[cycle_id]
        found = counts.get(cycle_id, {})
        result[cycle_id] = Closing(
            surveys=count("closing_surveys", sum(found.values())),
            reasons=[(CLOSING_LABELS[r], count("closing_reasons", found.get(r, 0))) for r in ClosingReason],
            suitability=Figure("suitability", _average(total, rated), rated, "average"),
        )
    return result


@dataclass
class Help:
    requests: Figure
    answer_days: Figure


def _moment(value) -> datetime | None:
    """A timestamp read back from an aggregate: SQLite hands it over as text, PostgreSQL as a datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def help_requests(cycle_ids: list[int]) -> dict[int, Help]:
    """Questions sent to the director that belong to each cycle, and the director's median time to a first
    answer in days (one decimal), over the questions answered so far.

    A question belongs to the cycle of the pairing it is about; one about no pairing, to each cycle running
    (from enrolment to its last day) when it was sent. One query, a row per question: questions are few.
    """
    sent_on = day_of(HelpRequest.created_at)
    belongs = or_(
        Cycle.id == Pairing.cycle_id,
        and_(
            HelpRequest.pairing_id.is_(None),
            sent_on >= Cycle.enrolment_opens_on,
            sent_on <= Cycle.ends_on,
        ),
    )
    asked: dict[int, set[int]] = defaultdict(set)
    requests: dict[int, int] = defaultdict(int)
    waits: dict[int, list[float]] = defaultdict(list)
    answered_by: dict[int, set[int]] = defaultdict(set)
    # The two times come as the database gives them (``_moment`` reads them): through the column's type each was
    # parsed, then made aware, and then read again, a third of this measure's time at 1,300 questions.
    sent, answered = type_coerce(HelpRequest.created_at, String), type_coerce(func.min(HelpMessage.created_at), String)
    for cycle_id, user_id, created_at, first_answer in db.session.execute(
        select(Cycle.id, HelpRequest.user_id, sent, answered)
        .select_from(HelpRequest)
        .outerjoin(Pairing, Pairing.id == HelpRequest.pairing_id)
        .join(Cycle, belongs)
        .outerjoin(
            HelpMessage,
            and_(HelpMessage.help_request_id == HelpRequest.id, HelpMessage.from_director.is_(True)),
        )
        .where(Cycle.id.in_(cycle_ids))
        .group_by(Cycle.id, HelpRequest.id, HelpRequest.user_id, HelpRequest.created_at)
    ):
        requests[cycle_id] += 1
        asked[cycle_id].add(user_id)
        answer = _moment(first_answer)
        if answer is not None:
            waits[cycle_id].append((answer - _moment(created_at)).total_seconds() / 86400)
            answered_by[cycle_id].add(user_id)
    result = {}
    for cycle_id in cycle_ids:
        median = median_of(waits[cycle_id])
        result[cycle_id] = Help(
            requests=Figure("help_requests", requests[cycle_id], len(asked[cycle_id])),
            answer_days=Figure(
                "help_answer_days", round(median, 1) if median is not None else None, len(answered_by[cycle_id]), "days"
            ),
        )
    return result


# Judging every pair's health costs the board's whole work (about 0.1 s at 2,000 pairs); the director's home
# shows the count, which moves over days, so each process keeps it for a few minutes. The board stays live.
HEALTH_COUNT_SECONDS = 300


def pairs_needing_help(cycle: Cycle, *, on: date | None = None) -> Figure:
    """Active pairs of the cycle whose health reads "Might need a check-in", as the director's board counts
    them (the board's queries: a fixed number whatever the number of pairs), at most HEALTH_COUNT_SECONDS old."""
    day = on or today()
    key = f"pairs-needing-help:{cycle.id}:{day.isoformat()}"
    count = cache.get(key)
    if count is None:
        count = health_counts(cycle, today=day)[HealthState.NEEDS_CHECK_IN]
        cache.set(key, count, timeout=HEALTH_COUNT_SECONDS)
    return queue_count("pairs_needing_help", count)


def help_requests_waiting() -> tuple[Figure, Waiting]:
    """Questions waiting for the director's first answer, and since when (one query)."""
    waiting = waiting_summary()
    return queue_count("help_waiting", waiting.count), waiting


# -- the interest nudge ------------------------------------------------------------------------------------


@dataclass
class Nudges:
    invited: Figure
    opened: Figure
    joined: Figure


def nudges(cycles: list[Cycle]) -> dict[int, Nudges]:
    """Nudges delivered in each cycle's enrolment and matching window: opened and joined, as rates.

    "Joined" means the recipient enrolled in that cycle. One query per cycle (cycles are few; the report asks
    for at most two, the table across cycles for each).
    """
    result = {}
    for cycle in cycles:
        start, end = _window(cycle)
        enrolled = exists().where(
            Enrolment.cycle_id == cycle.id, Enrolment.user_id == User.id, User.email == Nudge.recipient_email
        )
        invited, opened, joined = db.session.execute(
            select(
                func.count(Nudge.id),
                func.count(Nudge.opened_at),
                func.count(case((enrolled, 1))),
            ).where(Nudge.created_at >= start, Nudge.created_at < end)
        ).one()
        result[cycle.id] = Nudges(
            invited=count("nudges_invited", invited),
            opened=rate("nudges_opened", opened, invited),
            joined=rate("nudges_joined", joined, invited),
        )
    return result


# -- free text ---------------------------------------------------------------------------------------------


def free_text(cycle: Cycle) -> tuple[int, list[str], list[str]]:
    """How many answered the retrospective, and what went well and what to change, without names.

    The texts are returned only once at least ``SMALL`` people answered, in alphabetical order so that
    nothing (time, role, pair) can be read from their position. Two queries at most.
    """
    answered = db.session.scalar(
        select(func.count())
        .select_from(Retrospective)
        .where(Retrospective.cycle_id == cycle.id, Retrospective.answered_at.is_not(None))
    )
    if answered < SMALL:
        return answered, [], []
    rows = db.session.execute(
        select(Retrospective.went_well, Retrospective.to_change).where(
            Retrospective.cycle_id == cycle.id,
            Retrospective.answered_at.is_not(None),
            or_(Retrospective.went_well.is_not(None), Retrospective.to_change.is_not(None)),
        )
    ).all()
    well = sorted(text for text, _ in rows if text)
    change = sorted(text for _, text in rows if text)
    return answered, well, change
