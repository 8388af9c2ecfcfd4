"""Program cycles (director) and enrolment in the current cycle (participants)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import bindparam, func, select, update

from portal.clock import utcnow
from portal.database import insert_or_update
from portal.errors import NotFound, ValidationFailed
from portal.extensions import db
from portal.models import (
    Cycle,
    Enrolment,
    EnrolmentRole,
    MentorRequest,
    Pairing,
    PairingStatus,
    RequestStatus,
    User,
)
from portal.notifications.services import notify

MIN_CAPACITY, MAX_CAPACITY = 1, 5
SMALL_GROUP = 5  # aggregates over fewer people than this are not shown
DEFAULT_MIN_SCORE = 30  # "Match the rest" proposes no pair scoring less, unless the director says otherwise


@dataclass
class CycleInput:
    name: str
    enrolment_opens_on: date
    enrolment_closes_on: date
    matching_opens_on: date
    matching_closes_on: date
    starts_on: date
    ends_on: date
    request_expiry_days: int = 7
    default_capacity: int = 2
    is_current: bool = False
    min_score: int = DEFAULT_MIN_SCORE


def suggested_dates(start: date) -> CycleInput:
    """Sensible dates for a new cycle starting around ``start``: a six-month program."""
    enrolment_opens = start
    matching_opens = start + timedelta(days=14)
    starts = start + timedelta(days=35)
    return CycleInput(
        name="",
        enrolment_opens_on=enrolment_opens,
        enrolment_closes_on=matching_opens - timedelta(days=1),
        matching_opens_on=matching_opens,
        matching_closes_on=starts - timedelta(days=1),
        starts_on=starts,
        ends_on=starts + timedelta(days=182),
    )


# (field, the field it may not come before, how that earlier date reads in a message)
DATE_ORDER = [
    ("enrolment_closes_on", "enrolment_opens_on", "enrolment opens"),
    ("matching_opens_on", "enrolment_opens_on", "enrolment opens"),
    ("matching_closes_on", "matching_opens_on", "matching opens"),
    ("starts_on", "matching_opens_on", "matching opens"),
    ("ends_on", "starts_on", "the program starts"),
    ("ends_on", "matching_closes_on", "matching closes"),
]


def _validate(data: CycleInput, *, cycle: Cycle | None) -> None:
    errors: dict[str, str] = {}
    if not data.name.strip():
        errors["name"] = "Please give the cycle a name, for example \u201cSpring 2027\u201d."
    for field, earlier, words in DATE_ORDER:
        if field not in errors and getattr(data, field) < getattr(data, earlier):
            errors[field] = f"This date must be on or after the day {words}."
    if "ends_on" not in errors and data.ends_on == data.starts_on:
        errors["ends_on"] = "The program must end after it starts."
    if not 1 <= data.request_expiry_days <= 60:
        errors["request_expiry_days"] = "Please choose between 1 and 60 days."
    if not MIN_CAPACITY <= data.default_capacity <= MAX_CAPACITY:
        errors["default_capacity"] = f"Please choose between {MIN_CAPACITY} and {MAX_CAPACITY} mentees."
    if data.min_score is None or not 0 <= data.min_score <= 100:
        errors["min_score"] = "Please choose a score from 0 to 100."
    if data.is_current:
        other = current_cycle()
        if other is not None and (cycle is None or other.id != cycle.id):
            errors["is_current"] = (
                f"\u201c{other.name}\u201d is the current cycle. Only one cycle can be current: untick it there first."
            )
    if errors:
        raise ValidationFailed(errors)


def create_cycle(data: CycleInput) -> Cycle:
    """Create a cycle. Raises ValidationFailed for dates out of order, a second current cycle, bad numbers."""
    _validate(data, cycle=None)
    cycle = Cycle(**{**data.__dict__, "name": data.name.strip()})
    db.session.add(cycle)
    db.session.flush()
    _recount_after_commit()
    return cycle


def update_cycle(cycle: Cycle, data: CycleInput) -> Cycle:
    """Change a cycle's settings. Raises ValidationFailed like create_cycle."""
    _validate(data, cycle=cycle)
    for key, value in data.__dict__.items():
        setattr(cycle, key, value.strip() if key == "name" else value)
    db.session.flush()
    _recount_after_commit()
    return cycle


