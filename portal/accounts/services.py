"""Accounts: registering, authenticating and granting the director role."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from portal.database import begin_writing
from portal.errors import ValidationFailed
from portal.extensions import db
from portal.models import Role, Team, User
from portal.notifications.services import notify
from portal.passwords import hash_password, needs_rehash, password_problem, verify_password


def normalise_email(email: str) -> str:
    """Lower-case and trim an email address so that the same person is found however they type it."""
    return email.strip().lower()


def get_or_create_team(name: str) -> Team:
    """Return the team with this name (ignoring case and spacing), creating it when new."""
    clean = " ".join(name.split())
    team = db.session.scalar(select(Team).where(func.lower(Team.name) == clean.lower()))
    if team is None:
        try:
            # Two people registering into one new team at once: the second finds the first one's team.
            with db.session.begin_nested():
                team = Team(name=clean)
                db.session.add(team)
                db.session.flush()
        except IntegrityError:
            team = db.session.scalar(select(Team).where(func.lower(Team.name) == clean.lower()))
    return team


def register_user(*, email: str, display_name: str, team_name: str, password: str) -> User:
    """Create a participant account and welcome them.

    Raises ValidationFailed (fields ``email`` or ``password``) when the address is taken or the password
    is too weak.
    """
    email = normalise_email(email)
    display_name = " ".join(display_name.split())
    problem = password_problem(password, email=email, display_name=display_name)
    if problem:
        raise ValidationFailed({"password": problem})
    # Hashed before the first query: the slow hash must not hold SQLite's write lock.
    password_hash = hash_password(password)
    taken = ValidationFailed({"email": "An account with this email already exists. You can sign in instead."})
    if db.session.scalar(select(User.id).where(User.email == email)) is not None:
        raise taken
    team = get_or_create_team(team_name)
    try:
        # The same form sent twice at once: the unique email lets one in; the other hears what a later try would.
        with db.session.begin_nested():
            user = User(
                email=email,
                display_name=display_name,
                team=team,
                password_hash=password_hash,
                role=Role.PARTICIPANT,
            )
            db.session.add(user)
            db.session.flush()
    except IntegrityError:
        raise taken from None
    notify(
        user,
        "Welcome. Whenever you are ready, the questionnaire takes about five minutes, one question at a time.",
        link="/onboarding/",
        email_subject="Welcome to the mentorship program",
    )
    return user


def authenticate(*, email: str, password: str) -> User | None:
    """Return the user whose email and password match, else None (the same outcome for either mistake)."""
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if not verify_password(user.password_hash if user else None, password):
        return None
    if needs_rehash(user.password_hash):
        new_hash = hash_password(password)
        begin_writing()  # the sign-in request read first (see portal.database.read_first)
        db.session.execute(update(User).where(User.id == user.id).values(password_hash=new_hash))
        db.session.refresh(user)
    return user


def make_director(email: str) -> User:
    """Grant the program director role. Raises LookupError when no account has this email."""
    user = db.session.scalar(select(User).where(User.email == normalise_email(email)))
    if user is None:
        raise LookupError(f"No account with the email {email!r}.")
    user.role = Role.DIRECTOR
    return user


def end_sessions(user: User) -> None:
    """End every session of ``user`` on every device: their cookies carry the old session epoch from now on.

    One conditional UPDATE (``epoch = epoch + 1``), so two sign-outs at once both count and neither is lost.
    """
    db.session.execute(
        update(User).where(User.id == user.id).values(session_epoch=User.session_epoch + 1),
        execution_options={"synchronize_session": False},
    )
    db.session.refresh(user)


def change_password(user: User, *, current: str, new: str) -> None:
    """Give ``user`` a new password and end their other sessions (the caller signs this one in again).

    Raises ValidationFailed (``current_password`` when it does not match, ``new_password`` when it is weak).
    """
    if not verify_password(user.password_hash, current or ""):
        raise ValidationFailed({"current_password": "That is not your current password. Please try again."})
    problem = password_problem(new or "", email=user.email, display_name=user.display_name)
    if problem:
        raise ValidationFailed({"new_password": problem})
    user.password_hash = hash_password(new)
    db.session.flush()
    end_sessions(user)
