"""Notifications in the portal, and email through the outbox, over a real local SMTP server."""

from __future__ import annotations

import socket
from datetime import timedelta
from email import message_from_bytes
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from portal.clock import utcnow
from portal.extensions import db
from portal.models import OutboxEmail
from portal.notifications.services import deliver_pending, notify, queue_email
from tests.conftest import login_as, post
from tests.factories import make_user


class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802  (aiosmtpd's hook name)
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server(app):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
    try:
        yield inbox
    finally:
        controller.stop()
        app.config.update(MAIL_SERVER="", MAIL_PORT=25)


def test_the_nav_shows_the_unread_count_and_the_list_shows_each_notification(client):
    user = make_user()
    notify(user, "Your mentor request was accepted.", link="/")
    notify(user, "A gentle reminder: your next meeting is on Tuesday.")
    db.session.commit()
    login_as(client, user)
    home = client.get("/").get_data(as_text=True)
    assert '2<span class="visually-hidden"> unread</span>' in home
    page = client.get("/notifications/").get_data(as_text=True)
    assert "Your mentor request was accepted." in page
    assert "next meeting is on Tuesday" in page
    assert page.count('class="badge">New<') == 2


def test_marking_all_read_clears_the_count(client):
    user = make_user()
    notify(user, "Something new.")
    db.session.commit()
    login_as(client, user)
    response = post(client, "/notifications/read-all")
    assert response.status_code == 303
    page = client.get("/notifications/").get_data(as_text=True)
    assert "unread</span>" not in page
    assert 'class="badge">New<' not in page


def test_notifications_are_private_to_their_person(client):
    owner = make_user()
    notify(owner, "For the owner only.")
    db.session.commit()
    login_as(client, make_user())
    assert "For the owner only." not in client.get("/notifications/").get_data(as_text=True)


def test_the_notification_list_takes_a_fixed_number_of_queries(client):
    from tests.conftest import count_queries

    user = make_user()
    login_as(client, user)
    notify(user, "One.")
    db.session.commit()
    with count_queries() as few:
        client.get("/notifications/")
    for number in range(40):
        notify(user, f"Note {number}.")
    db.session.commit()
    with count_queries() as many:
        client.get("/notifications/")
    assert many[0] == few[0]


def test_without_a_mail_server_emails_become_files(app):
    user = make_user(email="mei@example.com")
    notify(user, "Welcome aboard.", link="/onboarding/", email_subject="Welcome")
    assert deliver_pending() == (1, 0)
    email = db.session.scalar(select(OutboxEmail).where(OutboxEmail.to_address == "mei@example.com"))
    assert email.sent_at is not None
    saved = Path(app.instance_path) / "outbox" / f"{email.id:06d}.eml"
    message = message_from_bytes(saved.read_bytes())
    assert message["To"] == "mei@example.com"
    assert message["Subject"] == "Welcome"
    text, html = (part.get_payload(decode=True).decode() for part in message.get_payload())
    assert "/onboarding/" in text and "/onboarding/" in html


def test_emails_are_sent_over_smtp(smtp_server):
    user = make_user(email="kofi@example.com", display_name="Kofi Mensah")
    notify(user, "Your questionnaire is waiting.", link="/onboarding/", email_subject="A gentle hello")
    assert deliver_pending() == (1, 0)
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert message["To"] == "kofi@example.com"
    assert message["Subject"] == "A gentle hello"
    assert "Hello Kofi Mensah" in message.get_payload()[0].get_payload(decode=True).decode()
    assert deliver_pending() == (0, 0)  # sent once, never twice


def test_a_failed_send_is_kept_and_retried_later(app, smtp_server):
    queue_email(to_address="liam@example.com", subject="Hello", body="Hi")
    db.session.flush()
    working_port = app.config["MAIL_PORT"]
    app.config["MAIL_PORT"] = free_port()  # nothing listens there: the send fails
    assert deliver_pending() == (0, 1)
    email = db.session.scalar(select(OutboxEmail).where(OutboxEmail.to_address == "liam@example.com"))
    assert email.sent_at is None and email.attempts == 1 and email.last_error
    assert email.next_attempt_at > utcnow()
    assert deliver_pending() == (0, 0)  # not due yet: no hammering a broken server
    app.config["MAIL_PORT"] = working_port
    email.next_attempt_at = utcnow() - timedelta(seconds=1)
    assert deliver_pending() == (1, 0)
    assert email.sent_at is not None and email.attempts == 2
    assert [m["To"] for m in smtp_server.messages] == ["liam@example.com"]


def test_mail_queued_by_a_request_is_sent_by_the_queue_when_it_ends(client, smtp_server):
    response = post(
        client,
        "/accounts/register",
        {
            "display_name": "Ines Moreau",
            "email": "ines@example.com",
            "team": "Design",
            "password": "sunlight over quiet hills",
        },
    )
    assert response.status_code == 303
    assert [(m["To"], m["Subject"]) for m in smtp_server.messages] == [
        ("ines@example.com", "Finish creating your account")
    ]


def test_send_mail_command_reports_what_it_did(app):
    queue_email(to_address="noor@example.com", subject="Hi", body="Hello")
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["send-mail"])
    assert result.exit_code == 0
    assert "1 sent, 0 kept for a later try." in result.output


def test_a_notice_links_to_an_endpoint_built_without_a_request(app):
    from portal.notifications.services import notify, path_for

    person = make_user()
    with app.app_context():  # as a job in the worker: no request to build URLs from
        note = notify(person, "Your goal has a new comment.", endpoint="goals.show", goal_id=5)
        assert note.link == "/goals/5" == path_for("goals.show", goal_id=5)


def test_the_unread_count_read_with_the_user_follows_what_the_request_then_writes(app):
    from portal.notifications.services import mark_all_read, unread_count, user_with_unread_count

    user = make_user()
    notify(user, "Something new.")
    db.session.commit()
    with app.test_request_context("/", method="GET"):
        assert unread_count(user_with_unread_count(user.id)) == 1
        notify(user, "And something newer.")
        db.session.flush()
        assert unread_count(user) == 2
        mark_all_read(user)
        assert unread_count(user) == 0


def test_a_page_reads_the_signed_in_user_and_the_unread_count_in_one_query(client):
    from sqlalchemy import event

    user = make_user()
    notify(user, "Something new.")
    db.session.commit()
    login_as(client, user)
    statements = []

    def keep(conn, cursor, statement, *args):
        statements.append(" ".join(statement.split()))

    event.listen(db.engine, "after_cursor_execute", keep)
    try:
        page = client.get("/notifications/preferences").get_data(as_text=True)
    finally:
        event.remove(db.engine, "after_cursor_execute", keep)
    assert '1<span class="visually-hidden"> unread</span>' in page
    counts = [statement for statement in statements if "count(*)" in statement and "notifications" in statement]
    assert len(counts) == 1 and "FROM users" in counts[0]
