"""Reminders and the weekly digest, sent by the queue's periodic jobs.

Every job here is idempotent: before telling anyone, it records the notice in ``sent_notices`` (unique per
person, kind and subject), so a job that runs twice, or on two workers at once, sends nothing twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select

from portal.clock import zone_for
from portal.database import batches, conflict_insert
from portal.dates import format_day
from portal.extensions import db
from portal.models import (
    ActionItem,
    Celebration,
    CelebrationAudience,
    CelebrationStatus,
    Channel,
    Cycle,
    Goal,
    GoalComment,
    GoalStatus,
    Meeting,
    MeetingStatus,
    MentorRequest,
    Notification,
    NotificationSetting,
    Pairing,
    PairingStatus,
    RequestStatus,
    SentNotice,
    User,
)
from portal.notifications.preferences import settings_for
from portal.notifications.services import personal_email

MORNING = 8  # local hour from which the day-before reminder and the digest go out
GOALS_DUE_WITHIN = timedelta(days=14)
HIGHLIGHTS = 3


def claim_notice(user_id: int, kind: str, subject_key: str) -> bool:
    """Record that ``kind`` about ``subject_key`` goes to the person; False when it was already recorded."""
    statement = (
        conflict_insert(SentNotice, db.session.get_bind())
        .values(user_id=user_id, kind=kind, subject_key=subject_key)
        .on_conflict_do_nothing(index_elements=["user_id", "kind", "subject_key"])
        # RETURNING, not rowcount: psycopg does not report the rows of an INSERT ... ON CONFLICT reliably.
        .returning(SentNotice.id)
    )
    return db.session.execute(statement).scalar() is not None


def local_time(moment: datetime, user: User) -> str:
    """A moment as the person reads it, in their zone: "Tuesday 1 December 2026, 10:30 CET"."""
    from portal.dates import format_when

    return format_when(moment, zone_for(user), style="long")


def _users(ids) -> dict[int, User]:
    return {u.id: u for chunk in batches(ids) for u in db.session.scalars(select(User).where(User.id.in_(chunk)))}


def _settings(ids) -> dict[int, NotificationSetting]:
    return {
        row.user_id: row
        for chunk in batches(ids)
        for row in db.session.scalars(select(NotificationSetting).where(NotificationSetting.user_id.in_(chunk)))
    }


# --- meetings ----------------------------------------------------------------------------------------


def send_meeting_reminders(now: datetime) -> int:
    """The reminder the day before a meeting (from 8:00 in each person's zone) and an hour before it.

    The day-before reminder follows the person's choice for meetings; the hour-before one is in the portal,
    and by email only when they asked for it. A moved meeting is reminded of again. Returns how many.
    """
    rows = db.session.execute(
        select(Meeting, Pairing.mentor_id, Pairing.mentee_id)
        .join(Pairing, Pairing.id == Meeting.pairing_id)
        .where(
            Meeting.status == MeetingStatus.PLANNED,
            Meeting.starts_at > now,
            # Two days ahead covers the day before in every time zone.
            Meeting.starts_at <= now + timedelta(hours=50),
            Pairing.status == PairingStatus.ACTIVE,
        )
        .order_by(Meeting.starts_at, Meeting.id)
    ).all()
    people = _users(i for _, mentor_id, mentee_id in rows for i in (mentor_id, mentee_id))
    settings = _settings(people)
    # A paused pairing rests: no reminders until it resumes (the back-up plan).
    from portal.support.services import paused_pairing_ids

    paused = paused_pairing_ids({meeting.pairing_id for meeting, _, _ in rows}, now.date())
    sent = 0
    for meeting, mentor_id, mentee_id in rows:
        if meeting.pairing_id in paused:
            continue
        key = f"{meeting.id}@{int(meeting.starts_at.timestamp())}"
        for person_id, partner_id in ((mentor_id, mentee_id), (mentee_id, mentor_id)):
            person, partner = people[person_id], people[partner_id]
            setting = settings.get(person_id) or settings_for(person)
            if setting.meetings == Channel.OFF:
                continue
            when = local_time(meeting.starts_at, person)
            link = f"/journals/meetings/{meeting.id}"
            if meeting.starts_at - now <= timedelta(hours=1):
                if claim_notice(person_id, "meeting-hour-before", key):
                    _tell(
                        person,
                        f"Your meeting with {partner.display_name} starts in an hour, {when}.",
                        link=link,
                        subject="Your mentoring meeting starts soon",
                        kind="meetings",
                        by_email=setting.meetings == Channel.EMAIL and setting.hour_before_by_email,
                        now=now,
                    )
                    sent += 1
                continue
            local_now = now.astimezone(zone_for(person))
            meeting_day = meeting.starts_at.astimezone(zone_for(person)).date()
            if local_now.date() == meeting_day - timedelta(days=1) and local_now.hour >= MORNING:
                if claim_notice(person_id, "meeting-day-before", key):
                    _tell(
                        person,
                        f"A gentle reminder: you meet {partner.display_name} tomorrow, {when}.",
                        link=link,
                        subject="Your mentoring meeting tomorrow",
                        kind="meetings",
                        by_email=setting.meetings == Channel.EMAIL,
                        now=now,
                    )
                    sent += 1
    db.session.flush()
    return sent


def _tell(user: User, message: str, *, link: str, subject: str, kind: str, by_email: bool, now: datetime) -> None:
    """A notification in the portal and, when ``by_email``, the same by email (held through quiet hours)."""
    db.session.add(Notification(user_id=user.id, message=message, link=link))
    if by_email:
        personal_email(user, subject=subject, paragraphs=[message], link=link, kind=kind, now=now)


# --- requests ----------------------------------------------------------------------------------------


def send_request_reminders(now: datetime) -> int:
    """Tell each mentor, once, a day before a request to them runs out; and each mentee whose request ran
    out, once, by email with the mentors who might fit them next. Returns how many were told.
    """
    from portal.matches.services import recommendations_for

    sent = 0
    soon = db.session.scalars(
        select(MentorRequest).where(
            MentorRequest.status == RequestStatus.OPEN,
            MentorRequest.expires_at > now,
            MentorRequest.expires_at <= now + timedelta(days=1),
        )
    ).all()
    people = _users(i for r in soon for i in (r.mentor_id, r.mentee_id))
    for request in soon:
        if claim_notice(request.mentor_id, "request-expiring", str(request.id)):
            mentor, mentee = people[request.mentor_id], people[request.mentee_id]
            _tell(
                mentor,
                f"{mentee.display_name} asked you to be their mentor; the request stays open until "
                f"{local_time(request.expires_at, mentor)}. Whatever you answer is fine.",
                link=f"/matches/requests/{request.id}",
                subject="A mentor request is waiting for your answer",
                kind="requests",
                by_email=settings_for(mentor).requests == Channel.EMAIL,
                now=now,
            )
            sent += 1
    expired = db.session.scalars(
        select(MentorRequest).where(
            MentorRequest.status == RequestStatus.EXPIRED,
            MentorRequest.answered_at > now - timedelta(days=2),
        )
    ).all()
    people = _users(i for r in expired for i in (r.mentor_id, r.mentee_id))
    for request in expired:
        mentee = people[request.mentee_id]
        if settings_for(mentee).requests != Channel.EMAIL:
            continue
        if not claim_notice(request.mentee_id, "request-expired", str(request.id)):
            continue
        cycle = db.session.get(Cycle, request.cycle_id)
        names = [r.mentor.display_name for r in recommendations_for(mentee, cycle, limit=3)]
        paragraphs = [
            f"Your request to {people[request.mentor_id].display_name} had no answer in time, so we have closed "
            "it. That happens when people are busy; it says nothing about you."
        ]
        sections = [("Mentors who might fit you next", names)] if names else []
        personal_email(
            mentee, subject="About your mentor request", paragraphs=paragraphs, sections=sections,
            link="/matches/", kind="requests", now=now,
        )  # fmt: skip
        sent += 1
    db.session.flush()
    return sent


# --- the weekly digest -------------------------------------------------------------------------------


def digest_for(user: User, now: datetime) -> list[tuple[str, list[str]]]:
    """The digest's sections for the person, empty when there is nothing to say. Nothing that shames:
    no overdue counts, only what is next.
    """
    pairings = db.session.execute(
        select(Pairing.id, Pairing.mentor_id, Pairing.mentee_id).where(
            Pairing.status == PairingStatus.ACTIVE,
            or_(Pairing.mentor_id == user.id, Pairing.mentee_id == user.id),
        )
    ).all()
    if not pairings:
        return []
    pairing_ids = [p.id for p in pairings]
    partners = _users(p.mentee_id if p.mentor_id == user.id else p.mentor_id for p in pairings)
    partner_of = {p.id: partners[p.mentee_id if p.mentor_id == user.id else p.mentor_id] for p in pairings}
    sections: list[tuple[str, list[str]]] = []
    meeting = db.session.scalars(
        select(Meeting)
        .where(Meeting.pairing_id.in_(pairing_ids), Meeting.status == MeetingStatus.PLANNED, Meeting.starts_at > now)
        .order_by(Meeting.starts_at)
        .limit(1)
    ).first()
    if meeting is not None:
        partner = partner_of[meeting.pairing_id].display_name
        sections.append(("Your next meeting", [f"With {partner}, {local_time(meeting.starts_at, user)}"]))
    actions = db.session.scalars(
        select(ActionItem)
        .where(ActionItem.owner_id == user.id, ActionItem.done_at.is_(None), ActionItem.pairing_id.in_(pairing_ids))
        .order_by(ActionItem.due_on.is_(None), ActionItem.due_on, ActionItem.id)
        .limit(5)
    ).all()
    if actions:
        sections.append(("What you planned to do", [a.title for a in actions]))
    today = now.astimezone(zone_for(user)).date()
    goals = db.session.scalars(
        select(Goal)
        .where(
            Goal.pairing_id.in_(pairing_ids),
            Goal.status == GoalStatus.ACTIVE,
            Goal.due_on >= today,
            Goal.due_on <= today + GOALS_DUE_WITHIN,
        )
        .order_by(Goal.due_on)
        .limit(5)
    ).all()
    if goals:
        sections.append(
            (
                "Goals coming up",
                [f"{g.title}, by {format_day(g.due_on, style='long')}" for g in goals],
            )
        )
    suggestions = db.session.execute(
        select(GoalComment.author_id, Goal.title)
        .join(Goal, Goal.id == GoalComment.goal_id)
        .where(
            Goal.pairing_id.in_(pairing_ids),
            GoalComment.is_suggestion.is_(True),
            GoalComment.author_id != user.id,
            GoalComment.created_at > now - timedelta(days=7),
        )
        .order_by(GoalComment.created_at.desc())
        .limit(5)
    ).all()
    if suggestions:
        names = {p.id: p.display_name for p in partners.values()}
        sections.append(
            (
                "New suggestions from your partner",
                [f"{names.get(author_id, 'Your partner')} on \u201c{title}\u201d" for author_id, title in suggestions],
            )
        )
    if sections:
        # Highlights only round off a digest; on their own they are not a reason to write.
        posts = db.session.scalars(
            select(Celebration)
            .where(
                Celebration.status == CelebrationStatus.PUBLISHED,
                Celebration.audience == CelebrationAudience.EVERYONE,
                Celebration.hidden_at.is_(None),
                Celebration.deleted_at.is_(None),
                Celebration.published_at > now - timedelta(days=7),
            )
            .order_by(Celebration.published_at.desc())
            .limit(HIGHLIGHTS)
        ).all()
        if posts:
            sections.append(("From the wall this week", [_short(p.text) for p in posts]))
    return sections


def _short(text: str, size: int = 140) -> str:
    text = " ".join(text.split())
    return text if len(text) <= size else text[: size - 1].rstrip() + "\u2026"


def send_digests(now: datetime) -> int:
    """Send the weekly digest to each person in a pairing on their chosen day, from 8:00 in their zone,
    once per week, and only when there is something to say. Returns how many were sent.
    """
    ids = set(db.session.scalars(select(Pairing.mentor_id).where(Pairing.status == PairingStatus.ACTIVE))) | set(
        db.session.scalars(select(Pairing.mentee_id).where(Pairing.status == PairingStatus.ACTIVE))
    )
    people, settings = _users(ids), _settings(ids)
    sent = 0
    for user in sorted(people.values(), key=lambda u: u.id):
        setting = settings.get(user.id) or settings_for(user)
        local = now.astimezone(zone_for(user))
        if setting.digest != Channel.EMAIL or local.weekday() != setting.digest_day or local.hour < MORNING:
            continue
        year, week, _ = local.isocalendar()
        key = f"{year}-W{week:02d}"
        if db.session.scalar(
            select(SentNotice.id).where(
                SentNotice.user_id == user.id, SentNotice.kind == "digest", SentNotice.subject_key == key
            )
        ):
            continue
        sections = digest_for(user, now)
        if not sections or not claim_notice(user.id, "digest", key):
            continue
        personal_email(
            user,
            subject="Your week in mentoring",
            paragraphs=["Here is what is coming up in your mentoring. Take what helps; nothing here is urgent."],
            sections=sections,
            link="/",
            kind="digest",
            now=now,
        )
        sent += 1
    db.session.flush()
    return sent
