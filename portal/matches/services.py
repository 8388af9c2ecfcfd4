"""Mentees drive: recommendations, requests, answers, expiry and the pairings that result."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from portal.errors import Conflict, NotFound, ValidationFailed
from portal.extensions import db
from portal.matches import cohort
from portal.matching import Match, band, is_allowed, recommend, score_pair
from portal.models import (
    Cycle,
    Enrolment,
    MentorMark,
    MentorRequest,
    Pairing,
    PairingStatus,
    RequestStatus,
    Retrospective,
    User,
)
from portal.notifications.services import notify
from portal.pairings import partner_of
from portal.programs.services import enrolment_for, mentor_load

MAX_OPEN_REQUESTS = 3
NOTE_MAX = 800
RESPONSE_MAX = 800
RHYTHMS = {
    "fortnightly": "Every two weeks",
    "monthly": "Once a month",
    "together": "Let's decide together",
}
DEFAULT_DECLINE = (
    "Thank you for asking me. I can't take this on right now, and that is about my time, not about you. "
    "I hope you find a wonderful mentor among the others who fit you."
)
DEFAULT_ACCEPT = "I'd be glad to. Let's find a time to meet."


@dataclass
class Recommendation:
    mentor: User
    match: Match
    saved: bool = False

    @property
    def band(self) -> str:
        return band(self.match.score)


def _users(ids) -> dict[int, User]:
    ids = set(ids)
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}


def marks_for(mentee: User, cycle: Cycle) -> dict[int, str]:
    """The mentee's saved and hidden mentors: mentor id -> "saved" or "hidden"."""
    return dict(
        db.session.execute(
            select(MentorMark.mentor_id, MentorMark.kind).where(
                MentorMark.cycle_id == cycle.id, MentorMark.mentee_id == mentee.id
            )
        ).all()
    )


def _requested(mentee: User, cycle: Cycle) -> set[int]:
    return set(
        db.session.scalars(
            select(MentorRequest.mentor_id).where(
                MentorRequest.cycle_id == cycle.id,
                MentorRequest.mentee_id == mentee.id,
                MentorRequest.status == RequestStatus.OPEN,
            )
        )
    )


def recommendations_for(mentee: User, cycle: Cycle, *, limit: int = 5) -> list[Recommendation]:
    """The mentors who fit the mentee best and can take them, with reasons (a fixed number of queries).

    Hidden mentors, mentors already asked, full or paused mentors and every hard constraint are left out.
    """
    marks = marks_for(mentee, cycle)
    me = cohort.people([mentee.id])[mentee.id]
    skip = {mentor_id for mentor_id, kind in marks.items() if kind == "hidden"} | _requested(mentee, cycle)
    matches = recommend(
        me,
        cohort.mentor_index(cycle),
        weights=cohort.weights_for(cycle),
        labels=cohort.labels(),
        limit=limit,
        forbidden=cohort.forbidden_pairs(cycle, mentee.id),
        skip=skip,
    )
    users = _users(m.mentor_id for m in matches)
    return [Recommendation(users[m.mentor_id], m, marks.get(m.mentor_id) == "saved") for m in matches]


def saved_mentors(mentee: User, cycle: Cycle) -> list[Recommendation]:
    """Mentors the mentee saved, with their fit, whether or not they still have room."""
    saved = [mentor_id for mentor_id, kind in marks_for(mentee, cycle).items() if kind == "saved"]
    if not saved:
        return []
    persons = cohort.people([mentee.id, *saved])
    users = _users(saved)
    weights, labels = cohort.weights_for(cycle), cohort.labels()
    found = [
        Recommendation(users[i], score_pair(persons[mentee.id], persons[i], weights, labels), saved=True)
        for i in saved
        if i in persons and i in users
    ]
    return sorted(found, key=lambda r: (-r.match.score, r.mentor.id))


def hidden_mentors(mentee: User, cycle: Cycle) -> list[User]:
    """The mentors the mentee hid, so they can bring them back."""
    hidden = [mentor_id for mentor_id, kind in marks_for(mentee, cycle).items() if kind == "hidden"]
    return sorted(_users(hidden).values(), key=lambda user: user.display_name)


