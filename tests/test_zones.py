"""Each person's own time zone: how times read, how typed local times are stored, daylight saving, and .ics."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from flask import render_template_string
from flask_login import login_user
from sqlalchemy import select

from portal.clock import today
from portal.dates import LocalTimeProblem, format_day, format_time, format_when, in_two_zones, to_utc
from portal.errors import ValidationFailed
from portal.extensions import db
from portal.journals.services import cancel_meeting, ics_for, plan_meeting, reschedule_meeting
from portal.models import Meeting, Notification
from tests.conftest import login_as, post
from tests.factories import make_meeting, make_pairing, make_user

BERLIN, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")
WINTER = datetime(2026, 12, 11, 10, 30, tzinfo=UTC)
SUMMER = datetime(2026, 7, 3, 10, 30, tzinfo=UTC)
# Between the United States' spring change (8 March) and Europe's (29 March) the gap is five hours, not six.
BETWEEN_CHANGES = datetime(2026, 3, 16, 15, 0, tzinfo=UTC)


@pytest.fixture
def pair():
    """Ana in Berlin mentors Sam in New York."""
    mentor = make_user(team="Design", display_name="Ana Berg", timezone="Europe/Berlin")
    mentee = make_user(team="Data", display_name="Sam Lee", timezone="America/New_York")
    return make_pairing(mentor=mentor, mentee=mentee, days_ago=30), mentor, mentee


def messages_for(user):
    return [n.message for n in db.session.scalars(select(Notification).where(Notification.user_id == user.id))]


# --- reading a time -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "zone", "short", "long"),
    [
        (WINTER, BERLIN, "11 December 2026, 11:30 CET", "Friday 11 December 2026, 11:30 CET"),
        (WINTER, NEW_YORK, "11 December 2026, 05:30 EST", "Friday 11 December 2026, 05:30 EST"),
        (SUMMER, BERLIN, "3 July 2026, 12:30 CEST", "Friday 3 July 2026, 12:30 CEST"),
        (SUMMER, NEW_YORK, "3 July 2026, 06:30 EDT", "Friday 3 July 2026, 06:30 EDT"),
        (BETWEEN_CHANGES, BERLIN, "16 March 2026, 16:00 CET", "Monday 16 March 2026, 16:00 CET"),
        (BETWEEN_CHANGES, NEW_YORK, "16 March 2026, 11:00 EDT", "Monday 16 March 2026, 11:00 EDT"),
        (WINTER, ZoneInfo("UTC"), "11 December 2026, 10:30 UTC", "Friday 11 December 2026, 10:30 UTC"),
    ],
)
def test_a_moment_reads_in_the_readers_zone_with_its_short_name(moment, zone, short, long):
    assert format_when(moment, zone) == short
    assert format_when(moment, zone, style="long") == long


def test_a_late_evening_in_new_york_is_the_next_day_in_berlin():
    late = datetime(2026, 12, 11, 3, 0, tzinfo=UTC)
    assert format_day(late, NEW_YORK) == "10 December 2026" and format_time(late, NEW_YORK) == "22:00 EST"
    assert format_day(late, BERLIN) == "11 December 2026" and format_time(late, BERLIN) == "04:00 CET"


def test_a_zone_without_a_letter_name_reads_as_an_offset():
    assert format_time(WINTER, ZoneInfo("America/Sao_Paulo")) == "07:30 GMT-3"
    assert format_time(WINTER, ZoneInfo("Asia/Kathmandu")) == "16:15 GMT+5:45"


def test_the_meeting_time_for_two_people_in_two_zones():
    assert in_two_zones(WINTER, BERLIN, "Sam", NEW_YORK) == "11:30 CET in Berlin, 05:30 EST for Sam in New York"
    assert in_two_zones(BETWEEN_CHANGES, NEW_YORK, "Ana", BERLIN) == (
        "11:00 EDT in New York, 16:00 CET for Ana in Berlin"
    )
    late = datetime(2026, 12, 11, 3, 0, tzinfo=UTC)
    assert in_two_zones(late, BERLIN, "Sam", NEW_YORK) == (
        "04:00 CET in Berlin, 22:00 EST on Thursday 10 December 2026 for Sam in New York"
    )
    # Paris and Berlin read the same clock: one time is enough.
    assert in_two_zones(WINTER, BERLIN, "Sam", ZoneInfo("Europe/Paris")) is None


def test_the_filters_read_in_the_signed_in_persons_zone(app):
    person = make_user(timezone="America/New_York")
    template = "{{ m|when }} / {{ m|when('long') }} / {{ m|day }} / {{ m|day('long') }} / {{ m|time }} / {{ d|day }}"
    with app.test_request_context():
        login_user(person)
        shown = render_template_string(template, m=WINTER, d=date(2027, 1, 4))
    assert shown == (
        "11 December 2026, 05:30 EST / Friday 11 December 2026, 05:30 EST / 11 December 2026 / "
        "Friday 11 December 2026 / 05:30 EST / 4 January 2027"
    )


def test_the_filters_use_the_organisations_zone_for_everyone_else(app):
    with app.test_request_context():
        shown = render_template_string("{{ m|when }}{{ none|when }}", m=SUMMER, none=None)
    assert shown == "3 July 2026, 11:30 BST"  # the tests' organisation is in London


# --- typing a local time ------------------------------------------------------------------------------


def test_a_local_time_is_stored_in_utc():
    assert to_utc(date(2026, 12, 11), time(11, 30), BERLIN) == WINTER
    assert to_utc(date(2026, 7, 3), time(6, 30), NEW_YORK) == SUMMER
    assert to_utc(date(2026, 3, 29), time(3, 30), BERLIN) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("on", "at", "zone", "message"),
    [
        (
            date(2026, 3, 29),
            time(2, 30),
            BERLIN,
            "The clocks go forward on Sunday 29 March 2026 in Berlin, so 02:30 does not exist there. "
            "Please choose a time before 02:00 or from 03:00.",
        ),
        (
            date(2026, 10, 25),
            time(2, 30),
            BERLIN,
            "The clocks go back on Sunday 25 October 2026 in Berlin, so 02:30 happens twice there. "
            "Please choose a time before 02:00 or from 03:00.",
        ),
        (
            date(2026, 3, 8),
            time(2, 15),
            NEW_YORK,
            "The clocks go forward on Sunday 8 March 2026 in New York, so 02:15 does not exist there. "
            "Please choose a time before 02:00 or from 03:00.",
        ),
        (
            date(2026, 11, 1),
            time(1, 0),
            NEW_YORK,
            "The clocks go back on Sunday 1 November 2026 in New York, so 01:00 happens twice there. "
            "Please choose a time before 01:00 or from 02:00.",
        ),
    ],
)
def test_a_time_the_clocks_skip_or_repeat_gets_a_clear_message(on, at, zone, message):
    with pytest.raises(LocalTimeProblem) as problem:
        to_utc(on, at, zone)
    assert problem.value.message == message


def test_planning_takes_the_planners_local_time_and_tells_the_partner_in_theirs(pair):
    pairing, ana, sam = pair
    meeting = plan_meeting(
        pairing, ana, on=date(2026, 12, 11), at=time(11, 30), duration_minutes=30, format="video", today=today()
    )
    assert meeting.starts_at == WINTER
    (message,) = messages_for(sam)
    assert "Friday 11 December 2026, 05:30 EST" in message


def test_planning_in_the_clocks_gap_names_the_time_field_and_saves_nothing(pair):
    pairing, ana, _ = pair
    with pytest.raises(ValidationFailed) as failure:
        plan_meeting(
            pairing, ana, on=date(2027, 3, 28), at=time(2, 30), duration_minutes=30, format="video", today=today()
        )
    assert list(failure.value.errors) == ["at"] and "clocks go forward" in failure.value.errors["at"]
    assert db.session.scalar(select(Meeting).where(Meeting.pairing_id == pairing.id)) is None


def test_moving_to_a_repeated_time_names_the_time_field(pair):
    pairing, ana, sam = pair
    meeting = make_meeting(pairing, status="planned", days_from_now=3)
    with pytest.raises(ValidationFailed) as failure:
        reschedule_meeting(
            meeting, pairing, sam, on=date(2027, 11, 7), at=time(1, 30), reason="Travelling", today=today()
        )
    assert list(failure.value.errors) == ["at"] and "happens twice" in failure.value.errors["at"]


# --- the calendar file --------------------------------------------------------------------------------


def _parse(meeting, pairing):
    body = ics_for(
        meeting, pairing, host="portal.example", url=f"https://portal.example/journals/meetings/{meeting.id}"
    )
    calendar = icalendar.Calendar.from_ical(body)
    (event,) = calendar.walk("VEVENT")
    return calendar, event


def test_the_calendar_file_keeps_its_uid_bumps_its_sequence_on_every_move_and_cancels(pair):
    pairing, ana, sam = pair
    meeting = plan_meeting(
        pairing, sam, on=date(2026, 12, 11), at=time(5, 30), duration_minutes=30, format="video", today=today()
    )
    calendar, event = _parse(meeting, pairing)
    uid = str(event["UID"])
    assert str(calendar["METHOD"]) == "PUBLISH" and event["SEQUENCE"] == 0
    # Sam planned it, so Sam's zone is the one the calendar file speaks.
    assert event["DTSTART"].params["TZID"] == "America/New_York" and event.start == WINTER
    assert event.start.tzname() == "EST"
    assert [tz.tz_name for tz in calendar.timezones] == ["America/New_York"]
    assert str(event["ORGANIZER"]) == f"mailto:{sam.email}"

    for number, day in enumerate((date(2026, 12, 14), date(2026, 12, 15)), start=1):
        reschedule_meeting(meeting, pairing, ana, on=day, at=time(16, 0), reason="A clash", today=today())
        calendar, event = _parse(meeting, pairing)
        assert str(event["UID"]) == uid and event["SEQUENCE"] == number
        assert event.start == datetime.combine(day, time(15, 0), tzinfo=UTC)

    cancel_meeting(meeting, pairing, ana, reason="Unwell")
    calendar, event = _parse(meeting, pairing)
    assert str(calendar["METHOD"]) == "CANCEL" and str(event["STATUS"]) == "CANCELLED"
    assert str(event["UID"]) == uid and event["SEQUENCE"] == 3
    assert "Unwell" not in calendar.to_ical().decode()


# --- routes -------------------------------------------------------------------------------------------


def test_the_meeting_page_shows_each_partner_their_own_time_and_the_others(client, pair):
    pairing, ana, sam = pair
    meeting = make_meeting(pairing, status="planned", days_from_now=3, starts_at=WINTER + timedelta(days=7))
    login_as(client, ana)
    page = client.get(f"/journals/meetings/{meeting.id}").get_data(as_text=True)
    assert "11:30 CET in Berlin, 05:30 EST for Sam Lee in New York" in page
    assert "Friday 18 December 2026" in page and "UTC" not in page
    login_as(client, sam)
    page = client.get(f"/journals/meetings/{meeting.id}").get_data(as_text=True)
    assert "05:30 EST in New York, 11:30 CET for Ana Berg in Berlin" in page


def test_the_plan_form_says_which_zone_it_reads_and_explains_a_skipped_time(client, pair):
    pairing, ana, _ = pair
    login_as(client, ana)
    page = client.get(f"/journals/pairings/{pairing.id}/meetings/new").get_data(as_text=True)
    assert "In your time zone, Europe/Berlin" in page and "(UTC)" not in page
    response = post(
        client,
        f"/journals/pairings/{pairing.id}/meetings/new",
        {"on": "2027-03-28", "at": "02:30", "duration_minutes": "30", "format": "video"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'<p class="error" id="at-error">.*The clocks go forward on Sunday 28 March 2027 in Berlin', page)
    assert re.search(r'<input[^>]*aria-invalid="true"[^>]*id="at"|<input[^>]*id="at"[^>]*aria-invalid="true"', page)
    assert 'value="2027-03-28"' in page  # nothing else lost


# --- the time zone field: the questionnaire's availability step and the profile ------------------------


def test_the_availability_step_preselects_the_organisations_zone_and_offers_the_browsers(client):
    person = make_user()
    login_as(client, person)
    page = client.get("/onboarding/step/time").get_data(as_text=True)
    assert re.search(r'<input type="text" id="timezone" name="timezone" value="Europe/London"', page)
    assert "data-suggest-zone" in page and '<option value="America/New_York">' in page


def test_the_availability_step_saves_the_zone_with_the_answer(client):
    person = make_user()
    login_as(client, person)
    response = post(client, "/onboarding/step/time", {"choice": "1h", "timezone": "Asia/Tokyo", "action": "next"})
    assert response.status_code == 303 and person.timezone == "Asia/Tokyo"
    page = client.get("/onboarding/step/time").get_data(as_text=True)
    assert 'value="Asia/Tokyo"' in page and "data-suggest-zone" not in page


def test_leaving_the_availability_step_for_later_keeps_the_zone_alone(client):
    person = make_user()
    login_as(client, person)
    response = post(client, "/onboarding/step/time", {"timezone": "Europe/Berlin", "action": "later"})
    assert response.status_code == 303 and person.timezone == "Europe/Berlin"


def test_a_zone_that_does_not_exist_is_explained_on_the_step_and_nothing_is_lost(client):
    person = make_user()
    login_as(client, person)
    response = post(
        client, "/onboarding/step/time", {"choice": "1h", "timezone": "Mars/Olympus_Mons", "action": "next"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "“Mars/Olympus_Mons” is not a time zone we know" in page and 'aria-invalid="true"' in page
    assert 'value="Mars/Olympus_Mons"' in page and re.search(r'value="1h"\s+checked', page)
    assert person.timezone is None
    assert client.get("/onboarding/step/time").get_data(as_text=True).count("checked") == 0  # nothing saved


def test_the_profile_shows_and_changes_the_zone(client):
    person = make_user()
    login_as(client, person)
    page = client.get("/profiles/me").get_data(as_text=True)
    assert "Now showing times in <strong>Europe/London</strong>, the organisation's time zone" in page
    response = post(client, "/profiles/me/timezone", {"timezone": "America/New_York"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/profiles/me")
    page = client.get("/profiles/me").get_data(as_text=True)
    assert "Your time zone is saved. Times now show in America/New_York." in page
    assert "Now showing times in <strong>America/New_York</strong>." in page
    assert person.timezone == "America/New_York"


def test_the_profile_zone_form_swaps_in_place_with_htmx(client):
    person = make_user()
    login_as(client, person)
    response = post(client, "/profiles/me/timezone", {"timezone": "Europe/Berlin"}, htmx=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and page.strip().startswith('<section id="zone-section"')
    assert "Now showing times in <strong>Europe/Berlin</strong>" in page and "hx-swap-oob" in page
    response = post(client, "/profiles/me/timezone", {"timezone": "Berlin"}, htmx=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "“Berlin” is not a time zone we know" in page
    assert 'id="timezone-error"' in page and 'value="Berlin"' in page
    assert person.timezone == "Europe/Berlin"


@pytest.mark.parametrize("bad", ["Mars/Olympus_Mons", "europe/berlin", "../../etc/passwd", "x" * 500])
def test_a_bad_zone_on_the_profile_answers_422_and_keeps_the_old_one(client, bad):
    person = make_user(timezone="Asia/Tokyo")
    login_as(client, person)
    response = post(client, "/profiles/me/timezone", {"timezone": bad})
    assert response.status_code == 422 and "is not a time zone we know" in response.get_data(as_text=True)
    assert person.timezone == "Asia/Tokyo"


def test_a_zone_with_a_control_character_is_refused_at_the_edge_and_keeps_the_old_one(client):
    person = make_user(timezone="Asia/Tokyo")
    login_as(client, person)
    response = post(client, "/profiles/me/timezone", {"timezone": "Europe/Berlin\x00"})
    assert response.status_code == 400 and "invisible control characters" in response.get_data(as_text=True)
    assert person.timezone == "Asia/Tokyo"


def test_a_blank_zone_on_the_profile_goes_back_to_the_organisations(client):
    person = make_user(timezone="Asia/Tokyo")
    login_as(client, person)
    assert post(client, "/profiles/me/timezone", {"timezone": " "}).status_code == 303
    assert person.timezone is None


def test_the_profile_zone_form_needs_a_csrf_token(client):
    person = make_user()
    login_as(client, person)
    response = client.post("/profiles/me/timezone", data={"timezone": "Europe/Berlin"})
    assert response.status_code == 400 and person.timezone is None
