"""Personal nudges and "just curious": who may be nudged, sending one, the private card, settings, counts.

The guardrails (one nudge per person in 90 days, none during "not now", never after "no thanks", none
when switched off, not oneself, not someone enrolled) all give the same answer to the sender, so nobody
can learn from the form which choice a person made.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask import current_app, url_for
from sqlalchemy import and_, distinct, func, or_, select, text
from sqlalchemy.orm import aliased

from portal.clock import utcnow
from portal.errors import NotFound, ValidationFailed
from portal.extensions import db
from portal.models import (
    Enrolment,
    InterestEvent,
    InterestKind,
    Nudge,
    NudgeAnswer,
    NudgePreference,
    NudgeRole,
    Role,
    RosterEntry,
    User,
)
from portal.notifications.services import notify, path_for, queue_email
from portal.nudges.links import card_token, claim_token
from portal.programs.services import current_cycle

NUDGE_INTERVAL = timedelta(days=90)
MESSAGE_MAX = 600
SNOOZE_MONTHS = (1, 3, 6)
SMALL_GROUP = 5
REFUSAL = "This person can\u2019t receive a nudge right now. Thank you for thinking of them."
SEARCH_LIMIT = 10

DIRECTOR_NOTE = (
    "Thank you for asking about mentoring. Taking part can be very small: 30 minutes a month, and it can "
    "begin with a written introduction, with no call at all. You choose whether to be mentored, to mentor, "
    "or both, and you can pause or step out at any time without giving a reason.\n\n"
    "If you would like to look around first, the questionnaire saves every answer as you go, and every "
    "question can be skipped. Nothing is shared until you choose to take part in a cycle.\n\n"
    "If you have a question, just reply to this note. There is no hurry."
)


class CannotNudge(Exception):
    """The person cannot be nudged now. ``reason`` is for tests and logs only, never shown to the sender."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason
        self.message = REFUSAL


@dataclass(frozen=True)
class Recipient:
    """Someone who could be nudged: an account, or an invited person on the roster without one."""

    key: str  # "u<user id>" or "r<roster entry id>"
    email: str
    name: str
    team: str
    user: User | None = None
    entry: RosterEntry | None = None

    @property
    def invited(self) -> bool:
        return self.user is None


# --- finding people ---------------------------------------------------------------------------------------


def _enrolled_ids_query(cycle):
    return select(Enrolment.user_id).where(Enrolment.cycle_id == cycle.id)


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def search_people(sender: User, term: str) -> list[Recipient]:
    """People not enrolled in the current cycle whose name or email contains ``term`` (two queries at most).

    Nobody is hidden for having said "no thanks", "not now" or switched nudges off: the list must not
    reveal anyone's choice. Raises nothing; a term under 2 characters finds nobody.
    """
    term = " ".join((term or "").split())
    if len(term) < 2:
        return []
    pattern = _like(term)
    cycle = current_cycle()
    users = select(User).where(
        User.id != sender.id,
        or_(func.lower(User.display_name).like(pattern, escape="\\"), User.email.like(pattern, escape="\\")),
    )
    if cycle is not None:
        users = users.where(User.id.not_in(_enrolled_ids_query(cycle)))
    found = [
        Recipient(key=f"u{user.id}", email=user.email, name=user.display_name, team=user.team.name, user=user)
        for user in db.session.scalars(users.order_by(User.display_name, User.id).limit(SEARCH_LIMIT))
    ]
    invited = (
        select(RosterEntry)
        .where(
            ~select(User.id).where(User.email == RosterEntry.email).exists(),
            or_(func.lower(RosterEntry.name).like(pattern, escape="\\"), RosterEntry.email.like(pattern, escape="\\")),
        )
        .order_by(RosterEntry.name, RosterEntry.id)
        .limit(SEARCH_LIMIT)
    )
    found += [
        Recipient(key=f"r{entry.id}", email=entry.email, name=entry.name, team=entry.team_name, entry=entry)
        for entry in db.session.scalars(invited)
    ]
    return sorted(found, key=lambda r: (r.name.lower(), r.key))[:SEARCH_LIMIT]