def mark_mentor(mentee: User, cycle: Cycle, mentor_id: int, kind: str | None) -> None:
    """Save or hide a mentor for the mentee, or forget the mark (``kind`` None).

    Raises NotFound when the mentor does not mentor in this cycle.
    """
    if kind not in (None, "saved", "hidden"):
        raise ValueError(kind)
    mentor = db.session.scalar(select(Enrolment).where(Enrolment.cycle_id == cycle.id, Enrolment.user_id == mentor_id))
    if mentor is None or not mentor.mentors or mentor_id == mentee.id:
        raise NotFound()
    mark = db.session.scalar(
        select(MentorMark).where(
            MentorMark.cycle_id == cycle.id,
            MentorMark.mentee_id == mentee.id,
            MentorMark.mentor_id == mentor_id,
        )
    )
    same = (MentorMark.cycle_id == cycle.id, MentorMark.mentee_id == mentee.id, MentorMark.mentor_id == mentor_id)
    if kind is None:
        if mark is not None:
            # A plain DELETE: of two at once, the second finds nothing to delete, which is what it wanted.
            db.session.execute(delete(MentorMark).where(*same), execution_options={"synchronize_session": False})
            db.session.expunge(mark)
    elif mark is None:
        try:
            # Marking one mentor from several tabs at once: the unique mark lets one in, the others set its kind.
            with db.session.begin_nested():
                db.session.add(MentorMark(cycle_id=cycle.id, mentee_id=mentee.id, mentor_id=mentor_id, kind=kind))
        except IntegrityError:
            db.session.execute(update(MentorMark).where(*same).values(kind=kind))
    else:
        db.session.execute(update(MentorMark).where(*same).values(kind=kind))
        db.session.expire(mark)
    db.session.flush()


def active_pairing(user: User, cycle: Cycle) -> Pairing | None:
    """The mentee's active pairing in the cycle, if any."""
    return db.session.scalar(
        select(Pairing).where(
            Pairing.cycle_id == cycle.id,
            Pairing.mentee_id == user.id,
            Pairing.status == PairingStatus.ACTIVE,
        )
    )


def open_request_count(mentee: User, cycle: Cycle) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(MentorRequest)
        .where(
            MentorRequest.cycle_id == cycle.id,
            MentorRequest.mentee_id == mentee.id,
            MentorRequest.status == RequestStatus.OPEN,
        )
    )


def request_mentor(
    mentee: User, cycle: Cycle, mentor_id: int, *, note: str, rhythm: str, now: datetime
) -> MentorRequest:
    """Send a request from the mentee to a mentor and tell the mentor.

    Raises ValidationFailed (``note``, ``rhythm``) for bad input, Conflict when a rule stops it
    (matching closed, not enrolled as mentee, already paired, three requests open, the mentor full, paused,
    in the same team or already asked), and NotFound when the mentor does not mentor in this cycle.
    """
    errors = {}
    note = note.strip()
    if not note:
        errors["note"] = "Please write a line or two about what you hope to work on together."
    elif len(note) > NOTE_MAX:
        errors["note"] = f"Please keep the note to {NOTE_MAX} characters; it is {len(note)} now."
    if rhythm not in RHYTHMS:
        errors["rhythm"] = "Please choose how often you would like to meet."
    if errors:
        raise ValidationFailed(errors)

    mentor_enrolment = db.session.scalar(
        select(Enrolment).where(Enrolment.cycle_id == cycle.id, Enrolment.user_id == mentor_id)
    )
    if mentor_enrolment is None or not mentor_enrolment.mentors or mentor_id == mentee.id:
        raise NotFound()
    mine = enrolment_for(mentee, cycle)
    if not cycle.matching_open(now.date()) and not _rematching(mentee, cycle, now):
        raise Conflict("Requests can be sent while matching is open for this cycle.")
    if mine is None or not mine.mentored:
        raise Conflict("Please enrol in this cycle as a mentee first; it takes a moment.")
    if active_pairing(mentee, cycle) is not None:
        raise Conflict("You already have a mentor in this cycle.")
    if open_request_count(mentee, cycle) >= MAX_OPEN_REQUESTS:
        raise Conflict(
            f"You have {MAX_OPEN_REQUESTS} requests waiting for an answer. Withdraw one, or wait a little; "
            "unanswered requests close by themselves."
        )
    if mentor_id in _requested(mentee, cycle):
        raise Conflict("You have already asked this mentor; your request is waiting for an answer.")
    if mentor_enrolment.paused:
        raise Conflict("This mentor has paused new mentoring for now.")
    if mentor_load(cycle, mentor_id) >= mentor_enrolment.capacity:
        raise Conflict("This mentor has no room left in this cycle.")
    persons = cohort.people([mentee.id, mentor_id])
    if not is_allowed(persons[mentee.id], persons[mentor_id], forbidden=cohort.forbidden_pairs(cycle, mentee.id)):
        raise Conflict("This mentor cannot be matched with you in this cycle.")
    match = score_pair(persons[mentee.id], persons[mentor_id], cohort.weights_for(cycle), cohort.labels())
    request = MentorRequest(
        cycle_id=cycle.id,
        mentee_id=mentee.id,
        mentor_id=mentor_id,
        note=note,
        rhythm=rhythm,
        score=match.score,
        reasons=list(match.reasons),
        created_at=now,
        expires_at=now + timedelta(days=cycle.request_expiry_days),
    )
    db.session.add(request)
    db.session.flush()
    mentor = db.session.get(User, mentor_id)
    notify(
        mentor,
        f"{mentee.display_name} would like you as their mentor. Their note and why you fit are waiting.",
        endpoint="matches.show_request",
        request_id=request.id,
        email_subject="Someone would like you as their mentor",
        kind="requests",
    )
    return request


