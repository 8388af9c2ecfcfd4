"""The back-up plan's rules: check-ins, pausing, ending kindly, rematching and the director's help queue.

Services flush and never commit; they raise the domain errors of ``portal.errors``. Privacy, in one place:
a check-in, a closing survey and a help request are read by their author and the director only; a partner
hears that something happened (a pause, an ending) in neutral words, never why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from portal.dates import format_day
from portal.errors import Conflict, NotFound, ValidationFailed
from portal.extensions import db
from portal.journals.activity import refresh as refresh_activity
from portal.models import (
    CheckIn,
    ClosingReason,
    ClosingSurvey,
    Cycle,
    Fit,
    HelpMessage,
    HelpRequest,
    HelpStatus,
    HelpTopic,
    Meeting,
    MeetingStatus,
    Pairing,
    PairingEnd,
    PairingPause,
    PairingStatus,
    Role,
    User,
)
from portal.notifications.services import notify, path_for
from portal.support.health import Thresholds, facts_for, thresholds_for

NOTE_MAX = 2000
REASON_MAX = 300
HELP_MAX = 4000

FIT_LABELS = {
    Fit.GOING_WELL: "Going well",
    Fit.FINDING_FEET: "Still finding our feet",
    Fit.NOT_A_FIT: "Not a good fit",
}
CLOSING_LABELS = {
    ClosingReason.GOALS_MET: "Our goals are met",
    ClosingReason.SCHEDULES: "Our schedules don't fit",
    ClosingReason.NOT_A_FIT: "Not the right fit",
    ClosingReason.LEAVING: "I'm leaving the company",
    ClosingReason.OTHER: "Something else",
}
TOPIC_LABELS = {
    HelpTopic.SCHEDULING: "Scheduling",
    HelpTopic.FIT: "How we fit",
    HelpTopic.GOALS: "Goals",
    HelpTopic.REMATCH: "I'd like to be matched again",
    HelpTopic.OTHER: "Something else",
}
STATUS_LABELS = {HelpStatus.NEW: "New", HelpStatus.IN_PROGRESS: "In progress", HelpStatus.RESOLVED: "Resolved"}
CLOSED_MESSAGE = (
    "Your mentoring pairing with {name} has come to a close. Thank you for the time you gave it. "
    "Your journal and goals stay here for you to read."
)


def _partner(pairing: Pairing, user: User) -> User:
    return db.session.get(User, pairing.mentee_id if pairing.mentor_id == user.id else pairing.mentor_id)


def _check_active(pairing: Pairing) -> None:
    if pairing.status != PairingStatus.ACTIVE:
        raise Conflict("This pairing has already come to a close, so nothing was changed.")


# --- check-ins ------------------------------------------------------------------------------------


@dataclass
class CheckInCard:
    """What a person's check-in card needs: the pairing, the round, and whether it is the first question."""

    pairing: Pairing
    partner: User
    round: int

    @property
    def first(self) -> bool:
        return self.round == 0


def check_in_for(pairing: Pairing, user: User, *, today: date, include_skipped: bool = False) -> CheckInCard | None:
    """The check-in round waiting for ``user`` in this pairing, or None (nothing due, answered, or paused).

    With ``include_skipped`` a skipped round is still offered: it can be answered later.
    """
    if pairing.status != PairingStatus.ACTIVE:
        return None
    facts = facts_for([pairing], today)[pairing.id]
    t = thresholds_for(pairing.cycle_id)
    from portal.support.health import current_round, due_round

    if include_skipped:
        if facts.paused_until is not None and facts.paused_until > today:
            return None
        found = current_round(facts, t, today)
        if found is None or any(a.user_id == user.id and a.round == found and a.answered for a in facts.answers):
            return None
    else:
        found = due_round(facts, t, today, user.id)
    if found is None:
        return None
    return CheckInCard(pairing, _partner(pairing, user), found)