def get_recipient(key: str) -> Recipient:
    """The person a recipient key names. Raises LookupError for a malformed or unknown key.

    A roster entry whose email now has an account is that account.
    """
    if not key or key[0] not in "ur" or not key[1:].isdigit():
        raise NotFound()
    if key[0] == "u":
        user = db.session.get(User, int(key[1:]))
        if user is None:
            raise NotFound()
        return Recipient(key=key, email=user.email, name=user.display_name, team=user.team.name, user=user)
    entry = db.session.get(RosterEntry, int(key[1:]))
    if entry is None:
        raise NotFound()
    user = db.session.scalar(select(User).where(User.email == entry.email))
    if user is not None:
        return Recipient(key=f"u{user.id}", email=user.email, name=user.display_name, team=user.team.name, user=user)
    return Recipient(key=key, email=entry.email, name=entry.name, team=entry.team_name, entry=entry)


# --- the guardrails ---------------------------------------------------------------------------------------


def preference_for(user: User) -> NudgePreference | None:
    """The person's nudge settings, if they ever chose any."""
    return db.session.get(NudgePreference, user.id)


def _preference(user: User) -> NudgePreference:
    found = preference_for(user)
    if found is None:
        found = NudgePreference(user_id=user.id, nudges_off=False)
        db.session.add(found)
    return found


def why_not(sender: User, recipient: Recipient, *, now: datetime) -> str | None:
    """The reason ``recipient`` cannot be nudged by ``sender`` now, or None when they can.

    Reasons: "self", "enrolled", "off", "declined", "snoozed", "recent". For logs and tests only.
    """
    if recipient.email == sender.email:
        return "self"
    if recipient.user is not None:
        cycle = current_cycle()
        if cycle is not None and db.session.scalar(
            select(Enrolment.id).where(Enrolment.cycle_id == cycle.id, Enrolment.user_id == recipient.user.id)
        ):
            return "enrolled"
        preference = preference_for(recipient.user)
        if preference is not None:
            if preference.nudges_off:
                return "off"
            if preference.declined_at is not None:
                return "declined"
            if preference.snoozed_until is not None and preference.snoozed_until > now.date():
                return "snoozed"
    recent = db.session.scalar(
        select(Nudge.id)
        .where(Nudge.recipient_email == recipient.email, Nudge.created_at > now - NUDGE_INTERVAL)
        .limit(1)
    )
    if recent is not None:
        return "recent"
    return None


def _check_message(message: str, suggested_role: str | None) -> tuple[str, NudgeRole | None]:
    message = (message or "").strip()
    if not message:
        raise ValidationFailed({"message": "Please write a line or two: why you thought of them."})
    if len(message) > MESSAGE_MAX:
        raise ValidationFailed(
            {"message": f"Please keep your note to {MESSAGE_MAX} characters; it is {len(message)} now."}
        )
    if suggested_role in (None, ""):
        return message, None
    try:
        return message, NudgeRole(suggested_role)
    except ValueError:
        raise ValidationFailed({"suggested_role": "Please pick one of the choices shown."}) from None


def send_nudge(
    sender: User,
    recipient: Recipient,
    *,
    message: str,
    suggested_role: str | None,
    show_name: bool,
    now: datetime,
) -> Nudge:
    """Send one personal nudge: a private card in the portal and one email through the outbox.

    An invited person (no account yet) gets their claim link, which leads to the card once claimed.
    Raises ValidationFailed (``message``, ``suggested_role``) for bad input, and CannotNudge when any
    guardrail says no (its message is the same whatever the reason).
    """
    message, role = _check_message(message, suggested_role)
    if db.session.get_bind().dialect.name == "postgresql":
        # Two colleagues nudging the same person at once: the second waits and then sees the first.
        db.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:email))"), {"email": recipient.email})
    reason = why_not(sender, recipient, now=now)
    if reason is not None:
        raise CannotNudge(reason)
    nudge = Nudge(
        sender_id=sender.id,
        recipient_email=recipient.email,
        message=message,
        suggested_role=role,
        show_name=show_name,
        created_at=now,
    )
    db.session.add(nudge)
    db.session.flush()
    from_whom = sender.display_name if show_name else "A colleague"
    base = current_app.config["PORTAL_BASE_URL"]
    if recipient.user is not None:
        notify(recipient.user, f"{from_whom} wrote you a short note about mentoring.", link=card_path(nudge))
        link = base + url_for("nudges.open_card", token=card_token(nudge.id))
        name = recipient.user.display_name
        how = "Read it in the portal (you may be asked to sign in):"
    else:
        link = base + url_for("nudges.claim", token=claim_token(recipient.entry.id, nudge.id))
        name = recipient.name
        how = "The link below sets up your account in a minute (no questionnaire needed) and opens the note:"
    body = "\n".join(
        [
            f"Hello {name},",
            "",
            f"{from_whom} thought of you and wrote you a short, personal note about the mentoring program.",
            "",
            how,
            link,
            "",
            "The link works for 14 days. There is nothing you have to do: you can say \u201cnot now\u201d or "
            "\u201cno thanks\u201d, and that will be respected.",
            "",
            "The mentorship program",
        ]
    )
    queue_email(to_address=recipient.email, subject="A colleague thought of you", body=body)
    db.session.flush()
    return nudge


