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
) -> User:
    """Create and commit a user; the password is PASSWORD unless given."""
    n = next(_counter)
    user = User(
        email=(email or f"person{n}@example.com").lower(),
        display_name=display_name or f"Person {n}",
        team=get_or_create_team(team),
        password_hash=hash_password(password) if password else _HASH,
        role=role,
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