def answer_check_in(
    pairing: Pairing,
    user: User,
    *,
    round: int,
    fit: str | None,
    score: str | int | None,
    note: str | None,
    now: datetime,
) -> CheckIn:
    """Keep the person's private answer to a round of check-ins.

    Round 0 takes ``fit`` (going well / finding our feet / not a good fit), later rounds a ``score`` of 1 to 5;
    the note is for the director. Raises ValidationFailed for a missing or bad answer, Conflict when the round
    was already answered (nothing is overwritten) or is not open any more, or the pairing ended.
    """
    _check_active(pairing)
    card = check_in_for(pairing, user, today=now.date(), include_skipped=True)
    errors = {}
    chosen_fit, chosen_score = None, None
    if round == 0:
        try:
            chosen_fit = Fit(fit or "")
        except ValueError:
            errors["fit"] = "Please choose the answer closest to how it feels, or skip the question for now."
    else:
        try:
            chosen_score = int(score or 0)
        except (TypeError, ValueError):
            chosen_score = 0
        if not 1 <= chosen_score <= 5:
            errors["score"] = "Please choose a number from 1 to 5, or skip the question for now."
    note = (note or "").strip() or None
    if note and len(note) > NOTE_MAX:
        errors["note"] = f"Please keep the note to {NOTE_MAX:,} characters; it is {len(note):,} now."
    if errors:
        raise ValidationFailed(errors)
    if card is None or card.round != round:
        raise Conflict("You have already answered this check-in, or it has closed. Your earlier answer is kept.")
    values = {"fit": chosen_fit, "score": chosen_score, "note": note, "answered_at": now}
    # Conditional: a skipped round may be answered later; an answered one is never overwritten.
    updated = db.session.execute(
        update(CheckIn)
        .where(
            CheckIn.pairing_id == pairing.id,
            CheckIn.user_id == user.id,
            CheckIn.round == round,
            CheckIn.answered_at.is_(None),
        )
        .values(**values)
    )
    if updated.rowcount == 0:
        try:
            with db.session.begin_nested():
                db.session.add(CheckIn(pairing_id=pairing.id, user_id=user.id, round=round, **values))
        except IntegrityError:
            raise Conflict("You have already answered this check-in. Your earlier answer is kept.") from None
    else:
        refresh_activity(db.session.connection(), [pairing.id])  # a Core update: the flush does not see it
    db.session.flush()
    return db.session.scalar(
        select(CheckIn).where(CheckIn.pairing_id == pairing.id, CheckIn.user_id == user.id, CheckIn.round == round)
    )


def skip_check_in(pairing: Pairing, user: User, *, round: int, now: datetime) -> None:
    """Put a round aside: it leaves the home page and can still be answered from the pairing's page.

    Idempotent; skipping an answered round changes nothing.
    """
    exists = db.session.scalar(
        select(CheckIn.id).where(CheckIn.pairing_id == pairing.id, CheckIn.user_id == user.id, CheckIn.round == round)
    )
    if exists is None and round >= 0:
        try:
            with db.session.begin_nested():
                db.session.add(CheckIn(pairing_id=pairing.id, user_id=user.id, round=round, skipped_at=now))
        except IntegrityError:
            pass  # a second click that raced the first: already put aside
    db.session.flush()


def my_check_ins(pairing: Pairing, user: User) -> list[CheckIn]:
    """The person's own answers in this pairing, oldest first (never the partner's)."""
    return list(
        db.session.scalars(
            select(CheckIn)
            .where(CheckIn.pairing_id == pairing.id, CheckIn.user_id == user.id, CheckIn.answered_at.is_not(None))
            .order_by(CheckIn.round)
        )
    )


# --- pausing --------------------------------------------------------------------------------------


def open_pause(pairing: Pairing, today: date) -> PairingPause | None:
    """The pause in force today, if any (a pause ends by itself on its date)."""
    return db.session.scalar(
        select(PairingPause)
        .where(PairingPause.pairing_id == pairing.id, PairingPause.resumed_at.is_(None), PairingPause.until > today)
        .order_by(PairingPause.until.desc())
        .limit(1)
    )