def _recount_after_commit() -> None:
    # Every figure of the report reads the cycles: have the queue count them again for every process once this
    # change commits, rather than the director's next visit.
    from portal.queue import after_commit, recount_kept

    after_commit(recount_kept)


# Built once: most pages run these.
_CURRENT_CYCLE = select(Cycle).where(Cycle.is_current.is_(True))
_ENROLMENT = select(Enrolment).where(
    Enrolment.cycle_id == bindparam("cycle_id"), Enrolment.user_id == bindparam("user_id")
)


def current_cycle() -> Cycle | None:
    """The cycle marked current, if any."""
    return db.session.scalar(_CURRENT_CYCLE)


def all_cycles() -> list[Cycle]:
    """Every cycle, the newest first."""
    return list(db.session.scalars(select(Cycle).order_by(Cycle.starts_on.desc(), Cycle.id.desc())))


def get_cycle(cycle_id: int) -> Cycle:
    """The cycle with this id. Raises NotFound (a LookupError) when there is none."""
    cycle = db.session.get(Cycle, cycle_id)
    if cycle is None:
        raise NotFound()
    return cycle


@dataclass
class CycleStats:
    mentees: int
    mentors: int
    pairings: int
    open_requests: int

    def shown(self, value: int) -> str:
        """A count as the director sees it: groups smaller than five are not shown."""
        return str(value) if value >= SMALL_GROUP or value == 0 else "fewer than 5"


def cycle_stats(cycle: Cycle) -> CycleStats:
    """Counts for the director's overview of one cycle (four queries, whatever the cycle's size)."""
    mentees = db.session.scalar(
        select(func.count())
        .select_from(Enrolment)
        .where(Enrolment.cycle_id == cycle.id, Enrolment.role.in_([EnrolmentRole.MENTEE, EnrolmentRole.BOTH]))
    )
    mentors = db.session.scalar(
        select(func.count())
        .select_from(Enrolment)
        .where(Enrolment.cycle_id == cycle.id, Enrolment.role.in_([EnrolmentRole.MENTOR, EnrolmentRole.BOTH]))
    )
    pairings = db.session.scalar(
        select(func.count())
        .select_from(Pairing)
        .where(Pairing.cycle_id == cycle.id, Pairing.status == PairingStatus.ACTIVE)
    )
    open_requests = db.session.scalar(
        select(func.count())
        .select_from(MentorRequest)
        .where(MentorRequest.cycle_id == cycle.id, MentorRequest.status == RequestStatus.OPEN)
    )
    return CycleStats(mentees, mentors, pairings, open_requests)


def open_for_enrolment(today: date) -> list[Cycle]:
    """Cycles a person can enrol in today, the soonest to start first.

    Enrolment stays open until matching closes, so while one cycle runs the next can already take people.
    """
    return list(
        db.session.scalars(
            select(Cycle)
            .where(Cycle.enrolment_opens_on <= today, Cycle.matching_closes_on >= today)
            .order_by(Cycle.starts_on, Cycle.id)
        )
    )


def enrolments_by_cycle(user: User, cycles: list[Cycle]) -> dict[int, Enrolment]:
    """The person's enrolments in these cycles, by cycle id (one query)."""
    if not cycles:
        return {}
    rows = db.session.scalars(
        select(Enrolment).where(Enrolment.user_id == user.id, Enrolment.cycle_id.in_([c.id for c in cycles]))
    )
    return {row.cycle_id: row for row in rows}


NO_ANSWERS = (
    "Matching works from your questionnaire, and it has no answers yet. A few answers are enough, and every "
    "question can be skipped."
)


