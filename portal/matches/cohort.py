"""Reading people, mentors and constraints out of the database for the matching engine."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from portal.clock import utcnow
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
from portal.stamps import KEPT_SECONDS, Kept, keep_until_forgotten, watch
from portal.stamps import read as read_stamps

SET_FIELDS = {
    "values": "values",
    "interests": "interests",
    "experiences": "experiences",
    "skills_grow": "skills_grow",
    "skills_offer": "skills_offer",
    "formats": "formats",
}
SINGLE_FIELDS = {"time": "time", "start": "start", "perspective": "perspective"}
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


def management_links(ids: list[int]) -> dict[int, set[int]]:
    """Each person's manager and direct reports (by user id) from the roster, for these people (two queries).

    The roster links people by email, so a link counts once both have an account.
    """
    person, manager = aliased(User), aliased(User)
    pairs = (
        select(person.id, manager.id)
        .select_from(RosterEntry)
        .join(person, person.email == RosterEntry.email)
        .join(manager, manager.email == RosterEntry.manager_email)
    )
    links: dict[int, set[int]] = defaultdict(set)
    # Two queries, each with one IN list, rather than one with an OR of two: large cohorts stay under
    # SQLite's limit on bound parameters.
    for query in (pairs.where(person.id.in_(ids)), pairs.where(manager.id.in_(ids))):
        for report_id, manager_id in db.session.execute(query):
            links[report_id].add(manager_id)
            links[manager_id].add(report_id)
    return links


def people(user_ids: Iterable[int]) -> dict[int, Person]:
    """The matching engine's view of these people, from their questionnaire answers (four queries).

    ``excluded`` holds the person's manager and direct reports from the roster: never matched together.
    """
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    base = {
        user_id: (name, team_id)
        for user_id, name, team_id in db.session.execute(
            select(User.id, User.display_name, User.team_id).where(User.id.in_(ids))
        )
    }
    answers: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for user_id, question, key in db.session.execute(
        select(ProfileAnswer.user_id, ProfileAnswer.question, Choice.key)
        .join(Choice, Choice.id == ProfileAnswer.choice_id)
        .where(ProfileAnswer.user_id.in_(ids))
    ):
        answers[user_id][question].add(key)
    managed = management_links(ids)
    found = {}
    for user_id, (name, team_id) in base.items():
        given = answers.get(user_id, {})
        fields = {field: frozenset(given.get(question, ())) for question, field in SET_FIELDS.items()}
        for question, field in SINGLE_FIELDS.items():
            chosen = sorted(given.get(question, ()))
            fields[field] = chosen[0] if chosen else None
        found[user_id] = Person(
            id=user_id, name=name, team_id=team_id, excluded=frozenset(managed.get(user_id, ())), **fields
        )
    return found


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
# itself, so when none of the counts moved, nothing the index was built from did. A change to the roster
# (managers and reports) or to the choice lists can move many people at once and rebuilds the index; the
# others are followed one mentor at a time.
INDEX_TABLES = ("choices", "enrolments", "pairings", "profile_answers", "profile_steps", "roster_entries", "users")
_REBUILT_BY = frozenset({"choices", "roster_entries"})
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

# cycle id -> the cached index. Each worker keeps its own; the stamps tell when it is stale.
_INDEX_CACHE: dict[int, _CachedIndex] = keep_until_forgotten({})


def _mentor_rows(cycle: Cycle) -> dict[int, _Mentor]:
    """Every mentor of the cycle with their capacity, pause and team (one query)."""
    rows = db.session.execute(
        select(Enrolment.user_id, Enrolment.capacity, Enrolment.paused, User.team_id)
        .join(User, User.id == Enrolment.user_id)
        .where(Enrolment.cycle_id == cycle.id, Enrolment.role.in_([EnrolmentRole.MENTOR, EnrolmentRole.BOTH]))
    )
    return {user_id: _Mentor(capacity, paused, team_id) for user_id, capacity, paused, team_id in rows}


def _answered_since(since: datetime, mentors: dict[int, _Mentor]) -> frozenset[tuple[int, str, datetime]]:
    """The (mentor, question, updated_at) of these mentors' questionnaire steps saved since ``since`` (one query
    over the steps saved since then alone, by their index)."""
    steps = db.session.execute(
        select(ProfileStep.user_id, ProfileStep.question, ProfileStep.updated_at).where(ProfileStep.updated_at >= since)
    )
    return frozenset(tuple(step) for step in steps if step[0] in mentors)


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
    """The index built from every mentor's answers (seven queries)."""
    mentors, loads = _mentor_rows(cycle), active_loads(cycle)
    # The recent steps before the answers: each step kept as seen is then in what the index was built from.
    answered = _answered_since(checked_at - ANSWERS_MARGIN, mentors)
    index = MentorIndex(_slots(mentors, loads, people(mentors)))
    return _CachedIndex(stamps, checked_at, time.monotonic(), mentors, loads, answered, index)


def _followed(cycle: Cycle, cached: _CachedIndex, moved: set[str], stamps: dict[str, int], checked_at: datetime):
    """The cached index brought up to date after commits to the ``moved`` tables, reading again only what they
    can have changed, and the answers of the mentors who changed (one to three queries, four more for them).

    Enrolments and teams, and active mentees, are read whole (a few numbers per mentor) and compared; answers,
    which are what costs, are found by time (see ANSWERS_MARGIN).
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
    (``MentorIndex.updated``). A roster or choice-list change, which can move many people at once, rebuilds the
    index, and so does time (REBUILD_SECONDS). Paused and full mentors are left out.
    """
    checked_at = utcnow()
    # The stamps first: a commit after this read moves them again, so the next request looks again.
    stamps = read_stamps(INDEX_TABLES)
    # This request's own writes, not committed yet, have no stamp: they are read, and nothing is kept.
    written = Kept.tables_written_here(db.session.connection()) & set(INDEX_TABLES)
    cached = _INDEX_CACHE.get(cycle.id)
    if cached is None or time.monotonic() - cached.built_at > REBUILD_SECONDS:
        kept = _built(cycle, stamps, checked_at)
    else:
        moved = {table for table in INDEX_TABLES if stamps.get(table) != cached.stamps.get(table)} | written
        if not moved:
            return cached.index
        if moved & _REBUILT_BY:
            kept = _built(cycle, stamps, checked_at)
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