def pause_pairing(
    pairing: Pairing, by: User, *, until: date | None, reason: str | None, today: date, by_director: bool = False
) -> PairingPause:
    """Pause the pairing until a date inside the cycle; the partner (both, when the director pauses) is told.

    Reminders, check-ins, catch-up notes and health warnings stop while it lasts. Raises ValidationFailed for
    a date in the past, today or after the cycle ends, or a long reason; Conflict when it ended or is paused.
    """
    _check_active(pairing)
    cycle = db.session.get(Cycle, pairing.cycle_id)
    reason = (reason or "").strip() or None
    errors = {}
    if until is None:
        errors["until"] = "Please choose the date the pairing picks up again."
    elif until <= today:
        errors["until"] = "Please choose a date after today."
    elif until > cycle.ends_on:
        errors["until"] = f"Please choose a date on or before {format_day(cycle.ends_on)}, when the cycle ends."
    if reason and len(reason) > REASON_MAX:
        errors["reason"] = f"Please keep the reason to {REASON_MAX} characters; it is {len(reason)} now."
    if errors:
        raise ValidationFailed(errors)
    current = open_pause(pairing, today)
    if current is not None:
        raise Conflict(f"This pairing is already paused until {format_day(current.until)}. Nothing was changed.")
    pause = PairingPause(pairing_id=pairing.id, paused_by_id=by.id, until=until, reason=reason)
    db.session.add(pause)
    db.session.flush()
    when = format_day(until)
    if by_director:
        message = f"The program director has paused your mentoring pairing until {when}."
        told = [db.session.get(User, pairing.mentor_id), db.session.get(User, pairing.mentee_id)]
    else:
        message = f"{by.display_name} has paused your mentoring pairing until {when}."
        told = [_partner(pairing, by)]
    if reason:
        message += f" They wrote: \u201c{reason}\u201d"
    message += " Nothing is lost; it picks up again then, or earlier if either of you resumes it."
    for person in told:
        notify(
            person,
            message,
            endpoint="support.pairing",
            pairing_id=pairing.id,
            email_subject="Your mentoring pairing is paused",
        )
    return pause


def resume_pairing(pairing: Pairing, by: User, *, now: datetime) -> None:
    """Resume a paused pairing before its date; the partner is told. Raises Conflict when it is not paused."""
    _check_active(pairing)
    updated = db.session.execute(
        update(PairingPause)
        .where(
            PairingPause.pairing_id == pairing.id,
            PairingPause.resumed_at.is_(None),
            PairingPause.until > now.date(),
        )
        .values(resumed_at=now, resumed_by_id=by.id)
    )
    if updated.rowcount == 0:
        raise Conflict("This pairing is not paused any more. Nothing was changed.")
    refresh_activity(db.session.connection(), [pairing.id])  # a Core update: the flush does not see it
    notify(
        _partner(pairing, by),
        f"{by.display_name} has resumed your mentoring pairing. Welcome back.",
        endpoint="support.pairing",
        pairing_id=pairing.id,
    )
    db.session.flush()


def paused_pairing_ids(pairing_ids, today: date) -> set[int]:
    """Which of these pairings are paused today (for reminders elsewhere: they stop while paused)."""
    ids = list(pairing_ids)
    if not ids:
        return set()
    return set(
        db.session.scalars(
            select(PairingPause.pairing_id).where(
                PairingPause.pairing_id.in_(ids), PairingPause.resumed_at.is_(None), PairingPause.until > today
            )
        )
    )


# --- a no-fault way out ---------------------------------------------------------------------------