@dataclass
class LeavingSummary:
    """What leaving a cycle would do, in numbers the person can read before they choose."""

    requests_sent: int
    requests_received: int
    in_pairing: bool


def what_leaving_does(user: User, cycle: Cycle) -> LeavingSummary:
    """Count the person's open requests (sent and received) and whether a pairing holds them in the cycle."""

    def count(*where) -> int:
        return db.session.scalar(select(func.count()).select_from(MentorRequest).where(*where))

    open_in_cycle = (MentorRequest.cycle_id == cycle.id, MentorRequest.status == RequestStatus.OPEN)
    paired = db.session.scalar(
        select(func.count())
        .select_from(Pairing)
        .where(
            Pairing.cycle_id == cycle.id,
            Pairing.status == PairingStatus.ACTIVE,
            (Pairing.mentor_id == user.id) | (Pairing.mentee_id == user.id),
        )
    )
    return LeavingSummary(
        requests_sent=count(*open_in_cycle, MentorRequest.mentee_id == user.id),
        requests_received=count(*open_in_cycle, MentorRequest.mentor_id == user.id),
        in_pairing=bool(paired),
    )


def enrolment_for(user: User, cycle: Cycle | None) -> Enrolment | None:
    """The person's enrolment in the cycle, if they have one."""
    if cycle is None:
        return None
    return db.session.scalar(_ENROLMENT, {"cycle_id": cycle.id, "user_id": user.id})


def enrol(
    user: User,
    cycle: Cycle,
    *,
    role: str,
    capacity: int | None,
    paused: bool,
    today: date,
) -> Enrolment:
    """Enrol the person in the cycle, or change how they take part.

    Raises ValidationFailed (``role``, ``capacity``) for an unknown role, a capacity outside 1 to 5 or
    below the mentees they already have, when enrolment is closed (``role``), or (``questionnaire``) when the
    person has answered no question at all: nobody could be matched with them.
    """
    if not cycle.enrolment_open(today):
        raise ValidationFailed({"role": "Enrolment for this cycle is closed. The next cycle will open for everyone."})
    if enrolment_for(user, cycle) is None and not has_answers(user):
        raise ValidationFailed({"questionnaire": NO_ANSWERS})
    try:
        chosen = EnrolmentRole(role)
    except ValueError:
        raise ValidationFailed({"role": "Please choose one of the ways to take part."}) from None
    enrolment = enrolment_for(user, cycle)
    active = 0
    if enrolment is not None:
        active = mentor_load(cycle, user.id)
    if chosen in (EnrolmentRole.MENTOR, EnrolmentRole.BOTH):
        if capacity is None or not MIN_CAPACITY <= capacity <= MAX_CAPACITY:
            raise ValidationFailed({"capacity": f"Please choose between {MIN_CAPACITY} and {MAX_CAPACITY} mentees."})
        if capacity < active:
            raise ValidationFailed({"capacity": f"You are already mentoring {active}; capacity cannot go below that."})
    else:
        if active:
            raise ValidationFailed(
                {"role": "You are mentoring someone in this cycle, so you cannot stop being a mentor here."}
            )
        capacity = capacity if capacity and MIN_CAPACITY <= capacity <= MAX_CAPACITY else cycle.default_capacity
        paused = False
    was_paused = enrolment.paused if enrolment else False
    enrolment = insert_or_update(
        Enrolment,
        {"cycle_id": cycle.id, "user_id": user.id},
        {"role": chosen, "capacity": capacity, "paused": paused, "updated_at": utcnow()},
    )
    if paused and not was_paused:
        answer_open_requests_on_pause(cycle, user)
    if chosen == EnrolmentRole.MENTEE:
        answer_open_requests_on_pause(cycle, user, stopped_mentoring=True)
    return enrolment


