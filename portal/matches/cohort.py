"""Reading people, mentors and constraints out of the database for the matching engine."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import func, select

from portal.extensions import db
from portal.matching import Labels, MentorSlot, Person, Weights, reasons_for
from portal.models import (
    Choice,
    Cycle,
    Enrolment,
    EnrolmentRole,
    MentorRequest,
    Pairing,
    PairingStatus,
    ProfileAnswer,
    RequestStatus,
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


def people(user_ids: Iterable[int]) -> dict[int, Person]:
    """The matching engine's view of these people, from their questionnaire answers (two queries)."""
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
    found = {}
    for user_id, (name, team_id) in base.items():
        given = answers.get(user_id, {})
        fields = {field: frozenset(given.get(question, ())) for question, field in SET_FIELDS.items()}
        for question, field in SINGLE_FIELDS.items():
            chosen = sorted(given.get(question, ()))
            fields[field] = chosen[0] if chosen else None
        found[user_id] = Person(id=user_id, name=name, team_id=team_id, **fields)
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
