"""Notifications in the portal, and email through an outbox that never loses a message."""

from __future__ import annotations

import logging
import re
import smtplib
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from flask import current_app, g, has_request_context
from sqlalchemy import bindparam, event, func, select, update
from sqlalchemy.orm import Session

from portal.clock import utcnow
from portal.extensions import db
from portal.models import Channel, Notification, OutboxEmail, User

log = logging.getLogger(__name__)

PAGE_SIZE = 30
MAX_BACKOFF = timedelta(hours=6)


def path_for(endpoint: str, **values) -> str:
    """The path of ``endpoint`` (``url_for`` without needing a request, so jobs in the worker can link too).

    Raises werkzeug's BuildError for an unknown endpoint or missing values.
    """
    return current_app.url_map.bind("", script_name=current_app.config.get("APPLICATION_ROOT") or "/").build(
        endpoint, values
    )


def notify(
    user: User,
    message: str,
    *,
    endpoint: str | None = None,
    link: str | None = None,
    email_subject: str | None = None,
    kind: str | None = None,
    calendar: str | None = None,
    **values,
) -> Notification | None:
    """Tell ``user`` something in the portal and, when ``email_subject`` is given, by email too.

    The notice links to ``endpoint`` built with ``values`` (``notify(u, "...", endpoint="goals.show",
    goal_id=3)``), or to ``link`` when the path is already built. ``kind`` (meetings, requests, pairings, wall,
    digest) follows the person's preferences: "off" sends nothing, "in the portal only" no email.
    ``calendar`` (an .ics text) travels with the email as an invitation.
    """
    from portal.notifications.preferences import channel_for

    if endpoint is not None:
        link = path_for(endpoint, **values)

    channel = channel_for(user, kind) if kind else Channel.EMAIL
    if channel == Channel.OFF:
        return None
    note = Notification(user_id=user.id, message=message, link=link)
    db.session.add(note)
    if email_subject and channel == Channel.EMAIL:
        personal_email(user, subject=email_subject, paragraphs=[message], link=link, kind=kind, calendar=calendar)
    db.session.flush()
    return note


def personal_email(
    user: User,
    *,
    subject: str,
    paragraphs: list[str],
    link: str | None = None,
    kind: str | None = None,
    calendar: str | None = None,
    sections: list[tuple[str, list[str]]] | None = None,
    now: datetime | None = None,
) -> OutboxEmail:
    """Queue a plain-text and HTML email to ``user`` with the program's name, a link to their preferences and
    a signed one-click unsubscribe link (also as ``List-Unsubscribe`` headers). Quiet hours delay it.
    """
    from portal.notifications.preferences import email_not_before, unsubscribe_token

    config = current_app.config
    base = config["PORTAL_BASE_URL"]
    unsubscribe_url = f"{base}/notifications/unsubscribe/{unsubscribe_token(user, kind)}"
    context = {
        "user": user,
        "paragraphs": paragraphs,
        "sections": sections or [],
        "link": base + link if link else None,
        "program": config["PROGRAM_NAME"],
        "preferences_url": f"{base}/notifications/preferences",
        "unsubscribe_url": unsubscribe_url,
    }
    return queue_email(
        to_address=user.email,
        subject=subject,
        body=_render_email("emails/message.txt", context),
        html=_render_email("emails/message.html", context),
        headers={
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        calendar=calendar,
        not_before=email_not_before(user, now or utcnow()),
    )


def _render_email(name: str, context: dict) -> str:
    # Straight from the environment: the page's context processors need a request and a signed-in user.
    return current_app.jinja_env.get_template(name).render(**context)


def queue_email(
    *,
    to_address: str,
    subject: str,
    body: str,
    html: str | None = None,
    headers: dict | None = None,
    calendar: str | None = None,
    not_before: datetime | None = None,
) -> OutboxEmail:
    """Put an email in the outbox; the queue sends it once the current transaction commits."""
    from portal.queue import after_commit, send_mail

    email = OutboxEmail(
        to_address=to_address,
        subject=subject,
        body=body,
        html=html,
        headers=headers,
        calendar=calendar,
        next_attempt_at=not_before or utcnow(),
    )
    db.session.add(email)
    after_commit(send_mail)
    return email


def unread_count(user: User) -> int:
    """How many of the user's notifications are unread.

    Within a request, the figure read together with the signed-in user (``user_with_unread_count``) while
    the request has written nothing since; otherwise a query of its own.
    """
    known = g.get("unread_notifications") if has_request_context() else None
    if known is not None and known[0] == user.id:
        return known[1]
    return db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
    )


# Built once: every page runs it, and building it cost more than SQLite took to run it.
_USER_WITH_UNREAD_COUNT = select(
    User,
    select(func.count())
    .select_from(Notification)
    .where(Notification.user_id == User.id, Notification.read_at.is_(None))
    .scalar_subquery(),
).where(User.id == bindparam("user_id"))


def user_with_unread_count(user_id: int) -> User | None:
    """The user with ``user_id`` (None when there is none), their unread count read in the same query.

    Every page's navigation shows the count, so reading both at once saves each page a round trip to the
    database. The count is kept for ``unread_count`` until the request writes anything.
    """
    row = db.session.execute(_USER_WITH_UNREAD_COUNT, {"user_id": user_id}).first()
    if row is None:
        return None
    g.unread_notifications = (row[0].id, row[1])
    return row[0]


@event.listens_for(Session, "after_flush")
def _written_rows_make_the_count_unknown(session, flush_context) -> None:
    if has_request_context():
        g.pop("unread_notifications", None)


@event.listens_for(Session, "do_orm_execute")
def _written_statements_make_the_count_unknown(state) -> None:
    if (state.is_update or state.is_delete or state.is_insert) and has_request_context():
        g.pop("unread_notifications", None)


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


def _calendar_method(text: str) -> str:
    found = re.search(r"^METHOD:(\w+)", text, re.MULTILINE)
    return found.group(1) if found else "PUBLISH"


# RFC 5322 allows 998 characters a line; the default 78 would RFC 2047-encode a long List-Unsubscribe URL.
MAIL_POLICY = policy.SMTP.clone(max_line_length=998)


def _message_for(email: OutboxEmail) -> EmailMessage:
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = current_app.config["MAIL_SENDER"]
    message["To"] = email.to_address
    message["Subject"] = email.subject
    message["Message-ID"] = make_msgid(idstring=f"outbox-{email.id}")
    for name, value in (email.headers or {}).items():
        message[name] = value
    message.set_content(email.body)
    if email.html:
        message.add_alternative(email.html, subtype="html")
    if email.calendar:
        # Calendar clients offer "add" for a text/calendar part.
        message.add_attachment(
            email.calendar.encode("utf-8"),
            maintype="text",
            subtype="calendar",
            filename="meeting.ics",
            params={"method": _calendar_method(email.calendar), "charset": "utf-8"},
        )
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
