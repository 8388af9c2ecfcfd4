"""Reading people, mentors and constraints out of the database for the matching engine."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import String, bindparam, cast, func, select
from sqlalchemy.orm import aliased

from portal.clock import utcnow
from portal.database import batches
from portal.extensions import db
from portal.matching import Labels, MentorIndex, MentorSlot, Person, Weights, reasons_for
from portal.models import (
    Choice,
    Cycle,
    Enrolment,
    EnrolmentRole,
    MentorRequest,
    Pairing,
    PairingStatus,
    ProfileAnswer,
    ProfileStep,
    RequestStatus,
    RosterEntry,
    User,
)
from portal.stamps import KEPT_SECONDS, Kept, keep_until_forgotten, recounting_now, share, shared, watch
from portal.stamps import read as read_stamps

LABEL_LISTS = ("values", "interests", "experiences", "skills", "formats")


def labels() -> Labels:
    """Human labels of the choice lists the reasons speak of, in one query."""
    found: dict[str, dict[str, str]] = defaultdict(dict)
    for list_name, key, label in db.session.execute(
        select(Choice.list_name, Choice.key, Choice.label).where(Choice.list_name.in_(LABEL_LISTS))
    ):
        found[list_name][key] = label
    return dict(found)


def weights_for(cycle: Cycle) -> Weights:
    """The weights the director set for the cycle, or the defaults."""
    return Weights.from_dict(cycle.weights) if cycle.weights else Weights()


# The questions a Person is read from, in the order of the columns below; each fills the Person's field of the same
# name (``_PersonReader.person``): a set of choice keys, or for time, start and perspective the one chosen.
_QUESTIONS = (
    "values",
    "interests",
    "experiences",
    "skills_grow",
    "skills_offer",
    "formats",
    "time",
    "start",
    "perspective",
)
_ONE_CHOICE = ("time", "start", "perspective")
# What a mentor is scored and explained by (``portal.matching`` reads no other answer of a mentor's): the index
# reads only these of its mentors. Skills to grow, how to start and the perspective wanted are a mentee's own.
_MENTOR_QUESTIONS = ("values", "interests", "experiences", "skills_offer", "formats", "time")


def _ids_text(column):
    """An aggregate of ids as one comma-separated text (NULL over no row), on SQLite and PostgreSQL alike."""
    return func.aggregate_strings(cast(column, String), ",")


def _person_columns(questions: tuple[str, ...] = _QUESTIONS) -> list:
    """What a Person is made of besides the user's id, name and team, as columns of a select from ``users``: the
    chosen choice ids of each of these questions, then the ids of the person's managers and of their direct reports
    on the roster (which links people by email, so a link counts once both have an account).

    A row per person rather than one per answer: reading 37,000 answer rows of 1,667 mentors and putting them into
    sets in Python cost five times what SQLite takes to join each question's ids into a text (a lookup in the
    answers' primary key each). Grouping the answers instead, with a conditional aggregate per question, made
    SQLite step nine aggregates for every answer and took twice as long.
    """
    answers = [
        select(_ids_text(ProfileAnswer.choice_id)).where(ProfileAnswer.user_id == User.id, ProfileAnswer.question == q)
        for q in questions
    ]
    return [query.scalar_subquery() for query in answers] + _link_columns()


def _link_columns() -> list:
    """The ids of a person's managers and of their direct reports on the roster, as two columns of a select from
    ``users`` (each a comma-separated text, NULL for none)."""
    manager, report = aliased(User), aliased(User)
    managers = (
        select(_ids_text(manager.id))
        .select_from(RosterEntry)
        .join(manager, manager.email == RosterEntry.manager_email)
        .where(RosterEntry.email == User.email)
    )
    reports = (
        select(_ids_text(report.id))
        .select_from(RosterEntry)
        .join(report, report.email == RosterEntry.email)
        .where(RosterEntry.manager_email == User.email)
    )
    return [managers.scalar_subquery(), reports.scalar_subquery()]


# Built once (see "Speed" in the README): a select's construction and cache key cost more than a small run.
_PEOPLE = select(User.id, User.display_name, User.team_id, *_person_columns()).where(
    User.id.in_(bindparam("ids", expanding=True))
)
# Each mentor's active mentees come with them: a lookup in the pairings' (cycle, mentor, status) index each.
_LOAD = (
    select(func.count())
    .where(
        Pairing.cycle_id == Enrolment.cycle_id,
        Pairing.mentor_id == Enrolment.user_id,
        Pairing.status == PairingStatus.ACTIVE,
    )
    .scalar_subquery()
)


def _of_cycle_mentors(*columns):
    """A select of these columns for each mentor enrolled in the cycle bound as ``cycle_id`` (users joined)."""
    return (
        select(*columns)
        .join(User, User.id == Enrolment.user_id)
        .where(
            Enrolment.cycle_id == bindparam("cycle_id"),
            Enrolment.role.in_([EnrolmentRole.MENTOR, EnrolmentRole.BOTH]),
        )
    )


_MENTOR_ROWS = _of_cycle_mentors(
    Enrolment.user_id, Enrolment.capacity, Enrolment.paused, User.team_id, User.display_name
)
_MENTORS = _of_cycle_mentors(*_MENTOR_ROWS.selected_columns, _LOAD, *_person_columns(_MENTOR_QUESTIONS))
_MENTOR_LINKS = _of_cycle_mentors(Enrolment.user_id, *_link_columns())
_CHOICE_KEYS = select(Choice.id, Choice.key)


class _PersonReader:
    """Turns the rows of ``_PEOPLE`` or ``_MENTORS`` into Persons (reads the choices' keys: one query).

    The same texts of ids come back for many people (a question's choices are few): each becomes a set once.
    """

    def __init__(self) -> None:
        self.keys = {str(choice_id): key for choice_id, key in db.session.connection().execute(_CHOICE_KEYS)}
        self.sets: dict[str | None, frozenset[str]] = {None: frozenset()}

    def person(self, user_id: int, name: str, team_id: int, columns, questions=_QUESTIONS) -> Person:
        """The Person of one row, from its ``_person_columns`` of these questions (the others are left empty)."""
        sets, fields = self.sets, {}
        # A loop, not a call per answer: this runs for every mentor.
        for question, text in zip(questions, columns[: len(questions)], strict=True):
            chosen = sets.get(text)
            if chosen is None:
                chosen = sets[text] = frozenset(self.keys[choice_id] for choice_id in text.split(","))
            fields[question] = chosen
        for question in _ONE_CHOICE:
            if question in fields:
                fields[question] = min(fields[question]) if fields[question] else None
        return Person(id=user_id, name=name, team_id=team_id, excluded=_linked(*columns[len(questions) :]), **fields)


def _linked(managers: str | None, reports: str | None) -> frozenset[int]:
    """The user ids of the two ``_link_columns``."""
    return frozenset(int(user_id) for text in (managers, reports) if text for user_id in text.split(","))


def people(user_ids: Iterable[int]) -> dict[int, Person]:
    """The matching engine's view of these people, from their questionnaire answers (two queries; one more for
    each further ``IN_BATCH`` people).

    ``excluded`` holds the person's manager and direct reports from the roster: never matched together.
    """
    chunks = list(batches(user_ids))
    if not chunks:
        return {}
    reader, connection = _PersonReader(), db.session.connection()
    return {
        user_id: reader.person(user_id, name, team_id, columns)
        for chunk in chunks
        for user_id, name, team_id, *columns in connection.execute(_PEOPLE, {"ids": chunk})
    }


def mentor_enrolments(cycle: Cycle) -> list[Enrolment]:
    """Everyone who mentors in the cycle."""
    return list(
        db.session.scalars(
            select(Enrolment).where(
                Enrolment.cycle_id == cycle.id,
                Enrolment.role.in_([EnrolmentRole.MENTOR, EnrolmentRole.BOTH]),
            )
        )
    )


def active_loads(cycle: Cycle) -> dict[int, int]:
    """Active mentees per mentor in the cycle."""
    return dict(
        db.session.execute(
            select(Pairing.mentor_id, func.count())
            .where(Pairing.cycle_id == cycle.id, Pairing.status == PairingStatus.ACTIVE)
            .group_by(Pairing.mentor_id)
        ).all()
    )


def mentor_slots(cycle: Cycle) -> list[MentorSlot]:
    """Every mentor of the cycle with the room they have left and whether they paused."""
    enrolments = mentor_enrolments(cycle)
    loads = active_loads(cycle)
    persons = people(e.user_id for e in enrolments)
    return [
        MentorSlot(
            person=persons[e.user_id],
            free_slots=max(0, e.capacity - loads.get(e.user_id, 0)),
            paused=e.paused,
        )
        for e in enrolments
        if e.user_id in persons
    ]


class _Mentor(NamedTuple):
    """What the index needs of a mentor's enrolment and account, besides their answers and mentees."""

    capacity: int
    paused: bool
    team_id: int
    name: str


@dataclass(frozen=True)
class _CachedIndex:
    stamps: dict[str, int]  # the INDEX_TABLES' stamps, read before anything else
    checked_at: datetime  # the clock just before those stamps were read
    built_at: float  # time.monotonic() when the index was last built from every mentor's answers
    mentors: dict[int, _Mentor]
    loads: dict[int, int]  # active mentees per mentor
    answered: frozenset[tuple[int, str, datetime]]  # the mentors' questionnaire steps seen in the last window
    index: MentorIndex


# The tables the index is read from. ``portal.stamps`` counts each one's commits in the committing transaction
# itself, so when none of the counts moved, nothing the index was built from did. A change to the choice lists
# can move every answer at once and rebuilds the index; the others are followed one mentor at a time (a roster
# import by comparing every mentor's managers and reports, a few ids each).
INDEX_TABLES = ("choices", "enrolments", "pairings", "profile_answers", "profile_steps", "roster_entries", "users")
_REBUILT_BY = frozenset({"choices"})
watch(*INDEX_TABLES)

# Which mentors answered is found by time (an answer is always saved with its step, ``save_answer``), and a
# step's updated_at is the writer's clock when it flushed, not when it committed: on PostgreSQL a transaction
# can commit after a reader looked, with a time before the reader's. So each look goes back this far before
# the previous one, and skips the steps it saw already. Saving an answer is a short request, flushed and
# committed within milliseconds (on SQLite, under the write lock taken before the step's time): one that took
# longer than this waits for the next rebuild. Every step saved within the margin is read at each look, so
# it stays short: at a cycle's launch, many mentors answer at once.
ANSWERS_MARGIN = timedelta(seconds=30)
# Whatever the stamps say, the index is rebuilt from every mentor's answers this often: so is anything the
# stamps cannot see (psql, a restored backup) or the margin above missed.
REBUILD_SECONDS = KEPT_SECONDS

# cycle id -> the cached index. Each worker keeps its own; the stamps tell when it is stale. Each build from every
# mentor's answers is also kept for the other processes (``portal.stamps.share``), which follow it from its stamps.
_INDEX_CACHE: dict[int, _CachedIndex] = keep_until_forgotten({})
_SHARED_NAME = "mentor-index"


def _shared_build(cycle_id: int) -> _CachedIndex | None:
    """The newest build of the cycle's index that a process kept for the others, if it is younger than
    REBUILD_SECONDS, as if built here (its ``built_at`` on this process's clock)."""
    found = shared(_SHARED_NAME, cycle_id)
    if found is None:
        return None
    built_at, kept = found
    return replace(kept, built_at=time.monotonic() - (time.time() - built_at))


def _mentor_rows(cycle: Cycle) -> dict[int, _Mentor]:
    """Every mentor of the cycle with their capacity, pause, team and name (one query)."""
    rows = db.session.execute(_MENTOR_ROWS, {"cycle_id": cycle.id})
    return {user_id: _Mentor(capacity, paused, team_id, name) for user_id, capacity, paused, team_id, name in rows}


def _answered_since(since: datetime, mentors: dict[int, _Mentor]) -> frozenset[tuple[int, str, datetime]]:
    """The (mentor, question, updated_at) of these mentors' questionnaire steps saved since ``since`` (one query
    over the steps saved since then alone, by their index)."""
    return frozenset(step for step in _recent_steps(since) if step[0] in mentors)


def _recent_steps(since: datetime) -> list[tuple[int, str, datetime]]:
    """The (person, question, updated_at) of every questionnaire step saved since ``since`` (one query)."""
    steps = db.session.execute(
        select(ProfileStep.user_id, ProfileStep.question, ProfileStep.updated_at).where(ProfileStep.updated_at >= since)
    )
    return [tuple(step) for step in steps]


def _slots(mentors: dict[int, _Mentor], loads: dict[int, int], persons: dict[int, Person]) -> list[MentorSlot]:
    """The slots of these people, from their enrolments and active mentees."""
    return [
        MentorSlot(
            person=persons[mentor_id],
            free_slots=max(0, mentors[mentor_id].capacity - loads.get(mentor_id, 0)),
            paused=mentors[mentor_id].paused,
        )
        for mentor_id in sorted(persons)
    ]


def _built(cycle: Cycle, stamps: dict[str, int], checked_at: datetime) -> _CachedIndex:
    """The index built from every mentor's enrolment, account, active mentees and answers (three queries)."""
    # The recent steps before the answers: each step kept as seen is then in what the index was built from. The
    # step's mentors are told apart from the others when the mentors are known, after the answers.
    recent = _recent_steps(checked_at - ANSWERS_MARGIN)
    reader, mentors, loads, persons = _PersonReader(), {}, {}, {}
    rows = db.session.connection().execute(_MENTORS, {"cycle_id": cycle.id}).all()
    for user_id, capacity, paused, team_id, name, load, *columns in rows:
        mentors[user_id] = _Mentor(capacity, paused, team_id, name)
        loads[user_id] = load
        persons[user_id] = reader.person(user_id, name, team_id, columns, _MENTOR_QUESTIONS)
    answered = frozenset(step for step in recent if step[0] in mentors)
    index = MentorIndex(_slots(mentors, loads, persons))
    return _CachedIndex(stamps, checked_at, time.monotonic(), mentors, loads, answered, index)


def _followed(cycle: Cycle, cached: _CachedIndex, moved: set[str], stamps: dict[str, int], checked_at: datetime):
    """The cached index brought up to date after commits to the ``moved`` tables, reading again only what they
    can have changed, and the answers of the mentors who changed (one to four queries, two more for them).

    Enrolments and teams, active mentees and the roster's links are read whole (a few numbers per mentor) and
    compared; answers, which are what costs, are found by time (see ANSWERS_MARGIN).
    """
    mentors = _mentor_rows(cycle) if moved & {"enrolments", "users"} else cached.mentors
    loads = active_loads(cycle) if "pairings" in moved else cached.loads
    changed = {
        mentor_id
        for mentor_id, mentor in mentors.items()
        if cached.mentors.get(mentor_id) != mentor or loads.get(mentor_id, 0) != cached.loads.get(mentor_id, 0)
    }
    answered = cached.answered
    if moved & {"profile_answers", "profile_steps"}:
        # Every step that commits after the previous look was saved after it, less the margin; the ones seen
        # then (the same step at the same time) need no second read.
        answered = _answered_since(cached.checked_at - ANSWERS_MARGIN, mentors)
        changed |= {mentor_id for mentor_id, _, _ in answered - cached.answered}
    if "roster_entries" in moved:
        # Only the index's own mentors: a full or paused one is read whole when they have room again.
        rows = db.session.connection().execute(_MENTOR_LINKS, {"cycle_id": cycle.id})
        links = {user_id: _linked(managers, reports) for user_id, managers, reports in rows}
        changed |= {
            slot.person.id
            for slot in cached.index.slots
            if slot.person.id in mentors and slot.person.excluded != links.get(slot.person.id)
        }
    removed = cached.mentors.keys() - mentors.keys()
    index = cached.index
    if changed or removed:
        index = index.updated(_slots(mentors, loads, people(changed)), removed=removed)
    return _CachedIndex(stamps, checked_at, cached.built_at, mentors, loads, answered, index)


def mentor_index(cycle: Cycle) -> MentorIndex:
    """The cycle's mentors with room, ready for recommendations; kept up to date one mentor at a time.

    Reading every mentor's answers takes a few hundred milliseconds with thousands of mentors; the stamps of
    the tables it comes from take one small query. When some moved, only what those tables can have changed
    is read again, and only the mentors who changed have their answers read and their rows updated
    (``MentorIndex.updated``). A choice-list change, which can move every answer at once, rebuilds the index, and
    so does time (REBUILD_SECONDS). Paused and full mentors are left out. A process that has no index of its
    own follows the newest one another process built, when it is younger than REBUILD_SECONDS; within
    ``portal.stamps.recounting()`` the index is built afresh.
    """
    checked_at = utcnow()
    # The stamps first: a commit after this read moves them again, so the next request looks again.
    stamps = read_stamps(INDEX_TABLES)
    # This request's own writes, not committed yet, have no stamp: they are read, and nothing is kept.
    written = Kept.tables_written_here(db.session.connection()) & set(INDEX_TABLES)
    cached = None if recounting_now() else _INDEX_CACHE.get(cycle.id)
    if cached is None or time.monotonic() - cached.built_at > REBUILD_SECONDS:
        # Another process's build, if there is one young enough: kept here as it was shared, and followed below
        # like this process's own.
        cached = None if recounting_now() else _shared_build(cycle.id)
        if cached is not None and not written:
            _INDEX_CACHE[cycle.id] = cached
    moved = set() if cached is None else {t for t in INDEX_TABLES if stamps.get(t) != cached.stamps.get(t)} | written
    if cached is not None and not moved:
        return cached.index
    if cached is None or moved & _REBUILT_BY:
        kept = _built(cycle, stamps, checked_at)
        if not written:
            share(_SHARED_NAME, cycle.id, replace(kept, built_at=0.0))
    else:
        kept = _followed(cycle, cached, moved, stamps, checked_at)
    if not written:
        _INDEX_CACHE[cycle.id] = kept
    return kept.index


def forbidden_pairs(cycle: Cycle, mentee_id: int | None = None) -> frozenset[tuple[int, int]]:
    """(mentee, mentor) pairs never to propose again in the cycle: ended pairings and declined requests."""
    ended = select(Pairing.mentee_id, Pairing.mentor_id).where(
        Pairing.cycle_id == cycle.id, Pairing.status == PairingStatus.ENDED
    )
    declined = select(MentorRequest.mentee_id, MentorRequest.mentor_id).where(
        MentorRequest.cycle_id == cycle.id, MentorRequest.status == RequestStatus.DECLINED
    )
    if mentee_id is not None:
        ended = ended.where(Pairing.mentee_id == mentee_id)
        declined = declined.where(MentorRequest.mentee_id == mentee_id)
    pairs = {tuple(row) for row in db.session.execute(ended)} | {tuple(row) for row in db.session.execute(declined)}
    return frozenset(pairs)


def explain_pairs(
    cycle: Cycle, pairs: Iterable[tuple[int, int]], *, audience: str
) -> dict[tuple[int, int], tuple[str, ...]]:
    """Reasons for each (mentee, mentor) pair, phrased for the mentor or the director (three queries)."""
    pairs = list(pairs)
    persons = people({person_id for pair in pairs for person_id in pair})
    weights, names = weights_for(cycle), labels()
    return {
        (mentee_id, mentor_id): reasons_for(persons[mentee_id], persons[mentor_id], weights, names, audience=audience)
        for mentee_id, mentor_id in pairs
        if mentee_id in persons and mentor_id in persons
    }