def card_path(nudge: Nudge) -> str:
    """The in-portal address of a nudge's card."""
    return path_for("nudges.card", nudge_id=nudge.id)


# --- the recipient's card -----------------------------------------------------------------------------------


def card_for(user: User, nudge_id: int) -> Nudge:
    """The nudge if ``user`` received it. Raises LookupError otherwise (the sender and the director too)."""
    nudge = db.session.get(Nudge, nudge_id)
    if nudge is None or nudge.recipient_email != user.email:
        raise NotFound()
    return nudge


def sender_label(nudge: Nudge) -> str:
    """What the recipient sees as the sender: their name, or "A colleague"."""
    if not nudge.show_name:
        return "A colleague"
    return db.session.scalar(select(User.display_name).where(User.id == nudge.sender_id)) or "A colleague"


def mark_opened(nudge: Nudge, *, now: datetime) -> None:
    """Record the first time the recipient opened the card."""
    if nudge.opened_at is None:
        nudge.opened_at = now
        db.session.flush()


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (the month's last day when it is shorter)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def answer_card(user: User, nudge: Nudge, *, choice: str, months: int | None = None, now: datetime) -> str | None:
    """Record the recipient's choice on the card; the sender is never told.

    "interested" prefills the questionnaire's "How would you like to take part?" with the role the
    nudge suggested (only when unanswered) and returns the path to go to next; "more" sends the
    director's standard note; "not_now" pauses nudges for 1, 3 or 6 months; "no_thanks" stops them until
    the person undoes it in their settings. Raises ValidationFailed (``choice`` or ``months``).
    """
    try:
        answer = NudgeAnswer(choice)
    except ValueError:
        raise ValidationFailed({"choice": "Please pick one of the four choices."}) from None
    mark_opened(nudge, now=now)
    preference = _preference(user)
    next_path = None
    if answer == NudgeAnswer.NOT_NOW:
        if months not in SNOOZE_MONTHS:
            raise ValidationFailed({"months": "Please choose 1, 3 or 6 months."})
        preference.snoozed_until = add_months(now.date(), months)
    elif answer == NudgeAnswer.NO_THANKS:
        preference.declined_at = now
        preference.snoozed_until = None
    elif answer == NudgeAnswer.MORE and nudge.answer != NudgeAnswer.MORE:
        # Once per card: pressing the button again does not fill the person's inbox.
        record_interest(InterestKind.MORE, source="nudge", day=now.date())
        send_director_note(user)
    elif answer == NudgeAnswer.INTERESTED:
        preference.snoozed_until = None
        next_path = _prefill_and_next(user, nudge.suggested_role)
    nudge.answer = answer
    nudge.answered_at = now
    db.session.flush()
    return next_path


def _prefill_and_next(user: User, role: NudgeRole | None) -> str:
    from portal.onboarding.questions import QUESTION_BY_KEY
    from portal.onboarding.services import load_state, progress_for, save_answer

    question = QUESTION_BY_KEY["participation"]
    if role in (NudgeRole.MENTOR, NudgeRole.MENTEE) and load_state(user)["participation"].status is None:
        save_answer(user, question, values=[role.value])
    progress = progress_for(user)
    if progress.finished:
        return url_for("programs.enrolment")
    return url_for("onboarding.start")


def received_nudges(user: User) -> list[tuple[Nudge, str]]:
    """The nudges the person received, newest first, with how each sender is shown (one query)."""
    rows = db.session.execute(
        select(Nudge, User.display_name)
        .join(User, User.id == Nudge.sender_id)
        .where(Nudge.recipient_email == user.email)
        .order_by(Nudge.created_at.desc(), Nudge.id.desc())
    ).all()
    return [(nudge, name if nudge.show_name else "A colleague") for nudge, name in rows]


def change_settings(user: User, *, action: str, now: datetime) -> str:
    """Switch nudges off or on, undo "no thanks", or end a "not now" early; returns a confirmation.

    Raises ValidationFailed (``action``) for an unknown action.
    """
    preference = _preference(user)
    if action == "off":
        preference.nudges_off = True
        message = "Nudges are switched off. Nobody can send you one until you switch them on again."
    elif action == "on":
        preference.nudges_off = False
        message = "Nudges are switched on again."
    elif action == "undo_no":
        preference.declined_at = None
        message = "Your \u201cno thanks\u201d is undone. A colleague may send you a kind note again one day."
    elif action == "resume":
        preference.snoozed_until = None
        message = "Your pause has ended."
    else:
        raise ValidationFailed({"action": "Please pick one of the choices shown."})
    preference.updated_at = now
    db.session.flush()
    return message


# --- just curious -----------------------------------------------------------------------------------------


def record_interest(kind: InterestKind, *, source: str = "curious", day: date) -> None:
    """Count one visit or choice. Nothing about the person is kept."""
    db.session.add(InterestEvent(kind=kind, source=source, occurred_on=day))
    db.session.flush()


def _director() -> User | None:
    return db.session.scalar(select(User).where(User.role == Role.DIRECTOR).order_by(User.id).limit(1))


def send_director_note(user: User) -> None:
    """The program director's short standard note, in the portal and by email through the outbox."""
    director = _director()
    signature = f"{director.display_name}, program director" if director else "The program director"
    notify(
        user,
        "A short note from the program director about what taking part looks like is in your email.",
        endpoint="nudges.curious",
    )
    body = f"Hello {user.display_name},\n\n{DIRECTOR_NOTE}\n\n{signature}"
    queue_email(to_address=user.email, subject="A short note about mentoring", body=body)


def stories(limit: int = 3) -> list[dict]:
    """Up to ``limit`` recent posts from the celebration wall, or none when the wall is not there."""
    try:
        from portal.models import Celebration, CelebrationAudience, CelebrationStatus
    except ImportError:
        return []
    rows = db.session.execute(
        select(Celebration.text, Celebration.published_at, User.display_name)
        .join(User, User.id == Celebration.subject_id)
        .where(
            Celebration.status == CelebrationStatus.PUBLISHED,
            Celebration.audience == CelebrationAudience.EVERYONE,
            Celebration.hidden_at.is_(None),
            Celebration.deleted_at.is_(None),
            Celebration.published_at.is_not(None),
        )
        .order_by(Celebration.published_at.desc(), Celebration.id.desc())
        .limit(limit)
    ).all()
    return [{"text": text_, "on": published, "name": name.split()[0]} for text_, published, name in rows]


def is_enrolled(user: User) -> bool:
    """Whether the person takes part in the current cycle."""
    cycle = current_cycle()
    if cycle is None:
        return False
    return (
        db.session.scalar(select(Enrolment.id).where(Enrolment.cycle_id == cycle.id, Enrolment.user_id == user.id))
        is not None
    )


# --- the director's numbers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    label: str
    count: int
    total: int

    @property
    def hidden(self) -> bool:
        """Counts from 1 to 4 are not shown: too few people to stay anonymous."""
        return 0 < self.count < SMALL_GROUP

    @property
    def text(self) -> str:
        if self.hidden:
            return "fewer than 5"
        if not self.total:
            return str(self.count)
        return f"{self.count} ({round(100 * self.count / self.total)}%)"


def figures_as_of() -> datetime:
    """When the director's numbers were last taken: the start of today (UTC), so they move once a day.

    A number that moved the moment one person answered would tell the director, who can see who was
    invited, what that person chose; a daily figure pools the day's answers (and small groups stay hidden).
    """
    return utcnow().replace(hour=0, minute=0, second=0, microsecond=0)


def nudge_figures(as_of: datetime | None = None) -> tuple[int, list[Figure]]:
    """(nudges sent, figures of what happened to them) in one query; never who answered what.

    With ``as_of``, only what had happened before that moment counts (see ``figures_as_of``).
    """
    before = as_of or utcnow() + timedelta(days=1)
    # The nudges whose recipient enrolled after them, counted from the enrolments' side: a lookup in the
    # nudges' (recipient, day) index per enrolment. Asking each nudge whether its person enrolled since took two
    # lookups per nudge: these figures took 31 ms on SQLite at 20,000 nudges and 5,000 enrolments, now 19.
    invited = aliased(Nudge)
    joined = (
        select(func.count(distinct(invited.id)))
        .select_from(Enrolment)
        .join(User, User.id == Enrolment.user_id)
        .join(
            invited,
            # Nudges before the enrolment, which came before ``before``: naming ``before`` here too would let
            # SQLite start from the nudges' day index again.
            and_(invited.recipient_email == User.email, invited.created_at <= Enrolment.created_at),
        )
        .where(Enrolment.created_at < before)
        .scalar_subquery()
    )
    answered = {
        answer: func.count().filter(Nudge.answer == answer, Nudge.answered_at < before) for answer in NudgeAnswer
    }
    sent, opened, joined, interested, more, snoozed, declined = db.session.execute(
        select(
            func.count(),
            func.count().filter(Nudge.opened_at < before),
            joined,
            answered[NudgeAnswer.INTERESTED],
            answered[NudgeAnswer.MORE],
            answered[NudgeAnswer.NOT_NOW],
            answered[NudgeAnswer.NO_THANKS],
        )
        .select_from(Nudge)
        .where(Nudge.created_at < before)
    ).one()
    figures = [
        Figure("Opened", opened, sent),
        Figure("Said \u201cI\u2019m interested\u201d", interested, sent),
        Figure("Joined a cycle", joined, sent),
        Figure("Asked to hear more", more, sent),
        Figure("Chose \u201cnot now\u201d", snoozed, sent),
        Figure("Chose \u201cno thanks\u201d", declined, sent),
    ]
    return sent, figures


def curious_figures(*, since: date) -> list[Figure]:
    """Counts of visits to "Curious about mentoring?" and the choices made there since a day (one query)."""
    counts = dict(
        db.session.execute(
            select(InterestEvent.kind, func.count())
            .where(InterestEvent.occurred_on >= since)
            .group_by(InterestEvent.kind)
        ).all()
    )
    labels = {
        InterestKind.VISIT: "Visits to \u201cCurious about mentoring?\u201d",
        InterestKind.START: "Started the questionnaire from there",
        InterestKind.MORE: "Asked to hear more (from the page or a nudge)",
        InterestKind.NOT_NOW: "Chose \u201cnot now\u201d there",
    }
    return [Figure(label, counts.get(kind, 0), 0) for kind, label in labels.items()]


def sent_page(page: int, per_page: int = 50):
    """Every nudge sent, newest first, with sender and recipient names: for the director, never the answer.

    The page's nudges are found first on the ``created_at`` index alone and only those fifty are joined to the
    people, so a page far back costs about what the first one does.
    """
    sender = aliased(User)
    recipient_user = aliased(User)
    newest_first = (Nudge.created_at.desc(), Nudge.id.desc())
    on_page = select(Nudge.id).order_by(*newest_first).limit(per_page).offset((page - 1) * per_page).subquery()
    query = (
        select(
            Nudge.id,
            Nudge.created_at,
            Nudge.show_name,
            sender.display_name.label("sender_name"),
            func.coalesce(recipient_user.display_name, RosterEntry.name, Nudge.recipient_email).label("recipient"),
        )
        .join(on_page, on_page.c.id == Nudge.id)
        .join(sender, sender.id == Nudge.sender_id)
        .outerjoin(recipient_user, recipient_user.email == Nudge.recipient_email)
        .outerjoin(RosterEntry, RosterEntry.email == Nudge.recipient_email)
        .order_by(*newest_first)
    )
    total = db.session.scalar(select(func.count()).select_from(Nudge))
    rows = db.session.execute(query).all()
    return rows, total