def end_pairing(
    pairing: Pairing,
    by: User,
    *,
    reason: str | None,
    suitability: str | int | None,
    note: str | None,
    now: datetime,
    by_director: bool = False,
) -> ClosingSurvey:
    """End the pairing early, kindly: keep the private closing survey, free the mentor's seat, tell the partner.

    The partner (both people, when the director ends it) gets the neutral message and never the reason. The
    mentee is offered "Find another mentor" unless they ended it themselves because their goals were met, and
    "Our goals are met" chosen by the mentee or the director offers the mentee a celebration post. Planned
    meetings are cancelled; the journal, goals and reflections stay readable to the pair, read only.
    Raises ValidationFailed for a missing reason or a bad score, Conflict when it already ended.
    """
    errors = {}
    try:
        chosen = ClosingReason(reason or "")
    except ValueError:
        errors["reason"] = "Please choose the reason closest to yours; only the program director reads it."
    score = None
    if suitability not in (None, ""):
        try:
            score = int(suitability)
        except (TypeError, ValueError):
            score = 0
        if not 1 <= score <= 5:
            errors["suitability"] = "Please choose a number from 1 to 5, or leave it out."
    note = (note or "").strip() or None
    if note and len(note) > NOTE_MAX:
        errors["note"] = f"Please keep the note to {NOTE_MAX:,} characters; it is {len(note):,} now."
    if errors:
        raise ValidationFailed(errors)
    # Planned meetings are cancelled while the pairing is still active (ended pairings are read only).
    _check_active(pairing)
    for meeting in db.session.scalars(
        select(Meeting).where(
            Meeting.pairing_id == pairing.id, Meeting.status == MeetingStatus.PLANNED, Meeting.starts_at >= now
        )
    ):
        meeting.status = MeetingStatus.CANCELLED
        meeting.change_reason = "The pairing came to a close."
    db.session.execute(
        update(PairingPause)
        .where(PairingPause.pairing_id == pairing.id, PairingPause.resumed_at.is_(None))
        .values(resumed_at=now, resumed_by_id=by.id)
    )
    # One conditional UPDATE: a second ending (a stale form, the partner at the same moment) changes nothing.
    ended = db.session.execute(
        update(Pairing)
        .where(Pairing.id == pairing.id, Pairing.status == PairingStatus.ACTIVE)
        .values(status=PairingStatus.ENDED, ended_at=now, end_kind=PairingEnd.CLOSED_EARLY)
    )
    if ended.rowcount == 0:
        raise Conflict("This pairing has already come to a close, so nothing was changed.")
    refresh_activity(db.session.connection(), [pairing.id])  # its pauses ended with a Core update
    db.session.refresh(pairing)
    survey = ClosingSurvey(
        pairing_id=pairing.id,
        ended_by_id=by.id,
        by_director=by_director,
        reason=chosen,
        suitability=score,
        note=note,
        created_at=now,
    )
    db.session.add(survey)
    db.session.flush()

    mentor, mentee = db.session.get(User, pairing.mentor_id), db.session.get(User, pairing.mentee_id)
    told = [mentor, mentee] if by_director else [mentee if by.id == mentor.id else mentor]
    cycle = db.session.get(Cycle, pairing.cycle_id)
    mentee_met_goals = chosen == ClosingReason.GOALS_MET and (by_director or by.id == mentee.id)
    offer_rematch = now.date() < cycle.ends_on and not (chosen == ClosingReason.GOALS_MET and by.id == mentee.id)
    for person in told:
        other = mentee if person.id == mentor.id else mentor
        message = CLOSED_MESSAGE.format(name=other.display_name)
        link = path_for("support.pairing", pairing_id=pairing.id)
        if person.id == mentee.id and offer_rematch and not mentee_met_goals:
            message += " When you are ready, you can find another mentor."
            link = path_for("matches.index")
        notify(person, message, link=link, email_subject="Your mentoring pairing has come to a close")
    if mentee_met_goals:
        from portal.celebrations.services import propose_celebration

        propose_celebration(
            mentee,
            kind="goal",
            text=f"My mentoring with {mentor.display_name} met its goals. Thank you, {mentor.display_name}.",
            pairing_id=pairing.id,
            cycle_id=pairing.cycle_id,
        )
    return survey


def can_find_another_mentor(mentee: User, cycle: Cycle, today: date) -> bool:
    """True when the mentee's pairing in this cycle ended early and the cycle still runs.

    Such a mentee may ask mentors even after the matching window closed; the former mentor and anyone who
    declined them are left out as always (``cohort.forbidden_pairs``).
    """
    if today > cycle.ends_on:
        return False
    ended = db.session.scalar(
        select(Pairing.id)
        .where(
            Pairing.cycle_id == cycle.id,
            Pairing.mentee_id == mentee.id,
            Pairing.end_kind == PairingEnd.CLOSED_EARLY,
        )
        .limit(1)
    )
    active = db.session.scalar(
        select(Pairing.id)
        .where(Pairing.cycle_id == cycle.id, Pairing.mentee_id == mentee.id, Pairing.status == PairingStatus.ACTIVE)
        .limit(1)
    )
    return ended is not None and active is None