def _rematching(mentee: User, cycle: Cycle, now: datetime) -> bool:
    """A mentee whose pairing ended early may ask again while the cycle runs (see portal.support)."""
    from portal.support.services import can_find_another_mentor

    return can_find_another_mentor(mentee, cycle, now.date())


def get_request_for(user: User, request_id: int) -> MentorRequest:
    """The request if the user is its mentee or its mentor. Raises NotFound for anyone else."""
    request = db.session.scalar(
        select(MentorRequest)
        .options(joinedload(MentorRequest.mentee), joinedload(MentorRequest.mentor))
        .where(MentorRequest.id == request_id)
    )
    if request is None or user.id not in (request.mentee_id, request.mentor_id):
        raise NotFound()
    return request


EXPIRED_MESSAGE = (
    "Your request to {mentor} had no answer within {days} days, so we have closed it. That happens when "
    "people are busy; it says nothing about you. Other mentors who fit you are on your matches page."
)


def any_due_requests(now: datetime, *, cycle: Cycle) -> bool:
    """True when some open request of the cycle has run out of time (one indexed query)."""
    return (
        db.session.scalar(
            select(MentorRequest.id)
            .where(
                MentorRequest.cycle_id == cycle.id,
                MentorRequest.status == RequestStatus.OPEN,
                MentorRequest.expires_at <= now,
            )
            .limit(1)
        )
        is not None
    )


def expire_due_requests(now: datetime, *, cycle: Cycle | None = None) -> int:
    """Close open requests whose time ran out and tell their mentees kindly; return how many."""
    query = (
        select(MentorRequest)
        .options(joinedload(MentorRequest.mentor), joinedload(MentorRequest.mentee))
        .where(MentorRequest.status == RequestStatus.OPEN, MentorRequest.expires_at <= now)
    )
    if cycle is not None:
        query = query.where(MentorRequest.cycle_id == cycle.id)
    due = db.session.scalars(query).all()
    for request in due:
        request.status = RequestStatus.EXPIRED
        request.answered_at = now
        days = (request.expires_at - request.created_at).days
        notify(
            request.mentee,
            EXPIRED_MESSAGE.format(mentor=request.mentor.display_name, days=days),
            endpoint="matches.index",
            # The email, with the mentors who might fit next, comes from the queue's request reminders.
            kind="requests",
        )
    db.session.flush()
    return len(due)


def _check_open(request: MentorRequest, now: datetime) -> None:
    if request.status == RequestStatus.OPEN and request.expires_at <= now:
        expire_due_requests(now, cycle=db.session.get(Cycle, request.cycle_id))
    if request.status != RequestStatus.OPEN:
        raise Conflict(f"This request is no longer open: it was {request.status.value}.")


