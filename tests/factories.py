"""Factories with good defaults and overrides: make_user(team="Data")."""

from __future__ import annotations

import itertools

from portal.accounts.services import get_or_create_team
from portal.extensions import db
from portal.models import Role, User
from portal.passwords import hash_password

PASSWORD = "a quiet walk by the sea"
_HASH = hash_password(PASSWORD)  # argon2 is slow on purpose: hash once for every factory user
_counter = itertools.count(1)


def make_user(
    *,
    email: str | None = None,
    display_name: str | None = None,
    team: str = "Data",
    role: Role = Role.PARTICIPANT,
    password: str | None = None,
    timezone: str | None = None,
) -> User:
    """Create and commit a user; the password is PASSWORD unless given, the zone the organisation's."""
    n = next(_counter)
    user = User(
        email=(email or f"person{n}@example.com").lower(),
        display_name=display_name or f"Person {n}",
        team=get_or_create_team(team),
        password_hash=hash_password(password) if password else _HASH,
        role=role,
        timezone=timezone,
    )
    db.session.add(user)
    # Committed (to a savepoint the test rolls back), as a real account would be before any request.
    db.session.commit()
    return user


def make_director(**overrides) -> User:
    return make_user(role=Role.DIRECTOR, team="People", **overrides)


def make_cycle(*, name: str = "Spring", current: bool = True, **overrides):
    """A cycle whose enrolment and matching are open today, committed."""
    from datetime import timedelta

    from portal.clock import today
    from portal.models import Cycle

    day = today()
    values = {
        "name": name,
        "enrolment_opens_on": day - timedelta(days=10),
        "enrolment_closes_on": day + timedelta(days=10),
        "matching_opens_on": day - timedelta(days=5),
        "matching_closes_on": day + timedelta(days=20),
        "starts_on": day + timedelta(days=21),
        "ends_on": day + timedelta(days=200),
        "request_expiry_days": 7,
        "default_capacity": 2,
        "is_current": current,
        "weights": {},
    }
    values.update(overrides)
    cycle = Cycle(**values)
    db.session.add(cycle)
    db.session.commit()
    return cycle


def answer(user: User, **answers) -> None:
    """Save questionnaire answers: answer(user, values=["kindness"], time=["1h"])."""
    from portal.onboarding.questions import QUESTION_BY_KEY
    from portal.onboarding.services import save_answer

    for key, values in answers.items():
        save_answer(user, QUESTION_BY_KEY[key], values=list(values))
    db.session.commit()


def enrol(user: User, cycle, role: str = "mentee", *, capacity: int = 2, paused: bool = False):
    """Enrol a person in a cycle directly, committed."""
    from portal.models import Enrolment, EnrolmentRole

    enrolment = Enrolment(
        cycle_id=cycle.id, user_id=user.id, role=EnrolmentRole(role), capacity=capacity, paused=paused
    )
    db.session.add(enrolment)
    db.session.commit()
    return enrolment


def make_pairing(*, cycle=None, mentor: User | None = None, mentee: User | None = None, days_ago: int = 0):
    """A pairing (in the current cycle, made if need be, unless given) that began ``days_ago`` days ago, committed."""
    from datetime import timedelta

    from portal.clock import utcnow
    from portal.models import Pairing

    if cycle is None:
        from sqlalchemy import select

        from portal.models import Cycle

        cycle = db.session.scalar(select(Cycle).where(Cycle.is_current.is_(True))) or make_cycle()
    mentor = mentor or make_user(team="Design")
    mentee = mentee or make_user(team="Data")
    pairing = Pairing(
        cycle_id=cycle.id,
        mentor_id=mentor.id,
        mentee_id=mentee.id,
        source="request",
        created_at=utcnow() - timedelta(days=days_ago),
    )
    db.session.add(pairing)
    db.session.commit()
    return pairing


def make_meeting(pairing, *, status: str = "held", days_from_now: int = -7, **overrides):
    """A meeting of the pair ``days_from_now`` days away (negative: in the past), committed."""
    from datetime import timedelta

    from portal.clock import utcnow
    from portal.models import Meeting, MeetingStatus

    starts_at = (utcnow() + timedelta(days=days_from_now)).replace(hour=14, minute=0, second=0, microsecond=0)
    values = {
        "pairing_id": pairing.id,
        "status": MeetingStatus(status),
        "starts_at": starts_at,
        "duration_minutes": 45,
        "format": "video",
        "held_on": starts_at.date() if status == "held" else None,
        "topics": None,
        "notes": "",
        "notes_version": 0,
    }
    values.update(overrides)
    meeting = Meeting(**values)
    db.session.add(meeting)
    db.session.commit()
    return meeting


def make_post(subject: User, *, commit: bool = True, **overrides):
    """A celebration about ``subject``, on the wall unless overridden (status, audience, hidden_at ...)."""
    from datetime import timedelta

    from portal.clock import utcnow
    from portal.models import Celebration, CelebrationAudience, CelebrationKind, CelebrationStatus

    n = next(_counter)
    values = {
        "kind": CelebrationKind.MILESTONE,
        "status": CelebrationStatus.PUBLISHED,
        "audience": CelebrationAudience.EVERYONE,
        "subject_id": subject.id,
        "author_id": subject.id,
        "text": f"Celebration number {n}",
        "team_id": subject.team_id,
        "published_at": utcnow() - timedelta(minutes=n),
    }
    values.update(overrides)
    post = Celebration(**values)
    db.session.add(post)
    if commit:
        db.session.commit()
    return post


def make_roster_entry(*, email: str, name: str = "Invited Person", team: str = "Support", manager_email=None):
    """Put a person on the company roster directly, committed (no account is created)."""
    from portal.models import RosterEntry

    entry = RosterEntry(email=email.lower(), name=name, team_name=team, manager_email=manager_email)
    db.session.add(entry)
    db.session.commit()
    return entry


def make_nudge(sender: User, recipient_email: str, *, days_ago: int = 0, answer=None, show_name: bool = True):
    """A nudge sent ``days_ago`` days ago (no email), committed; ``answer`` is a NudgeAnswer value or None."""
    from datetime import timedelta

    from portal.clock import utcnow
    from portal.models import Nudge, NudgeAnswer

    when = utcnow() - timedelta(days=days_ago)
    nudge = Nudge(
        sender_id=sender.id,
        recipient_email=recipient_email.lower(),
        message="I thought of you.",
        show_name=show_name,
        created_at=when,
        answer=NudgeAnswer(answer) if answer else None,
        answered_at=when if answer else None,
    )
    db.session.add(nudge)
    db.session.commit()
    return nudge
