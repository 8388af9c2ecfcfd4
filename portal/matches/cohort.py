"""Reading people, mentors and constraints out of the database for the matching engine."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

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


@dataclass
class _CachedIndex:
    stamp: tuple  # the whole cycle's fingerprint (see _mentor_stamp)
    mentors: dict[int, tuple]  # mentor id -> that mentor's fingerprint (see _mentor_fingerprints)
    index: MentorIndex


# cycle id -> the cached index. Each worker keeps its own; the stamp query tells when it is stale.
_INDEX_CACHE: dict[int, _CachedIndex] = {}


def _mentor_stamp(cycle: Cycle) -> tuple:
    """A fingerprint of everything a cycle's mentor index is built from, in three cheap queries.

    It changes when a mentor enrols, leaves, pauses, changes capacity or team, answers a question, when
    a pairing starts or ends, or when the roster (managers) changes. The roster's part comes last.
    """
    mentors = db.session.execute(
        select(
            func.count(func.distinct(Enrolment.id)),
            func.max(Enrolment.updated_at),
            func.sum(Enrolment.capacity),
            func.sum(User.team_id),
            func.max(ProfileStep.updated_at),
            func.count(ProfileStep.user_id),
        )
        .select_from(Enrolment)
        .join(User, User.id == Enrolment.user_id)
        .outerjoin(ProfileStep, ProfileStep.user_id == Enrolment.user_id)
        .where(Enrolment.cycle_id == cycle.id, Enrolment.role.in_([EnrolmentRole.MENTOR, EnrolmentRole.BOTH]))
    ).one()
    pairings = db.session.execute(
        select(func.count(), func.max(Pairing.id), func.sum(Pairing.mentor_id)).where(
            Pairing.cycle_id == cycle.id, Pairing.status == PairingStatus.ACTIVE
        )
    ).one()
    # Managers and reports come from the roster and are hard constraints too.
    roster = db.session.execute(select(func.count(), func.max(RosterEntry.updated_at))).one()
    return (*mentors, *pairings, *roster)


def _mentor_fingerprints(cycle: Cycle) -> dict[int, tuple]:
    """Each mentor's own fingerprint (enrolment, team, answers, active mentees), in two queries."""
    loads = active_loads(cycle)
    rows = db.session.execute(
        select(
            Enrolment.user_id,
            Enrolment.updated_at,
            Enrolment.capacity,
            Enrolment.paused,
            User.team_id,
            func.max(ProfileStep.updated_at),
            func.count(ProfileStep.user_id),
        )
        .select_from(Enrolment)
        .join(User, User.id == Enrolment.user_id)
        .outerjoin(ProfileStep, ProfileStep.user_id == Enrolment.user_id)
        .where(Enrolment.cycle_id == cycle.id, Enrolment.role.in_([EnrolmentRole.MENTOR, EnrolmentRole.BOTH]))
        .group_by(Enrolment.user_id, Enrolment.updated_at, Enrolment.capacity, Enrolment.paused, User.team_id)
    )
    return {row[0]: (*row[1:], loads.get(row[0], 0)) for row in rows}


def _slots_for(fingerprints: dict[int, tuple], ids: Iterable[int]) -> list[MentorSlot]:
    """Slots for these mentors from their fingerprints and their answers (four queries)."""
    persons = people(ids)
    return [
        MentorSlot(
            person=persons[mentor_id],
            free_slots=max(0, fingerprints[mentor_id][1] - fingerprints[mentor_id][-1]),
            paused=fingerprints[mentor_id][2],
        )
        for mentor_id in sorted(persons)
    ]


def mentor_index(cycle: Cycle) -> MentorIndex:
    """The cycle's mentors with room, ready for recommendations; kept up to date one mentor at a time.

    Reading every mentor's answers takes a few hundred milliseconds with thousands of mentors; the stamp
    takes a few. When the stamp moves, the mentors' own fingerprints tell who changed, and only their
    answers are read and their rows updated (``MentorIndex.updated``). A roster change, which can move
    many people's exclusions at once, rebuilds the index. Paused and full mentors are left out.
    """
    stamp = _mentor_stamp(cycle)
    cached = _INDEX_CACHE.get(cycle.id)
    if cached is not None and cached.stamp == stamp:
        return cached.index
    fingerprints = _mentor_fingerprints(cycle)
    if cached is None or cached.stamp[-2:] != stamp[-2:]:
        index = MentorIndex(_slots_for(fingerprints, fingerprints))
    else:
        changed = [mentor_id for mentor_id, print_ in fingerprints.items() if cached.mentors.get(mentor_id) != print_]
        removed = cached.mentors.keys() - fingerprints.keys()
        index = cached.index.updated(_slots_for(fingerprints, changed), removed=removed)
    _INDEX_CACHE[cycle.id] = _CachedIndex(stamp=stamp, mentors=fingerprints, index=index)
    return index


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