def has_answers(user: User) -> bool:
    """Whether the person has answered at least one question of the questionnaire."""
    from portal.onboarding.services import progress_for

    return progress_for(user).answered > 0


def mentor_load(cycle: Cycle, mentor_id: int) -> int:
    """How many active mentees the mentor has in the cycle."""
    return db.session.scalar(
        select(func.count())
        .select_from(Pairing)
        .where(
            Pairing.cycle_id == cycle.id,
            Pairing.mentor_id == mentor_id,
            Pairing.status == PairingStatus.ACTIVE,
        )
    )


PAUSE_MESSAGE = (
    "{mentor} has paused new mentoring for now, so they cannot take your request. This is about their "
    "time, not about you. Other mentors who fit you are waiting on your matches page."
)


def answer_open_requests_on_pause(cycle: Cycle, mentor: User, *, stopped_mentoring: bool = False) -> int:
    """Close a mentor's open requests kindly when they pause (or stop mentoring); return how many."""

    requests = db.session.scalars(
        select(MentorRequest).where(
            MentorRequest.cycle_id == cycle.id,
            MentorRequest.mentor_id == mentor.id,
            MentorRequest.status == RequestStatus.OPEN,
        )
    ).all()
    now = utcnow()
    message = PAUSE_MESSAGE.format(mentor=mentor.display_name)
    for request in requests:
        request.status = RequestStatus.DECLINED
        request.answered_at = now
        request.response = message
        mentee = db.session.get(User, request.mentee_id)
        notify(mentee, message, endpoint="matches.index", email_subject="About your mentor request", kind="requests")
    db.session.flush()
    return len(requests)


def leave_cycle(user: User, cycle: Cycle, *, today: date) -> None:
    """Withdraw from the cycle. Raises ValidationFailed when enrolment is closed or a pairing is active."""
    enrolment = enrolment_for(user, cycle)
    if enrolment is None:
        return
    if not cycle.enrolment_open(today):
        raise ValidationFailed({"leave": "Enrolment for this cycle is closed, so it cannot change now."})
    has_pairing = db.session.scalar(
        select(func.count())
        .select_from(Pairing)
        .where(
            Pairing.cycle_id == cycle.id,
            Pairing.status == PairingStatus.ACTIVE,
            (Pairing.mentor_id == user.id) | (Pairing.mentee_id == user.id),
        )
    )
    if has_pairing:
        raise ValidationFailed(
            {"leave": "You are in a pairing in this cycle. The program director can help you end it kindly."}
        )
    answer_open_requests_on_pause(cycle, user, stopped_mentoring=True)
    db.session.execute(
        update(MentorRequest)
        .where(
            MentorRequest.cycle_id == cycle.id,
            MentorRequest.mentee_id == user.id,
            MentorRequest.status == RequestStatus.OPEN,
        )
        .values(status=RequestStatus.WITHDRAWN)
    )
    db.session.delete(enrolment)
    db.session.flush()


def suggested_role(participation: str | None) -> str:
    """The enrolment role suggested by the questionnaire's "how would you like to take part" answer."""
    return {"mentor": "mentor", "both": "both"}.get(participation or "", "mentee")


def cycle_weights(stored: dict | None) -> dict:
    """A cycle's matching weights as the director set them, the defaults filling any not set. Raises nothing."""
    from portal.matching import Weights

    return {**Weights().as_dict(), **(stored or {})}


def set_cycle_weights(cycle: Cycle, given: dict) -> None:
    """Store the weights the director gave (a blank one keeps its default), scaled as the engine reads them.

    Raises ValidationFailed (``weight_values``) when every weight is zero.
    """
    from portal.matching import Weights

    defaults = Weights().as_dict()
    chosen = {name: (given[name] if given.get(name) is not None else defaults[name]) for name in defaults}
    try:
        cycle.weights = Weights.from_dict(chosen).as_dict()
    except ValueError:
        raise ValidationFailed({"weight_values": "At least one weight must be above zero."}) from None
    db.session.flush()
