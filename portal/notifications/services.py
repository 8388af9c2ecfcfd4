"""Notifications in the portal, and email through an outbox that never loses a message."""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from flask import current_app, g
from sqlalchemy import func, select, update

from portal.clock import utcnow
from portal.extensions import db
from portal.models import Notification, OutboxEmail, User

log = logging.getLogger(__name__)

PAGE_SIZE = 30
MAX_BACKOFF = timedelta(hours=6)


def notify(user: User, message: str, *, link: str | None = None, email_subject: str | None = None) -> None:
    """Tell ``user`` something in the portal and, when ``email_subject`` is given, by email too."""
    db.session.add(Notification(user_id=user.id, message=message, link=link))
    if email_subject:
        base = current_app.config["PORTAL_BASE_URL"]
        lines = [f"Hello {user.display_name},", "", message]
        if link:
            lines += ["", base + link]
        lines += ["", "The mentorship program"]
        queue_email(to_address=user.email, subject=email_subject, body="\n".join(lines))
    db.session.flush()


def queue_email(*, to_address: str, subject: str, body: str) -> OutboxEmail:
    """Put an email in the outbox; it is sent after the current transaction commits."""
    email = OutboxEmail(to_address=to_address, subject=subject, body=body)
    db.session.add(email)
    g.outbox_has_mail = True
    return email


def unread_count(user: User) -> int:
    """How many of the user's notifications are unread."""
    return db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
    )


def notifications_page(user: User, page: int):
    """The user's notifications, newest first, one page at a time."""
    query = (
        select(Notification)
        .where(Notification.user_id == user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )
    return db.paginate(query, page=page, per_page=PAGE_SIZE, error_out=False)


def mark_all_read(user: User) -> int:
    """Mark every unread notification of the user as read; return how many changed."""
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    return result.rowcount


def _message_for(email: OutboxEmail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_SENDER"]
    message["To"] = email.to_address
    message["Subject"] = email.subject
    message["Message-ID"] = make_msgid(idstring=f"outbox-{email.id}")
    message.set_content(email.body)
    return message


def _send(message: EmailMessage, email: OutboxEmail) -> None:
    config = current_app.config
    if not config["MAIL_SERVER"]:
        # No mail server configured (development): keep each message as a file to read.
        folder = Path(current_app.instance_path) / "outbox"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{email.id:06d}.eml").write_bytes(bytes(message))
        return
    with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10) as smtp:
        if config["MAIL_USE_TLS"]:
            smtp.starttls()
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(message)


def deliver_pending(*, limit: int = 50) -> tuple[int, int]:
    """Try to send the emails that are due; return (sent, failed).

    A failed send stays in the outbox with the error and is retried later with a growing delay; nothing
    is ever dropped. Changes are flushed, not committed.
    """
    now = utcnow()
    query = (
        select(OutboxEmail)
        .where(OutboxEmail.sent_at.is_(None), OutboxEmail.next_attempt_at <= now)
        .order_by(OutboxEmail.id)
        .limit(limit)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        # Several workers may deliver at once; each takes rows no one else holds.
        query = query.with_for_update(skip_locked=True)
    sent = failed = 0
    for email in db.session.scalars(query).all():
        email.attempts += 1
        try:
            _send(_message_for(email), email)
        except (OSError, smtplib.SMTPException) as error:
            failed += 1
            email.last_error = f"{type(error).__name__}: {error}"[:500]
            email.next_attempt_at = now + min(timedelta(minutes=2**email.attempts), MAX_BACKOFF)
            log.warning("email %s not sent (attempt %s): %s", email.id, email.attempts, error)
        else:
            sent += 1
            email.sent_at = now
            email.last_error = None
    db.session.flush()
    return sent, failed