def accept_request(request: MentorRequest, mentor: User, *, message: str, now: datetime) -> Pairing:
    """The mentor accepts: a pairing is created, the mentee's other requests are withdrawn, all are told.

    Capacity holds even when two accepts race: the mentor's enrolment row is locked first (PostgreSQL),
    and SQLite writers are serialised by BEGIN IMMEDIATE. Raises Conflict when the request is no longer
    open, the mentor has no room, or the mentee already has a mentor; NotFound for anyone else.
    """
    if request.mentor_id != mentor.id:
        raise NotFound()
    message = _clean_response(message, DEFAULT_ACCEPT)
    cycle = db.session.get(Cycle, request.cycle_id)
    enrolment = db.session.scalar(
        select(Enrolment).where(Enrolment.cycle_id == cycle.id, Enrolment.user_id == mentor.id).with_for_update()
    )
    db.session.refresh(request)
    _check_open(request, now)
    if enrolment is None or mentor_load(cycle, mentor.id) >= enrolment.capacity:
        raise Conflict(
            "You have no room left in this cycle. Raise your capacity on your enrolment page if you "
            "would like to take this on, or decline kindly."
        )
    mentee = db.session.get(User, request.mentee_id)
    if active_pairing(mentee, cycle) is not None:
        raise Conflict(f"{mentee.display_name} has already found a mentor in this cycle.")
    pairing = Pairing(
        cycle_id=cycle.id,
        mentor_id=mentor.id,
        mentee_id=mentee.id,
        source="request",
        score=request.score,
        reasons=list(request.reasons),
        created_at=now,
    )
    try:
        # Two mentors accepting two requests of one mentee at once both pass the check above; the database's
        # one-active-pairing-per-mentee index lets one in, and the other hears what it would have heard later.
        with db.session.begin_nested():
            db.session.add(pairing)
            db.session.flush()
    except IntegrityError:
        raise Conflict(f"{mentee.display_name} has already found a mentor in this cycle.") from None
    request.status = RequestStatus.ACCEPTED
    request.answered_at = now
    request.response = message
    db.session.flush()
    _withdraw_others(mentee, cycle, keep=request.id, now=now)
    notify(
        mentee,
        f"{mentor.display_name} said yes: \u201c{message}\u201d You are now a pair.",
        endpoint="main.home",
        email_subject=f"{mentor.display_name} will be your mentor",
        kind="pairings",
    )
    notify(mentor, f"You and {mentee.display_name} are now a pair.", endpoint="main.home", kind="pairings")
    return pairing


def _withdraw_others(mentee: User, cycle: Cycle, *, keep: int, now: datetime) -> None:
    others = db.session.scalars(
        select(MentorRequest)
        .options(joinedload(MentorRequest.mentor))
        .where(
            MentorRequest.cycle_id == cycle.id,
            MentorRequest.mentee_id == mentee.id,
            MentorRequest.status == RequestStatus.OPEN,
            MentorRequest.id != keep,
        )
    ).all()
    for other in others:
        other.status = RequestStatus.WITHDRAWN
        other.answered_at = now
        notify(
            other.mentor,
            f"{mentee.display_name} has found a mentor, so their request to you is withdrawn. "
            "Thank you for being there.",
            endpoint="matches.incoming",
            kind="requests",
        )
    db.session.flush()


def _clean_response(message: str, default: str) -> str:
    message = (message or "").strip() or default
    if len(message) > RESPONSE_MAX:
        raise ValidationFailed(
            {"message": f"Please keep the message to {RESPONSE_MAX} characters; it is {len(message)} now."}
        )
    return message


def decline_request(request: MentorRequest, mentor: User, *, message: str, now: datetime) -> None:
    """The mentor declines, with a kind message that only the mentee sees.

    Raises Conflict when the request is no longer open, ValidationFailed for an over-long message.
    """
    if request.mentor_id != mentor.id:
        raise NotFound()
    message = _clean_response(message, DEFAULT_DECLINE)
    _check_open(request, now)
    request.status = RequestStatus.DECLINED
    request.answered_at = now
    request.response = message
    mentee = db.session.get(User, request.mentee_id)
    notify(
        mentee,
        f"{mentor.display_name} answered your request: \u201c{message}\u201d",
        endpoint="matches.index",
        email_subject="An answer to your mentor request",
        kind="requests",
    )
    db.session.flush()


def withdraw_request(request: MentorRequest, mentee: User, *, now: datetime) -> None:
    """The mentee takes a request back; the mentor is told. Raises Conflict when it is not open."""
    if request.mentee_id != mentee.id:
        raise NotFound()
    _check_open(request, now)
    request.status = RequestStatus.WITHDRAWN
    request.answered_at = now
    notify(
        db.session.get(User, request.mentor_id),
        f"{mentee.display_name} has withdrawn their request. No answer is needed.",
        endpoint="matches.incoming",
        kind="requests",
    )
    db.session.flush()


def incoming_requests(mentor: User, cycle: Cycle) -> list[MentorRequest]:
    """Open requests to the mentor, oldest first (they expire first)."""
    return list(
        db.session.scalars(
            select(MentorRequest)
            .options(joinedload(MentorRequest.mentee))
            .where(
                MentorRequest.cycle_id == cycle.id,
                MentorRequest.mentor_id == mentor.id,
                MentorRequest.status == RequestStatus.OPEN,
            )
            .order_by(MentorRequest.created_at, MentorRequest.id)
        )
    )