def rematch_offered(mentee: User, cycle: Cycle, today: date) -> bool:
    """Whether to offer "Find another mentor": they may, and did not end it themselves with their goals met.

    When the mentor or the director chose "goals met", the offer stands, so that it never hints at a reason.
    """
    if not can_find_another_mentor(mentee, cycle, today):
        return False
    reason, ended_by = db.session.execute(
        select(ClosingSurvey.reason, ClosingSurvey.ended_by_id)
        .join(Pairing, Pairing.id == ClosingSurvey.pairing_id)
        .where(Pairing.cycle_id == cycle.id, Pairing.mentee_id == mentee.id)
        .order_by(Pairing.ended_at.desc())
        .limit(1)
    ).one_or_none() or (None, None)
    return not (reason == ClosingReason.GOALS_MET and ended_by == mentee.id)


# --- the director as a resource -------------------------------------------------------------------


def _directors() -> list[User]:
    return list(db.session.scalars(select(User).where(User.role == Role.DIRECTOR)))


def _clean_body(body: str | None, field: str = "body") -> str:
    body = (body or "").strip()
    if not body:
        raise ValidationFailed({field: "Please write a few words, so the program director knows how to help."})
    if len(body) > HELP_MAX:
        raise ValidationFailed({field: f"Please keep the message to {HELP_MAX:,} characters; it is {len(body):,} now."})
    return body


def ask_director(
    user: User, *, topic: str | None, body: str | None, pairing_id: int | None, now: datetime
) -> HelpRequest:
    """Send a private question to the program director; the partner never learns of it.

    Raises ValidationFailed for a missing topic or an empty or over-long message, NotFound for a pairing
    that is not the person's own.
    """
    errors = {}
    try:
        chosen = HelpTopic(topic or "")
    except ValueError:
        errors["topic"] = "Please choose what it is about."
    try:
        body = _clean_body(body)
    except ValidationFailed as failure:
        errors.update(failure.errors)
    if errors:
        raise ValidationFailed(errors)
    if pairing_id is not None:
        pairing = db.session.get(Pairing, pairing_id)
        if pairing is None or user.id not in (pairing.mentor_id, pairing.mentee_id):
            raise NotFound()
    help_request = HelpRequest(user_id=user.id, pairing_id=pairing_id, topic=chosen, created_at=now, updated_at=now)
    db.session.add(help_request)
    db.session.flush()
    db.session.add(HelpMessage(help_request_id=help_request.id, author_id=user.id, body=body, created_at=now))
    for director in _directors():
        # No name and no text in the notification: the queue itself is the private place.
        notify(
            director,
            "A new question is waiting in the help queue.",
            endpoint="support.queue_item",
            help_id=help_request.id,
        )
    db.session.flush()
    return help_request


def help_for(user: User, help_id: int) -> HelpRequest:
    """The help request if ``user`` asked it (or is a director). Raises NotFound for anyone else."""
    help_request = db.session.scalar(
        select(HelpRequest).options(joinedload(HelpRequest.user, innerjoin=True)).where(HelpRequest.id == help_id)
    )
    if help_request is None or (help_request.user_id != user.id and not user.is_director):
        raise NotFound()
    return help_request


def thread_of(help_request: HelpRequest) -> list[HelpMessage]:
    """The request's messages, oldest first."""
    return list(
        db.session.scalars(
            select(HelpMessage)
            .where(HelpMessage.help_request_id == help_request.id)
            .order_by(HelpMessage.created_at, HelpMessage.id)
        )
    )


def my_help_requests(user: User) -> list[HelpRequest]:
    """The person's own questions to the director, newest first."""
    return list(
        db.session.scalars(
            select(HelpRequest)
            .where(HelpRequest.user_id == user.id)
            .order_by(HelpRequest.created_at.desc(), HelpRequest.id.desc())
            .limit(30)
        )
    )


