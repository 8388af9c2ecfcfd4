"""Reminders and digests sent by the queue's periodic jobs, preferences, and one-click unsubscribe links.

Emails travel through a real local SMTP server (aiosmtpd); each test picks its own "now" so that time zones
and mornings are exact.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from portal.extensions import db
from portal.models import (
    ActionItem,
    Channel,
    Goal,
    MentorRequest,
    Notification,
    NotificationSetting,
    OutboxEmail,
    RequestStatus,
)
from portal.notifications.preferences import email_not_before, unsubscribe_token
from portal.notifications.reminders import send_digests, send_meeting_reminders, send_request_reminders
from portal.notifications.services import deliver_pending
from portal.queue import JOBS
from tests.conftest import login_as, post
from tests.factories import answer, enrol, make_cycle, make_meeting, make_pairing, make_user
from tests.test_notifications import smtp_server  # noqa: F401  (the fixture)

# Tuesday 1 December 2026, 07:30 UTC: 08:30 in Berlin, 02:30 in New York.
BERLIN_MORNING = datetime(2026, 12, 1, 7, 30, tzinfo=UTC)
NEW_YORK_MORNING = datetime(2026, 12, 1, 13, 30, tzinfo=UTC)
MEETING_AT = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # 16:00 in Berlin, 10:00 in New York


def pair_across_zones():
    ana = make_user(display_name="Ana Berg", email="ana@example.com", timezone="Europe/Berlin")
    sam = make_user(display_name="Sam Ross", email="sam@example.com", timezone="America/New_York", team="Sales")
    pairing = make_pairing(mentor=sam, mentee=ana)
    meeting = make_meeting(pairing, status="planned", starts_at=MEETING_AT)
    return ana, sam, pairing, meeting


def notes_for(user) -> list[str]:
    return list(db.session.scalars(select(Notification.message).where(Notification.user_id == user.id)))


def text_and_html(message) -> tuple[str, str]:
    parts = {part.get_content_type(): part for part in message.walk()}
    return (
        parts["text/plain"].get_payload(decode=True).decode(),
        parts["text/html"].get_payload(decode=True).decode(),
    )


def unsubscribe_path(text: str) -> str:
    return re.search(r"http://[^/\s]+(/notifications/unsubscribe/\S+)", text).group(1)


CHANNELS = ("meetings", "requests", "pairings", "wall", "digest")
DEFAULTS = {"meetings": "email", "requests": "email", "pairings": "email", "wall": "portal", "digest": "email"}


def choose(user, **values) -> NotificationSetting:
    setting = db.session.get(NotificationSetting, user.id) or NotificationSetting(user_id=user.id)
    for key, value in {**DEFAULTS, "digest_day": 0, "hour_before_by_email": False, **values}.items():
        setattr(setting, key, Channel(value) if key in CHANNELS else value)
    db.session.add(setting)
    db.session.commit()
    return setting


# --- meetings ----------------------------------------------------------------------------------------


def test_the_day_before_reminder_arrives_in_each_persons_morning_with_a_working_unsubscribe_link(
    client,
    smtp_server,  # noqa: F811
):
    ana, sam, _, _ = pair_across_zones()
    assert send_meeting_reminders(BERLIN_MORNING) == 1  # 08:30 for Ana; still night for Sam
    assert deliver_pending() == (1, 0)
    (message,) = smtp_server.messages
    assert message["To"] == "ana@example.com" and message["Subject"] == "Your mentoring meeting tomorrow"
    text, html = text_and_html(message)
    assert "you meet Sam Ross tomorrow, Wednesday 2 December 2026, 16:00 CET" in text
    assert "Mentorship program" in text and "/notifications/preferences" in text and "<p>Hello Ana Berg,</p>" in html
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    path = unsubscribe_path(text)
    assert message["List-Unsubscribe"] == f"<http://127.0.0.1:5000{path}>"
    assert send_meeting_reminders(NEW_YORK_MORNING) == 1  # now Sam's morning: 08:30 in New York
    assert any("Wednesday 2 December 2026, 10:00 EST" in note for note in notes_for(sam))

    # The one-click POST a mail program sends: no session, no CSRF token; the signed link is enough.
    response = client.application.test_client().post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200 and "Emails stopped" in response.get_data(as_text=True)
    assert db.session.get(NotificationSetting, ana.id).meetings == Channel.PORTAL


def test_meeting_reminders_run_twice_send_once(smtp_server):  # noqa: F811
    ana, sam, _, _ = pair_across_zones()
    later = NEW_YORK_MORNING
    assert send_meeting_reminders(later) == 2
    assert send_meeting_reminders(later) == 0
    assert send_meeting_reminders(later + timedelta(minutes=5)) == 0
    deliver_pending()
    assert sorted(m["To"] for m in smtp_server.messages) == ["ana@example.com", "sam@example.com"]
    assert len(notes_for(ana)) == len(notes_for(sam)) == 1


def test_the_hour_before_reminder_stays_in_the_portal_unless_asked_for_by_email():
    ana, sam, _, _ = pair_across_zones()
    choose(sam, hour_before_by_email=True)
    soon = MEETING_AT - timedelta(minutes=50)
    assert send_meeting_reminders(soon) == 2
    assert any("starts in an hour" in note for note in notes_for(ana))
    mail = db.session.scalars(select(OutboxEmail.to_address).where(OutboxEmail.subject.contains("starts soon"))).all()
    assert mail == ["sam@example.com"]


def test_a_person_who_switched_meeting_reminders_off_gets_none():
    ana, sam, _, _ = pair_across_zones()
    choose(ana, meetings="off")
    assert send_meeting_reminders(NEW_YORK_MORNING) == 1
    assert notes_for(ana) == [] and len(notes_for(sam)) == 1


def test_a_moved_meeting_is_reminded_of_again():
    ana, _, _, meeting = pair_across_zones()
    send_meeting_reminders(BERLIN_MORNING)
    meeting.starts_at = MEETING_AT + timedelta(days=1)
    db.session.commit()
    assert send_meeting_reminders(BERLIN_MORNING + timedelta(days=1)) == 1
    assert len(notes_for(ana)) == 2


def test_quiet_hours_hold_email_until_they_end():
    ana, _, _, _ = pair_across_zones()
    setting = choose(ana, quiet_from=22, quiet_until=9)
    late = datetime(2026, 12, 1, 22, 30, tzinfo=UTC)  # 23:30 in Berlin
    assert email_not_before(ana, late, setting=setting) == datetime(2026, 12, 2, 8, 0, tzinfo=UTC)  # 09:00 Berlin
    assert email_not_before(ana, datetime(2026, 12, 1, 12, 0, tzinfo=UTC), setting=setting) is None
    send_meeting_reminders(BERLIN_MORNING)  # 08:30 in Berlin: still quiet
    email = db.session.scalar(select(OutboxEmail).where(OutboxEmail.to_address == "ana@example.com"))
    assert email.next_attempt_at == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


# --- requests ----------------------------------------------------------------------------------------


def _request(**values):
    cycle = make_cycle()
    mentor = make_user(display_name="Asha Rao", team="Design")
    answer(mentor, values=["curiosity"], skills_offer=["negotiation"])
    enrol(mentor, cycle, "mentor")
    other = make_user(display_name="Ben Okafor", team="Sales")
    answer(other, values=["curiosity"], skills_offer=["negotiation"])
    enrol(other, cycle, "mentor")
    mentee = make_user(display_name="Kim Lee", team="Data")
    answer(mentee, values=["curiosity"], skills_grow=["negotiation"])
    enrol(mentee, cycle, "mentee")
    request = MentorRequest(
        cycle_id=cycle.id, mentee_id=mentee.id, mentor_id=mentor.id, note="Hello", rhythm="monthly", **values
    )
    db.session.add(request)
    db.session.commit()
    return request, mentor, mentee


def test_the_mentor_is_reminded_once_a_day_before_a_request_runs_out():
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    request, mentor, _ = _request(expires_at=now + timedelta(hours=20), created_at=now - timedelta(days=6))
    assert send_request_reminders(now) == 1
    assert send_request_reminders(now + timedelta(minutes=10)) == 0
    (note,) = notes_for(mentor)
    assert "stays open until" in note and "Whatever you answer is fine." in note


def test_the_mentee_hears_once_when_a_request_expired_with_mentors_who_might_fit_next(smtp_server):  # noqa: F811
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    request, _, mentee = _request(
        expires_at=now - timedelta(hours=1), status=RequestStatus.EXPIRED, answered_at=now - timedelta(hours=1)
    )
    assert send_request_reminders(now) == 1
    assert send_request_reminders(now) == 0
    deliver_pending()
    (message,) = smtp_server.messages
    text, html = text_and_html(message)
    assert message["To"] == mentee.email and "says nothing about you" in text
    assert "Mentors who might fit you next" in text and "- Ben Okafor" in text and "<li>Ben Okafor</li>" in html


# --- the digest --------------------------------------------------------------------------------------


def _busy_pair():
    ana, sam, pairing, meeting = pair_across_zones()
    db.session.add(ActionItem(pairing_id=pairing.id, owner_id=ana.id, title="Draft the plan", created_by_id=ana.id))
    db.session.add(
        Goal(pairing_id=pairing.id, title="Lead a planning meeting", outcome="o", measure="m", target="t",
             due_on=date(2026, 12, 10), project="Atlas", created_by_id=ana.id)
    )  # fmt: skip
    db.session.commit()
    return ana, sam


def test_the_weekly_digest_arrives_on_the_chosen_day_once_with_what_is_coming_up(smtp_server):  # noqa: F811
    ana, sam = _busy_pair()
    choose(ana, digest_day=1)  # Tuesday
    choose(sam, digest="off")
    monday = BERLIN_MORNING - timedelta(days=1)
    assert send_digests(monday) == 0
    assert send_digests(BERLIN_MORNING - timedelta(hours=1)) == 0  # 07:30 in Berlin: not yet morning
    assert send_digests(BERLIN_MORNING) == 1
    assert send_digests(BERLIN_MORNING + timedelta(hours=3)) == 0
    deliver_pending()
    (message,) = smtp_server.messages
    text, _ = text_and_html(message)
    assert "Your next meeting" in text and "With Sam Ross, Wednesday 2 December 2026, 16:00 CET" in text
    assert "- Draft the plan" in text and "- Lead a planning meeting, by Thursday 10 December" in text
    assert "overdue" not in text.lower()
    path = unsubscribe_path(text)
    assert client_unsubscribes(path)
    assert db.session.get(NotificationSetting, ana.id).digest == Channel.OFF


def client_unsubscribes(path: str) -> bool:
    from flask import current_app

    browser = current_app.test_client()
    page = browser.get(path)
    assert page.status_code == 200 and "Stop these emails" in page.get_data(as_text=True)
    return browser.post(path).status_code == 200


def test_no_digest_when_there_is_nothing_to_say():
    ana = make_user(timezone="Europe/Berlin")
    make_pairing(mentee=ana)
    assert send_digests(datetime(2026, 11, 30, 9, 0, tzinfo=UTC)) == 0  # a Monday morning, and nothing planned
    assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == 0


# --- preferences and unsubscribe links ---------------------------------------------------------------


def test_a_person_turns_meeting_reminders_off_on_the_preferences_page(client):
    ana, sam, _, _ = pair_across_zones()
    login_as(client, ana)
    page = client.get("/notifications/preferences").get_data(as_text=True)
    assert "Meetings and their reminders" in page
    assert '<input checked id="meetings-0" name="meetings" type="radio" value="email">' in page
    response = post(
        client,
        "/notifications/preferences",
        {"meetings": "off", "requests": "email", "pairings": "portal", "wall": "portal", "digest": "email",
         "digest_day": "4", "quiet_from": "", "quiet_until": ""},
    )  # fmt: skip
    assert response.status_code == 303
    assert send_meeting_reminders(NEW_YORK_MORNING) == 1
    assert notes_for(ana) == []
    setting = db.session.get(NotificationSetting, ana.id)
    assert (setting.meetings, setting.pairings, setting.digest_day) == (Channel.OFF, Channel.PORTAL, 4)


def test_preferences_refuse_off_for_requests_and_half_quiet_hours(client):
    ana = make_user()
    login_as(client, ana)
    response = post(
        client,
        "/notifications/preferences",
        {"meetings": "email", "requests": "off", "pairings": "email", "wall": "sometimes", "digest": "email",
         "digest_day": "9", "quiet_from": "22", "quiet_until": ""},
    )  # fmt: skip
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert page.count("Please choose one of the options.") >= 2 and "Please choose a day of the week." in page
    assert "Please choose both ends of your quiet hours, or neither." in page
    assert 'aria-invalid="true"' in page
    assert db.session.get(NotificationSetting, ana.id) is None


def test_a_tampered_or_unknown_unsubscribe_link_gets_a_clear_page_and_changes_nothing(client):
    ana = make_user()
    token = unsubscribe_token(ana, "meetings")
    for bad in (token[:-3] + "abc", "nonsense", token.replace(".", "", 1)):
        response = client.post(f"/notifications/unsubscribe/{bad}")
        assert response.status_code == 400
        page = response.get_data(as_text=True)
        assert "This link does not work" in page and "Nothing was changed." in page
    assert db.session.get(NotificationSetting, ana.id) is None


def test_an_expired_unsubscribe_link_gets_a_clear_page(app, client, monkeypatch):
    import portal.notifications.preferences as preferences

    ana = make_user()
    token = unsubscribe_token(ana, "digest")
    monkeypatch.setattr(preferences, "UNSUBSCRIBE_MAX_AGE", -1)
    response = client.get(f"/notifications/unsubscribe/{token}")
    assert response.status_code == 400 and "too old" in response.get_data(as_text=True)
    assert db.session.get(NotificationSetting, ana.id) is None


def test_every_job_has_a_name_the_director_can_retry():
    assert {"send_mail", "expire_requests", "meeting_reminders", "weekly_digest", "compute_matching_run"} <= set(JOBS)


def test_a_meeting_email_carries_the_invitation_as_text_calendar(smtp_server):  # noqa: F811
    from portal.journals.services import ics_for
    from portal.notifications.services import notify

    ana, _, pairing, meeting = pair_across_zones()
    invitation = ics_for(meeting, pairing, host="portal.example.com", url="https://portal.example.com/m")
    notify(ana, "Sam planned your next meeting.", email_subject="Your next meeting", kind="meetings",
           calendar=invitation)  # fmt: skip
    deliver_pending()
    (message,) = smtp_server.messages
    (attachment,) = [part for part in message.walk() if part.get_content_type() == "text/calendar"]
    assert attachment.get_filename() == "meeting.ics" and attachment.get_param("method") in ("PUBLISH", "REQUEST")
    assert f"UID:meeting-{meeting.id}@portal.example.com" in attachment.get_payload(decode=True).decode()
    assert {part.get_content_type() for part in message.walk()} >= {"text/plain", "text/html"}


def test_a_paused_pairing_gets_no_meeting_reminders_until_it_resumes():
    from portal.models import PairingPause

    ana, sam, pairing, _ = pair_across_zones()
    db.session.add(PairingPause(pairing_id=pairing.id, paused_by_id=ana.id, until=date(2026, 12, 10)))
    db.session.commit()
    assert send_meeting_reminders(NEW_YORK_MORNING) == 0
    assert notes_for(ana) == notes_for(sam) == []


def test_the_back_up_plan_and_the_cycle_end_run_on_the_queue_every_day():
    from huey.api import PeriodicTask

    for name in ("catch_up_notes", "close_finished_cycles"):
        assert issubclass(JOBS[name].task_class, PeriodicTask), name
