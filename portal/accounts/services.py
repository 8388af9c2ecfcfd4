"""Accounts: registering, authenticating and granting the director role."""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from portal.accounts.links import REGISTER_LINK_MAX_AGE, register_token
from portal.clock import utcnow
from portal.database import begin_writing
from portal.errors import ValidationFailed
from portal.extensions import db
from portal.models import OutboxEmail, PendingRegistration, Role, Team, User
from portal.notifications.services import notify, queue_email
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


REGISTER_EMAIL_EVERY = timedelta(minutes=10)
FINISH_SUBJECT = "Finish creating your account"
TRIED_SUBJECT = "Someone tried to create an account with your email"


class RegistrationUsed(Exception):
    """The registration link was used already (or its registration was replaced): the account exists."""


def request_registration(*, email: str, display_name: str, team_name: str, password: str) -> str:
    """Start a registration without telling anyone whether the address has an account; return the address.

    A new address gets an email with a link that finishes creating the account (see ``finish_registration``);
    the address of an existing account gets an email telling its owner that someone tried. Either way the
    caller answers the same. A form sent again within ``REGISTER_EMAIL_EVERY`` updates the pending
    registration but sends no second email, so a double submit (or someone filling an inbox) sends one.

    Raises ValidationFailed (``password``) when the password is too weak; that answer does not depend on
    whether the address has an account.
    """
    email = normalise_email(email)
    display_name = " ".join(display_name.split())
    team_name = " ".join(team_name.split())
    problem = password_problem(password, email=email, display_name=display_name)
    if problem:
        raise ValidationFailed({"password": problem})
    # Hashed in both cases, so the answer takes as long whether or not the address has an account, and
    # before the first query, so the slow hash does not hold SQLite's write lock.
    password_hash = hash_password(password)
    now = utcnow()
    db.session.execute(
        delete(PendingRegistration).where(
            PendingRegistration.created_at < now - timedelta(seconds=REGISTER_LINK_MAX_AGE)
        )
    )
    # Locked, so that the same form sent twice at once on PostgreSQL sees the first one's email.
    owner = db.session.scalar(select(User).where(User.email == email).with_for_update())
    if owner is not None:
        _tell_owner_someone_tried(owner, now=now)
        return email
    details = {"display_name": display_name, "team_name": team_name, "password_hash": password_hash}
    pending = db.session.scalar(select(PendingRegistration).where(PendingRegistration.email == email))
    if pending is None:
        try:
            # The same form sent twice at once: the unique email lets one in; the other updates its row.
            with db.session.begin_nested():
                pending = PendingRegistration(email=email, nonce=secrets.token_hex(16), **details)
                db.session.add(pending)
                db.session.flush()
        except IntegrityError:
            pending = db.session.scalar(select(PendingRegistration).where(PendingRegistration.email == email))
    # Registering again keeps the nonce, so the link already emailed finishes the latest details.
    for name, value in details.items():
        setattr(pending, name, value)
    if pending.emailed_at is None or pending.emailed_at < now - REGISTER_EMAIL_EVERY:
        pending.emailed_at = now
        _send_finish_link(pending)
    db.session.flush()
    return email


def _send_finish_link(pending: PendingRegistration) -> None:
    config = current_app.config
    link = f"{config['PORTAL_BASE_URL']}/accounts/register/finish/{register_token(pending.id, pending.nonce)}"
    body = "\n".join(
        [
            f"Hello {pending.display_name},",
            "",
            "To finish creating your account in the mentorship portal, please open this link within two days:",
            link,
            "",
            "If you did not ask for an account, you can ignore this email: nothing is created without the link.",
            "",
            "The mentorship program",
        ]
    )
    queue_email(to_address=pending.email, subject=FINISH_SUBJECT, body=body)


def _tell_owner_someone_tried(owner: User, *, now) -> None:
    recently = db.session.scalar(
        select(OutboxEmail.id)
        .where(
            OutboxEmail.to_address == owner.email,
            OutboxEmail.subject == TRIED_SUBJECT,
            OutboxEmail.created_at >= now - REGISTER_EMAIL_EVERY,
        )
        .limit(1)
    )
    if recently is not None:
        return
    config = current_app.config
    body = "\n".join(
        [
            f"Hello {owner.display_name},",
            "",
            "Someone, perhaps you, tried to create a new account in the mentorship portal with this email address."
            " You already have an account, so nothing was created and nothing about your account "
            "has changed.",
            "",
            "You can sign in here:",
            f"{config['PORTAL_BASE_URL']}/accounts/sign-in",
            "",
            "If you cannot remember your password, the program director can help you. If it was not you, "
            "there is nothing you need to do.",
            "",
            "The mentorship program",
        ]
    )
    queue_email(to_address=owner.email, subject=TRIED_SUBJECT, body=body)


def pending_registration(*, pending_id: int, nonce: str) -> PendingRegistration:
    """The pending registration a link points at. Raises RegistrationUsed when it is gone (used or replaced)."""
    pending = db.session.get(PendingRegistration, pending_id)
    if pending is None or not secrets.compare_digest(pending.nonce, nonce):
        raise RegistrationUsed
    return pending


def finish_registration(*, pending_id: int, nonce: str) -> User:
    """Create the participant account of a pending registration (once) and welcome them.

    Raises RegistrationUsed when the link was used already, or the address has an account by now.
    """
    pending = pending_registration(pending_id=pending_id, nonce=nonce)
    # Single use: only the request whose DELETE removes the row goes on; a second use at once finds no row.
    gone = db.session.execute(
        delete(PendingRegistration).where(PendingRegistration.id == pending.id, PendingRegistration.nonce == nonce),
        execution_options={"synchronize_session": False},
    )
    if gone.rowcount != 1:
        raise RegistrationUsed
    team = get_or_create_team(pending.team_name)
    try:
        with db.session.begin_nested():
            user = User(
                email=pending.email,
                display_name=pending.display_name,
                team=team,
                password_hash=pending.password_hash,
                role=Role.PARTICIPANT,
            )
            db.session.add(user)
            db.session.flush()
    except IntegrityError:
        raise RegistrationUsed from None
    notify(
        user,
        "Welcome. Whenever you are ready, the questionnaire takes about five minutes, one question at a time.",
        endpoint="onboarding.start",
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