def reply(help_request: HelpRequest, author: User, *, body: str | None, now: datetime) -> HelpMessage:
    """Add a message to the thread. The director's answer is told to the person (in the portal and by email)
    and moves a new request to in progress; the person's reply reopens a resolved one.

    Raises ValidationFailed for an empty or over-long message, NotFound for anyone else.
    """
    from_director = author.is_director and author.id != help_request.user_id
    if not from_director and author.id != help_request.user_id:
        raise NotFound()
    body = _clean_body(body)
    message = HelpMessage(
        help_request_id=help_request.id, author_id=author.id, from_director=from_director, body=body, created_at=now
    )
    db.session.add(message)
    help_request.updated_at = now
    if from_director:
        if help_request.status == HelpStatus.NEW:
            help_request.status = HelpStatus.IN_PROGRESS
        notify(
            db.session.get(User, help_request.user_id),
            "The program director has answered your question.",
            endpoint="support.help_thread",
            help_id=help_request.id,
            email_subject="An answer from the program director",
        )
    else:
        if help_request.status == HelpStatus.RESOLVED:
            help_request.status = HelpStatus.NEW
            help_request.resolved_at = None
        for director in _directors():
            notify(
                director,
                "Someone added to their question in the help queue.",
                endpoint="support.queue_item",
                help_id=help_request.id,
            )
    db.session.flush()
    return message


def set_help_status(help_request: HelpRequest, *, status: str | None, now: datetime) -> None:
    """Move a request to new, in progress or resolved. Raises ValidationFailed for an unknown status."""
    try:
        chosen = HelpStatus(status or "")
    except ValueError:
        raise ValidationFailed({"status": "Please choose new, in progress or resolved."}) from None
    help_request.status = chosen
    help_request.updated_at = now
    help_request.resolved_at = now if chosen == HelpStatus.RESOLVED else None
    db.session.flush()


def help_queue(status: HelpStatus) -> list[HelpRequest]:
    """The director's queue for one status, oldest first (new ones wait longest at the top)."""
    return list(
        db.session.scalars(
            select(HelpRequest)
            .options(joinedload(HelpRequest.user, innerjoin=True))
            .where(HelpRequest.status == status)
            .order_by(HelpRequest.created_at, HelpRequest.id)
            .limit(200)
        )
    )


