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