def my_requests(mentee: User, cycle: Cycle) -> list[MentorRequest]:
    """The mentee's own requests in the cycle, newest first, with their answers (for them alone)."""
    return list(
        db.session.scalars(
            select(MentorRequest)
            .options(joinedload(MentorRequest.mentor))
            .where(MentorRequest.cycle_id == cycle.id, MentorRequest.mentee_id == mentee.id)
            .order_by(MentorRequest.created_at.desc(), MentorRequest.id.desc())
            .limit(20)
        )
    )


# Both people of a pairing (the mentor with their team), and "the person is one of the pair", for the selects below.
_BOTH_PEOPLE = (
    joinedload(Pairing.mentor, innerjoin=True).joinedload(User.team, innerjoin=True),
    joinedload(Pairing.mentee, innerjoin=True),
)
_EITHER_SIDE = (Pairing.mentor_id == bindparam("user_id")) | (Pairing.mentee_id == bindparam("user_id"))

# Built once: every home page runs it, and building it (options, joins, cache key) cost more than running it.
_ACTIVE_PAIRINGS = (
    select(Pairing)
    .options(*_BOTH_PEOPLE)
    .where(Pairing.status == PairingStatus.ACTIVE, _EITHER_SIDE)
    .order_by(Pairing.created_at.desc())
)


# The home page reads every pairing of the person at once (a person has a handful over the years): the active ones
# it shows, the ended ones whose journals stay readable, and whether the person answered each one's retrospective.
_ALL_PAIRINGS = (
    select(
        Pairing,
        select(Retrospective.id)
        .where(Retrospective.pairing_id == Pairing.id, Retrospective.user_id == bindparam("user_id"))
        .exists(),
    )
    .options(*_BOTH_PEOPLE)
    .where(_EITHER_SIDE)
)

ENDED_SHOWN = 10
RETROSPECTIVES_OFFERED = 5


@dataclass
class PersonsPairings:
    """Every pairing of one person, sorted for the home page."""

    active: list[Pairing]  # newest first
    ended: list[Pairing]  # the latest ENDED_SHOWN to end, newest first
    # (pairing id, partner's name) of the latest RETROSPECTIVES_OFFERED ended pairings the person has not looked
    # back on yet
    retrospectives_waiting: list[tuple[int, str]]


def persons_pairings(user: User) -> PersonsPairings:
    """The person's pairings, active and ended, with both people loaded, in one query."""
    rows = db.session.execute(_ALL_PAIRINGS, {"user_id": user.id}).unique().all()
    active = sorted((p for p, _ in rows if p.status == PairingStatus.ACTIVE), key=lambda p: p.created_at, reverse=True)
    ended = sorted(
        ((p, answered) for p, answered in rows if p.status == PairingStatus.ENDED),
        key=lambda row: (row[0].ended_at is not None, row[0].ended_at),
        reverse=True,
    )
    waiting = [(p.id, partner_of(p, user).display_name) for p, answered in ended if not answered]
    return PersonsPairings(
        active=active,
        ended=[p for p, _ in ended[:ENDED_SHOWN]],
        retrospectives_waiting=waiting[:RETROSPECTIVES_OFFERED],
    )


def pairings_of(user: User, cycle: Cycle | None = None) -> list[Pairing]:
    """The person's active pairings (as mentee or mentor), newest first, with both people loaded."""
    found = list(db.session.scalars(_ACTIVE_PAIRINGS, {"user_id": user.id}).unique())
    # The cycle is picked here rather than in SQL: given "cycle_id = ?", SQLite without statistics reads the cycle's
    # whole index of active pairings (milliseconds at 2,000 pairs) instead of the person's few rows.
    return found if cycle is None else [pairing for pairing in found if pairing.cycle_id == cycle.id]


def request_reasons(mentor_request: MentorRequest, viewer: User) -> list[str] | tuple[str, ...]:
    """Why this mentor was suggested, in words for whoever reads the request: the stored reasons speak to the
    mentee; the mentor reads them phrased for a mentor (one scoring of the pair). Raises nothing."""
    if mentor_request.mentor_id != viewer.id:
        return mentor_request.reasons
    from portal.matches import cohort
    from portal.programs.services import get_cycle

    pair = (mentor_request.mentee_id, mentor_request.mentor_id)
    return cohort.explain_pairs(get_cycle(mentor_request.cycle_id), [pair], audience="mentor").get(pair, ())