@dataclass
class Waiting:
    count: int
    oldest: datetime | None

    def waited(self, now: datetime) -> str:
        """The oldest wait in plain words."""
        if self.oldest is None:
            return ""
        minutes = int((now - self.oldest).total_seconds() // 60)
        if minutes < 60:
            return f"{max(minutes, 1)} minute{'s' if minutes != 1 else ''}"
        hours = minutes // 60
        if hours < 48:
            return f"{hours} hour{'s' if hours != 1 else ''}"
        return f"{hours // 24} days"


def waiting_summary() -> Waiting:
    """How many questions wait for a first answer, and since when (one query)."""
    count, oldest = db.session.execute(
        select(func.count(), func.min(HelpRequest.created_at)).where(HelpRequest.status == HelpStatus.NEW)
    ).one()
    if isinstance(oldest, str):  # SQLite aggregates come back as text
        oldest = datetime.fromisoformat(oldest)
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return Waiting(count, oldest)


def suggest_mentor(mentee: User, mentor_id: int | None, *, cycle: Cycle, director: User) -> User:
    """Suggest a mentor to a mentee (they ask, as mentees drive); they are told by notification and email.

    Raises ValidationFailed when no mentor is chosen or the mentor cannot be matched with them.
    """
    from portal.matches.services import recommendations_for

    if not mentor_id:
        raise ValidationFailed({"mentor_id": "Please choose a mentor to suggest."})
    allowed = {r.mentor.id: r.mentor for r in recommendations_for(mentee, cycle, limit=10)}
    if mentor_id not in allowed:
        raise ValidationFailed({"mentor_id": "That mentor cannot take this person now; please choose another."})
    mentor = allowed[mentor_id]
    notify(
        mentee,
        f"The program director suggests {mentor.display_name} as a mentor who fits you. "
        "Have a look and ask them if you would like to.",
        endpoint="matches.ask",
        mentor_id=mentor.id,
        email_subject="A mentor suggestion from the program director",
    )
    return mentor


def director_pairing(pairing_id: int) -> Pairing:
    """A pairing for the director's pages, both people loaded. Raises NotFound."""
    pairing = db.session.scalar(
        select(Pairing)
        .options(joinedload(Pairing.mentor, innerjoin=True), joinedload(Pairing.mentee, innerjoin=True))
        .where(Pairing.id == pairing_id)
    )
    if pairing is None:
        raise NotFound()
    return pairing


def check_ins_of_pair(pairing: Pairing) -> list[CheckIn]:
    """Every answered check-in of the pair, for the director: answers and notes written for them."""
    return list(
        db.session.scalars(
            select(CheckIn)
            .where(CheckIn.pairing_id == pairing.id, CheckIn.answered_at.is_not(None))
            .order_by(CheckIn.round, CheckIn.user_id)
        )
    )


def closing_survey_of(pairing: Pairing) -> ClosingSurvey | None:
    """The closing survey, for the director alone."""
    return db.session.scalar(select(ClosingSurvey).where(ClosingSurvey.pairing_id == pairing.id))


def home_support(
    user: User,
    pairings: list[Pairing],
    *,
    ended: list[Pairing],
    thresholds: Thresholds,
    has_help: bool,
    now: datetime,
) -> dict:
    """What the home page shows of the back-up plan, in a fixed number of queries.

    Check-in cards waiting for ``user`` in ``pairings`` (the current cycle's, judged by its ``thresholds``),
    which of them are paused (until when), the ``ended`` pairings with readable journals and "Find another
    mentor". The director's queues lead the page from ``reports.services.program_state``.
    """
    from portal.pairings import partner_of
    from portal.support.forms import CheckInForm
    from portal.support.health import due_round

    day = now.date()
    facts = facts_for(pairings, day)
    cards, paused = [], {}
    for pairing in pairings:
        found = facts[pairing.id]
        if found.paused_until is not None:
            paused[pairing.id] = found.paused_until
        round_ = due_round(found, thresholds, day, user.id)
        if round_ is not None:
            cards.append(CheckInCard(pairing, partner_of(pairing, user), round_))
    find_another = False
    mine_ended = [p for p in ended if p.is_mentee(user) and p.end_kind == PairingEnd.CLOSED_EARLY]
    if mine_ended and not any(p.is_mentee(user) for p in pairings):
        cycle = db.session.get(Cycle, mine_ended[0].cycle_id)
        find_another = cycle.is_current and rematch_offered(user, cycle, day)
    return {
        "cards": cards,
        "paused": paused,
        "ended": ended,
        "find_another": find_another,
        "has_help": has_help,
        # Only a card needs the form (building one costs more than the rest of this function).
        "form": CheckInForm(formdata=None) if cards else None,
        "now": now,
    }


# --- the cycle's thresholds -----------------------------------------------------------------------

THRESHOLD_LIMITS = {
    "quiet_warning_weeks": (1, 26, "Weeks without a meeting before a pair might need a check-in"),
    "overdue_milestones": (1, 20, "Overdue milestones before a pair might need a check-in"),
    "too_early_days": (1, 90, "Days a new pair without a meeting is too early to tell"),
    "first_check_in_days": (0, 30, "Days after the first meeting for the first check-in"),
    "first_check_in_max_days": (1, 60, "Days after pairing for the first check-in at the latest"),
    "pulse_weeks": (1, 26, "Weeks between pulses"),
    "quiet_weeks": (1, 26, "Quiet weeks before a catch-up note"),
    "note_spacing_weeks": (1, 26, "Weeks at least between two catch-up notes"),
}


def save_thresholds(cycle: Cycle, values: dict[str, object]) -> None:
    """Keep the cycle's thresholds for health, check-ins and catch-up notes.

    Raises ValidationFailed naming each value that is missing or outside its range; nothing is saved then.
    """
    from portal.models import SupportSettings

    errors, clean = {}, {}
    for name, (low, high, _) in THRESHOLD_LIMITS.items():
        try:
            number = int(values.get(name))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            number = None
        if number is None or not low <= number <= high:
            errors[name] = f"Please choose a whole number from {low} to {high}."
        else:
            clean[name] = number
    if errors:
        raise ValidationFailed(errors)
    row = db.session.get(SupportSettings, cycle.id)
    if row is None:
        row = SupportSettings(cycle_id=cycle.id)
        db.session.add(row)
    for name, number in clean.items():
        setattr(row, name, number)
    db.session.flush()
