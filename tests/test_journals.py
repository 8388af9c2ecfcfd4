"""Session journals: planning and moving meetings, logging them, shared notes that never lose a write,
private reflections, action items, drafts, the timeline, the calendar file, and who may see what."""

from __future__ import annotations

import re
from datetime import timedelta

import icalendar
import pytest
from sqlalchemy import insert, select

from portal.clock import today, utcnow, zone_for
from portal.errors import Conflict, ValidationFailed
from portal.extensions import db
from portal.journals.services import (
    NotesConflict,
    add_action,
    cancel_meeting,
    ics_for,
    log_meeting,
    merge_notes,
    notes_draft,
    pair_activity,
    plan_meeting,
    reflection_for,
    reschedule_meeting,
    save_notes,
    save_notes_draft,
    save_reflection,
    save_reflection_draft,
)
from portal.models import (
    ActionItem,
    Draft,
    Goal,
    Meeting,
    MeetingGoal,
    MeetingStatus,
    Notification,
    OutboxEmail,
    Reflection,
)
from tests.conftest import count_queries, login_as, post
from tests.factories import make_director, make_meeting, make_pairing, make_user

HX = {"HX-Request": "true"}


@pytest.fixture
def pair():
    """Asha mentors Priya; they were paired 60 days ago."""
    mentor = make_user(team="Design", display_name="Asha Rao")
    mentee = make_user(team="Data", display_name="Priya Shah")
    pairing = make_pairing(mentor=mentor, mentee=mentee, days_ago=60)
    return pairing, mentor, mentee


def make_goal(pairing, mentee, title="Run calmer negotiations"):
    goal = Goal(
        pairing_id=pairing.id,
        title=title,
        outcome="Agreements both sides like.",
        measure="Notes after each negotiation.",
        target="3 of 4",
        due_on=today() + timedelta(days=30),
        project="Cloud contract",
        created_by_id=mentee.id,
    )
    db.session.add(goal)
    db.session.commit()
    return goal


def messages_for(user):
    return [n.message for n in db.session.scalars(select(Notification).where(Notification.user_id == user.id))]


def plan_data(**overrides):
    data = {
        "on": (today() + timedelta(days=7)).isoformat(),
        "at": "14:30",
        "duration_minutes": "45",
        "format": "video",
    }
    data.update(overrides)
    return data


# --- services: planning, moving, cancelling, logging --------------------------------------------------


def test_planning_a_meeting_tells_the_other_person_by_email_too(pair):
    pairing, mentor, mentee = pair
    day = today() + timedelta(days=3)
    meeting = plan_meeting(
        pairing,
        mentee,
        on=day,
        at=utcnow().time().replace(hour=9, minute=0),
        duration_minutes=30,
        format="walk",
        today=today(),
    )
    assert meeting.status == MeetingStatus.PLANNED
    assert meeting.starts_at.hour == 9 and meeting.starts_at.date() == day
    assert meeting.planned_by_id == mentee.id
    assert any("Priya Shah planned your next meeting" in m and "a walk" in m for m in messages_for(mentor))
    assert messages_for(mentee) == []
    assert db.session.scalar(select(OutboxEmail).where(OutboxEmail.to_address == mentor.email)) is not None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"on": today() - timedelta(days=1)}, "on"),
        ({"on": today() + timedelta(days=400)}, "on"),
        ({"on": None}, "on"),
        ({"at": None}, "at"),
        ({"duration_minutes": 10}, "duration_minutes"),
        ({"duration_minutes": 241}, "duration_minutes"),
        ({"format": "carrier pigeon"}, "format"),
    ],
)
def test_planning_refuses_what_makes_no_sense(pair, overrides, field):
    pairing, mentor, _ = pair
    values = {
        "on": today(),
        "at": utcnow().time(),
        "duration_minutes": 15,
        "format": "video",
        **overrides,
    }
    with pytest.raises(ValidationFailed) as failure:
        plan_meeting(pairing, mentor, today=today(), **values)
    assert list(failure.value.errors) == [field]


def test_a_meeting_is_moved_with_a_reason_and_the_other_person_is_told(pair):
    pairing, mentor, mentee = pair
    meeting = make_meeting(pairing, status="planned", days_from_now=3)
    with pytest.raises(ValidationFailed) as failure:
        reschedule_meeting(
            meeting,
            pairing,
            mentor,
            on=today() + timedelta(days=5),
            at=meeting.starts_at.time(),
            reason="  ",
            today=today(),
        )
    assert "reason" in failure.value.errors
    with pytest.raises(ValidationFailed):
        reschedule_meeting(
            meeting,
            pairing,
            mentor,
            on=today() + timedelta(days=5),
            at=meeting.starts_at.time(),
            reason="x" * 301,
            today=today(),
        )
    reschedule_meeting(
        meeting,
        pairing,
        mentor,
        on=today() + timedelta(days=5),
        at=meeting.starts_at.time(),
        reason="A team offsite that day",
        today=today(),
    )
    assert meeting.starts_at.date() == today() + timedelta(days=5)
    assert meeting.reschedules == 1 and meeting.change_reason == "A team offsite that day"
    assert any("Asha Rao moved your meeting" in m and "A team offsite that day" in m for m in messages_for(mentee))


def test_a_cancelled_meeting_cannot_be_moved_cancelled_again_or_logged(pair):
    pairing, mentor, mentee = pair
    meeting = make_meeting(pairing, status="planned", days_from_now=2)
    cancel_meeting(meeting, pairing, mentee, reason="I am unwell this week")
    assert meeting.status == MeetingStatus.CANCELLED
    assert any("cancelled the meeting" in m and "unwell" in m for m in messages_for(mentor))
    with pytest.raises(Conflict):
        cancel_meeting(meeting, pairing, mentee, reason="again")
    with pytest.raises(Conflict):
        reschedule_meeting(meeting, pairing, mentee, on=today(), at=meeting.starts_at.time(), reason="r", today=today())
    with pytest.raises(Conflict):
        log_meeting(
            pairing,
            mentee,
            meeting=meeting,
            held_on=today(),
            duration_minutes=30,
            format="video",
            topics="",
            goal_ids=[],
            today=today(),
        )


def test_logging_links_the_pairs_own_goals_and_refuses_anothers(pair):
    pairing, mentor, mentee = pair
    goal = make_goal(pairing, mentee)
    other = make_pairing(days_ago=10)
    foreign = make_goal(other, db.session.get(type(mentee), other.mentee_id), title="Someone else's goal")
    with pytest.raises(ValidationFailed) as failure:
        log_meeting(
            pairing,
            mentee,
            held_on=today(),
            duration_minutes=30,
            format="video",
            topics="",
            goal_ids=[goal.id, foreign.id],
            today=today(),
        )
    assert list(failure.value.errors) == ["goals"]
    meeting = log_meeting(
        pairing,
        mentee,
        held_on=today() - timedelta(days=1),
        duration_minutes=50,
        format="in_person",
        topics=" Vendor call prep ",
        goal_ids=[goal.id],
        today=today(),
    )
    assert meeting.status == MeetingStatus.HELD and meeting.topics == "Vendor call prep"
    assert meeting.logged_by_id == mentee.id
    assert db.session.scalars(select(MeetingGoal.goal_id).where(MeetingGoal.meeting_id == meeting.id)).all() == [
        goal.id
    ]


@pytest.mark.parametrize(
    ("held_on", "message"),
    [(1, "still to come"), (-61, "Your pairing began on"), (None, "Please enter the day")],
)
def test_logging_refuses_a_day_in_the_future_or_before_the_pair_began(pair, held_on, message):
    pairing, mentor, _ = pair
    day = None if held_on is None else today() + timedelta(days=held_on)
    with pytest.raises(ValidationFailed) as failure:
        log_meeting(
            pairing, mentor, held_on=day, duration_minutes=30, format="video", topics="", goal_ids=[], today=today()
        )
    assert message in failure.value.errors["held_on"]


def test_logging_a_planned_meeting_keeps_its_time_of_day(pair):
    pairing, mentor, _ = pair
    meeting = make_meeting(pairing, status="planned", days_from_now=-1)
    log_meeting(
        pairing,
        mentor,
        meeting=meeting,
        held_on=today(),
        duration_minutes=60,
        format="video",
        topics="",
        goal_ids=[],
        today=today(),
    )
    assert meeting.held_on == today() and meeting.starts_at.date() == today() and meeting.starts_at.hour == 14


# --- services: shared notes never lose a write --------------------------------------------------------


def test_the_second_save_over_the_same_version_is_a_conflict_and_overwrites_nothing(pair):
    pairing, mentor, mentee = pair
    meeting = make_meeting(pairing)
    save_notes(meeting, mentor, body="Agenda: vendor call", base_version=0)
    assert meeting.notes_version == 1
    with pytest.raises(NotesConflict) as conflict:
        save_notes(meeting, mentee, body="My points: pricing", base_version=0)
    assert conflict.value.mine == "My points: pricing"
    assert conflict.value.theirs == "Agenda: vendor call"
    assert conflict.value.version == 1 and conflict.value.by.id == mentor.id
    db.session.refresh(meeting)
    assert meeting.notes == "Agenda: vendor call" and meeting.notes_version == 1
    # Merging against the version now saved succeeds.
    save_notes(meeting, mentee, body="Agenda: vendor call\n\nMy points: pricing", base_version=1)
    assert meeting.notes_version == 2 and meeting.notes_updated_by_id == mentee.id


def test_a_save_without_a_version_is_a_conflict_but_the_same_text_is_not(pair):
    pairing, mentor, mentee = pair
    meeting = make_meeting(pairing, notes="Shared", notes_version=4)
    with pytest.raises(NotesConflict):
        save_notes(meeting, mentee, body="Something else", base_version=None)
    save_notes(meeting, mentee, body="Shared", base_version=2)  # identical: nothing to merge
    assert meeting.notes_version == 4


def test_saved_notes_come_back_with_their_new_version_without_reading_the_meeting_again(pair):
    pairing, mentor, mentee = pair
    meeting = make_meeting(pairing, notes="First", notes_version=3)
    assert meeting.notes_version == 3 and mentor.id  # both loaded, as the route has them
    with count_queries() as counted:
        save_notes(meeting, mentor, body="Second", base_version=3)
    # The conditional UPDATE returns what it wrote; then the kept version and the dropped draft.
    assert counted[0] == 3
    assert (meeting.notes, meeting.notes_version, meeting.notes_updated_by_id) == ("Second", 4, mentor.id)
    db.session.expire(meeting)
    assert (meeting.notes, meeting.notes_version) == ("Second", 4)


def test_notes_over_the_limit_are_refused(pair):
    pairing, mentor, _ = pair
    meeting = make_meeting(pairing)
    with pytest.raises(ValidationFailed) as failure:
        save_notes(meeting, mentor, body="x" * 20_001, base_version=0)
    assert "20,000" in failure.value.errors["notes"]


def test_a_notes_draft_remembers_its_version_and_saving_drops_it(pair):
    pairing, mentor, mentee = pair
    meeting = make_meeting(pairing)
    save_notes_draft(meeting, mentee, text="half a thought", base_version=0)
    save_notes(meeting, mentor, body="Mentor's notes", base_version=0)
    draft = notes_draft(meeting, mentee)
    assert draft.text == "half a thought" and draft.version == 0
    assert notes_draft(meeting, mentor) is None  # drafts are per person
    with pytest.raises(NotesConflict):
        save_notes(meeting, mentee, body=draft.text, base_version=draft.version)
    save_notes(meeting, mentee, body="Mentor's notes\nhalf a thought", base_version=1)
    assert notes_draft(meeting, mentee) is None


# --- services: private reflections --------------------------------------------------------------------


def test_a_reflection_is_only_ever_returned_to_its_author(pair):
    pairing, mentor, mentee = pair
    stranger, director = make_user(), make_director()
    meeting = make_meeting(pairing)
    save_reflection(meeting, mentor, body="Mentor's private thought")
    save_reflection(meeting, mentee, body="Mentee's private thought")
    assert reflection_for(meeting, mentor).body == "Mentor's private thought"
    assert reflection_for(meeting, mentee).body == "Mentee's private thought"
    assert reflection_for(meeting, stranger) is None
    assert reflection_for(meeting, director) is None
    # Saving again replaces one's own, and never touches the other's.
    save_reflection(meeting, mentee, body="Changed my mind")
    assert reflection_for(meeting, mentor).body == "Mentor's private thought"
    assert db.session.scalar(select(Reflection.body).where(Reflection.author_id == mentee.id)) == "Changed my mind"
    # Empty text removes one's own reflection only.
    save_reflection(meeting, mentee, body="  ")
    assert reflection_for(meeting, mentee) is None and reflection_for(meeting, mentor) is not None
    with pytest.raises(ValidationFailed):
        save_reflection(meeting, mentor, body="x" * 10_001)


def test_action_items_belong_to_one_of_the_pair_and_fall_due_ahead(pair):
    pairing, mentor, mentee = pair
    meeting = make_meeting(pairing)
    with pytest.raises(ValidationFailed) as failure:
        add_action(
            meeting,
            pairing,
            mentor,
            title=" ",
            owner_id=make_user().id,
            due_on=today() - timedelta(days=1),
            today=today(),
        )
    assert set(failure.value.errors) == {"title", "owner_id", "due_on"}
    item = add_action(
        meeting,
        pairing,
        mentor,
        title="Draft the opening offer",
        owner_id=mentee.id,
        due_on=today() + timedelta(days=7),
        today=today(),
    )
    assert item.owner_id == mentee.id and item.created_by_id == mentor.id and item.pairing_id == pairing.id


# --- services: the director's dates and counts --------------------------------------------------------


def test_pair_activity_gives_counts_and_dates_only(pair):
    pairing, _, _ = pair
    quiet = make_pairing(days_ago=5)
    make_meeting(pairing, days_from_now=-20)
    last = make_meeting(pairing, days_from_now=-3)
    make_meeting(pairing, status="cancelled", days_from_now=-10)
    make_meeting(pairing, status="planned", days_from_now=-1)  # planned but past: not "next"
    later = make_meeting(pairing, status="planned", days_from_now=14)
    soon = make_meeting(pairing, status="planned", days_from_now=4)
    activity = pair_activity([pairing.id, quiet.id])
    assert activity[quiet.id] == (0, None, None)
    held, last_held, next_planned = activity[pairing.id]
    assert held == 2 and last_held == last.held_on
    assert next_planned == soon.starts_at and next_planned != later.starts_at
    assert pair_activity([]) == {}


# --- services: the calendar file ----------------------------------------------------------------------


def test_the_calendar_file_has_one_event_in_the_organisers_zone_and_no_journal_text(pair):
    pairing, mentor, mentee = pair
    mentor.timezone = "Europe/Berlin"
    meeting = make_meeting(
        pairing, status="planned", days_from_now=3, notes="private-ish shared notes", planned_by_id=mentor.id
    )
    save_reflection(meeting, mentor, body="my secret reflection")
    body = ics_for(meeting, pairing, host="portal.example", url="https://portal.example/journals/meetings/1")
    assert body.startswith("BEGIN:VCALENDAR\r\n") and body.endswith("END:VCALENDAR\r\n")
    calendar = icalendar.Calendar.from_ical(body)
    (event,) = calendar.walk("VEVENT")
    assert event.start == meeting.starts_at and event.end == meeting.starts_at + timedelta(minutes=45)
    assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert [tz.tz_name for tz in calendar.timezones] == ["Europe/Berlin"]
    assert str(event["UID"]) == f"meeting-{meeting.id}@portal.example" and "DTSTAMP" in event
    assert str(event["SUMMARY"]) == "Mentoring: Asha Rao and Priya Shah"
    assert "notes" not in body.replace("Your notes and reflections are in the portal", "")
    assert "secret" not in body
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))


# --- routes: the timeline -----------------------------------------------------------------------------


def test_the_timeline_lists_meetings_newest_first_and_keeps_out_of_history(client, pair):
    pairing, mentor, mentee = pair
    make_meeting(pairing, days_from_now=-30, topics="Older topic")
    make_meeting(pairing, days_from_now=-2, topics="Newer topic")
    login_as(client, mentee)
    response = client.get(f"/journals/pairings/{pairing.id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Your journal with Asha Rao" in page
    assert page.index("Newer topic") < page.index("Older topic")
    assert 'hx-history="false"' in page
    assert response.headers["Cache-Control"] == "no-store"


def test_the_timeline_search_stays_within_the_pair_and_answers_htmx_with_the_list(client, pair):
    pairing, mentor, mentee = pair
    make_meeting(pairing, topics="Negotiation practice")
    make_meeting(pairing, notes="We talked about negotiation styles", topics="Styles")
    make_meeting(pairing, topics="Career paths")
    other = make_pairing(days_ago=3)
    make_meeting(other, topics="Their negotiation secrets")
    login_as(client, mentor)
    page = client.get(f"/journals/pairings/{pairing.id}?q=NEGOTIATION").get_data(as_text=True)
    assert "Negotiation practice" in page and "Styles" in page
    assert "Career paths" not in page and "Their negotiation secrets" not in page
    fragment = client.get(
        f"/journals/pairings/{pairing.id}?q=career", headers={**HX, "HX-Target": "timeline-results"}
    ).get_data(as_text=True)
    assert "<html" not in fragment and 'id="timeline-results"' in fragment and "Career paths" in fragment
    assert "No meeting mentions" in client.get(f"/journals/pairings/{pairing.id}?q=100%25").get_data(as_text=True)


def test_the_timeline_is_paginated(client, pair):
    pairing, mentor, _ = pair
    for n in range(25):
        make_meeting(pairing, days_from_now=-n - 1, topics=f"Topic number {n:02d}")
    login_as(client, mentor)
    first = client.get(f"/journals/pairings/{pairing.id}").get_data(as_text=True)
    second = client.get(f"/journals/pairings/{pairing.id}?page=2").get_data(as_text=True)
    assert "Topic number 00" in first and "Topic number 19" in first and "Topic number 20" not in first
    assert "Topic number 20" in second and "Topic number 24" in second and "Page 2 of 2" in second


def _bulk_meetings(pairing, goal, mentor, count):
    now = utcnow()
    db.session.execute(
        insert(Meeting),
        [
            {
                "pairing_id": pairing.id,
                "status": "held",
                "starts_at": now - timedelta(days=n + 1),
                "duration_minutes": 30,
                "format": "video",
                "held_on": (now - timedelta(days=n + 1)).date(),
                "topics": f"Topic {n}",
                "notes": "Notes " * 20,
                "notes_version": 1,
                "reschedules": 0,
                "created_at": now,
                "updated_at": now,
            }
            for n in range(count)
        ],
    )
    ids = db.session.scalars(select(Meeting.id).where(Meeting.pairing_id == pairing.id)).all()
    db.session.execute(insert(MeetingGoal), [{"meeting_id": i, "goal_id": goal.id} for i in ids])
    db.session.execute(
        insert(ActionItem),
        [
            {
                "pairing_id": pairing.id,
                "meeting_id": i,
                "owner_id": mentor.id,
                "title": "Do",
                "created_by_id": mentor.id,
                "created_at": now,
            }
            for i in ids
        ],
    )
    db.session.execute(
        insert(Reflection), [{"meeting_id": i, "author_id": mentor.id, "body": "r", "updated_at": now} for i in ids]
    )
    db.session.commit()


def test_the_timeline_runs_the_same_number_of_queries_for_3_or_300_meetings(client, pair):
    pairing, mentor, mentee = pair
    goal = make_goal(pairing, mentee)
    small = make_pairing(mentor=mentor, days_ago=30)
    _bulk_meetings(small, goal, mentor, 3)
    _bulk_meetings(pairing, goal, mentor, 300)
    login_as(client, mentor)
    small_url, large_url = f"/journals/pairings/{small.id}", f"/journals/pairings/{pairing.id}"
    client.get(small_url)  # warm caches
    with count_queries() as few:
        assert client.get(small_url).status_code == 200
    with count_queries() as many:
        page = client.get(large_url)
    assert page.status_code == 200 and "Page 1 of 15" in page.get_data(as_text=True)
    assert many[0] == few[0] <= 10


# --- routes: planning, moving, cancelling, the calendar file ------------------------------------------


def test_planning_through_the_form_redirects_to_the_meeting(client, pair):
    pairing, mentor, mentee = pair
    login_as(client, mentor)
    page = client.get(f"/journals/pairings/{pairing.id}/meetings/new").get_data(as_text=True)
    assert "Plan a meeting with Priya Shah" in page and "Video call" in page
    response = post(client, f"/journals/pairings/{pairing.id}/meetings/new", plan_data())
    assert response.status_code == 303
    meeting = db.session.scalar(select(Meeting).where(Meeting.pairing_id == pairing.id))
    assert response.headers["Location"].endswith(f"/journals/meetings/{meeting.id}")
    # Typed in the mentor's own zone (the organisation's, London), stored in UTC.
    assert meeting.starts_at.astimezone(zone_for(mentor)).strftime("%H:%M") == "14:30"
    assert meeting.duration_minutes == 45
    assert "Priya Shah has been told" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_a_bad_plan_is_shown_again_with_the_error_and_what_was_typed(client, pair):
    pairing, mentor, _ = pair
    login_as(client, mentor)
    response = post(client, f"/journals/pairings/{pairing.id}/meetings/new", plan_data(duration_minutes="500"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="duration_minutes-error"' in page and "between 15 and 240 minutes" in page
    assert 'value="500"' in page and 'value="14:30"' in page
    assert db.session.scalar(select(Meeting).where(Meeting.pairing_id == pairing.id)) is None


def test_rescheduling_and_cancelling_through_the_forms(client, pair):
    pairing, mentor, mentee = pair
    meeting = make_meeting(pairing, status="planned", days_from_now=2)
    login_as(client, mentee)
    assert "Move the meeting on" in client.get(f"/journals/meetings/{meeting.id}/reschedule").get_data(as_text=True)
    new_day = (today() + timedelta(days=9)).isoformat()
    response = post(client, f"/journals/meetings/{meeting.id}/reschedule", {"on": new_day, "at": "10:00", "reason": ""})
    assert response.status_code == 422 and "A short reason helps" in response.get_data(as_text=True)
    assert new_day in response.get_data(as_text=True)
    response = post(
        client, f"/journals/meetings/{meeting.id}/reschedule", {"on": new_day, "at": "10:00", "reason": "Offsite"}
    )
    assert response.status_code == 303
    page = client.get(f"/journals/meetings/{meeting.id}").get_data(as_text=True)
    # The mentee reads and typed the time in the organisation's zone (London: GMT in winter, BST in summer).
    assert "Why it moved" in page and "Offsite" in page and re.search(r"10:00 (GMT|BST), 45 minutes", page)
    response = post(client, f"/journals/meetings/{meeting.id}/cancel", {"reason": "Unwell"})
    assert response.status_code == 303
    assert db.session.get(Meeting, meeting.id).status == MeetingStatus.CANCELLED
    response = post(client, f"/journals/meetings/{meeting.id}/cancel", {"reason": "Again"})
    assert response.status_code == 409 and "was cancelled" in response.get_data(as_text=True)
    assert len([m for m in messages_for(mentor) if "Priya Shah" in m]) == 2


def test_the_calendar_file_downloads_as_an_attachment(client, pair):
    pairing, mentor, _ = pair
    meeting = make_meeting(pairing, status="planned", days_from_now=5)
    login_as(client, mentor)
    response = client.get(f"/journals/meetings/{meeting.id}.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    body = response.get_data(as_text=True)
    assert "BEGIN:VEVENT" in body and "DTSTART:" in body and f"/journals/meetings/{meeting.id}" in body


# --- routes: logging ----------------------------------------------------------------------------------


def test_logging_a_meeting_with_a_goal_shows_it_on_the_session_and_the_timeline(client, pair):
    pairing, mentor, mentee = pair
    goal = make_goal(pairing, mentee)
    login_as(client, mentee)
    page = client.get(f"/journals/pairings/{pairing.id}/meetings/log").get_data(as_text=True)
    assert "Run calmer negotiations" in page
    data = {
        "held_on": today().isoformat(),
        "duration_minutes": "40",
        "format": "in_person",
        "topics": "Opening offers",
        "goals": [str(goal.id)],
    }
    response = post(client, f"/journals/pairings/{pairing.id}/meetings/log", data)
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Goals it moved" in page and "Run calmer negotiations" in page and "Opening offers" in page
    timeline = client.get(f"/journals/pairings/{pairing.id}").get_data(as_text=True)
    assert "Goals it moved:</span> Run calmer negotiations" in timeline


def test_a_log_with_a_future_day_is_refused_at_the_field(client, pair):
    pairing, mentor, _ = pair
    login_as(client, mentor)
    data = {
        "held_on": (today() + timedelta(days=2)).isoformat(),
        "duration_minutes": "40",
        "format": "video",
        "topics": "Kept",
    }
    response = post(client, f"/journals/pairings/{pairing.id}/meetings/log", data)
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="held_on-error"' in page and "still to come" in page
    assert "Kept" in page


# --- routes: shared notes -----------------------------------------------------------------------------


def test_saving_notes_with_htmx_returns_the_section_and_a_status(client, pair):
    pairing, mentor, _ = pair
    meeting = make_meeting(pairing)
    login_as(client, mentor)
    response = post(client, f"/journals/meetings/{meeting.id}/notes", {"notes": "Agenda", "version": "0"}, htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert 'id="notes-section"' in html and 'name="version" value="1"' in html
    assert 'hx-swap-oob="innerHTML:#status"' in html and "The shared notes are saved." in html
    response = post(client, f"/journals/meetings/{meeting.id}/notes", {"notes": "Agenda 2", "version": "1"})
    assert response.status_code == 303 and response.headers["Location"].endswith("#notes-section")


def test_two_people_saving_over_each_other_see_what_each_changed_and_an_automatic_merge(client, pair):
    pairing, mentor, mentee = pair
    meeting = make_meeting(pairing)
    url = f"/journals/meetings/{meeting.id}/notes"
    login_as(client, mentor)
    assert post(client, url, {"notes": "Agenda\n- goals\n- feedback", "version": "0"}).status_code == 303
    # Both start from version 1; Asha adds a line at the end, Priya rewrites the first line.
    assert post(client, url, {"notes": "Agenda\n- goals\n- feedback\n- budget", "version": "1"}).status_code == 303
    login_as(client, mentee)
    response = post(client, url, {"notes": "Our agenda\n- goals\n- feedback", "version": "1"}, htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Asha Rao saved the notes while you were writing" in html
    assert "Your changes and theirs fit together" in html
    # The shared part appears once: the merge takes both changes and nothing twice.
    textarea = re.search(r"<textarea[^>]*>(.*?)</textarea>", html, re.S).group(1)
    assert textarea == "Our agenda\n- goals\n- feedback\n- budget"
    assert re.search(r"The version you both started from</h3>\s*<div[^>]*>Agenda\n- goals\n- feedback</div>", html)
    theirs = html[html.index("What Asha Rao changed") : html.index("What you changed")]
    assert '<ins><span class="visually-hidden">Added: </span>- budget</ins>' in theirs and "<del>" not in theirs
    mine = html[html.index("What you changed") :]
    assert "Removed: </span>Agenda</del>" in mine and "Added: </span>Our agenda</ins>" in mine
    assert 'name="version" value="2"' in html
    assert db.session.get(Meeting, meeting.id).notes == "Agenda\n- goals\n- feedback\n- budget"
    # Where both changed the same line, only that part is marked, in plain words.
    response = post(client, url, {"notes": "Agenda\n- goals\n- feelings", "version": "1"}, htmx=True)
    textarea = re.search(r"<textarea[^>]*>(.*?)</textarea>", response.get_data(as_text=True), re.S).group(1)
    both = "[Both of you changed this part. Their version:]"
    assert textarea.startswith(f"Agenda\n- goals\n{both}\n- feedback\n- budget\n")
    assert "[Your version:]\n- feelings\n[End of the part you both changed." in textarea
    assert textarea.count("- goals") == 1
    assert "one place where you both changed the same lines is marked" in response.get_data(as_text=True)
    # Without JavaScript the whole page comes back with the same merge view.
    page = client.post(url, data={"notes": "Our agenda\n- goals\n- feedback", "version": "1",
                                  "csrf_token": _token(client)})  # fmt: skip
    assert page.status_code == 409 and "<html" in page.get_data(as_text=True)
    assert "What you changed" in page.get_data(as_text=True)
    merged = "Our agenda\n- goals\n- feedback\n- budget (merged)"
    response = post(client, url, {"notes": merged, "version": "2"}, htmx=True)
    assert response.status_code == 200
    saved = db.session.get(Meeting, meeting.id)
    assert saved.notes == merged and saved.notes_version == 3
    assert notes_draft(saved, mentee) is None


def test_without_the_starting_version_the_merge_keeps_both_texts_and_shared_lines_once():
    merge = merge_notes(None, "shared\ntheirs", "shared\nmine")
    assert merge.conflicts == 1 and merge.text.count("shared") == 1
    assert "theirs" in merge.text and "mine" in merge.text


def _token(client):
    from tests.conftest import csrf_token

    return csrf_token(client)


def test_a_notes_draft_autosaves_shows_when_coming_back_and_can_be_discarded(client, pair):
    pairing, mentor, mentee = pair
    meeting = make_meeting(pairing, notes="Saved text", notes_version=3)
    login_as(client, mentee)
    response = post(
        client, f"/journals/meetings/{meeting.id}/notes/draft", {"notes": "Typing...", "version": "3"}, htmx=True
    )
    assert response.status_code == 200 and "Draft kept at" in response.get_data(as_text=True)
    page = client.get(f"/journals/meetings/{meeting.id}").get_data(as_text=True)
    assert "This is your unsaved draft" in page and ">Typing...</textarea>" in page
    assert "Discard my draft" in page
    # The partner sees the saved notes, never someone's draft.
    login_as(client, mentor)
    page = client.get(f"/journals/meetings/{meeting.id}").get_data(as_text=True)
    assert ">Saved text</textarea>" in page and "Typing" not in page
    login_as(client, mentee)
    response = post(
        client,
        f"/journals/meetings/{meeting.id}/notes/draft",
        {"notes": "Typing...", "version": "3", "discard": "1"},
        htmx=True,
    )
    assert ">Saved text</textarea>" in response.get_data(as_text=True)
    assert db.session.scalar(select(Draft).where(Draft.user_id == mentee.id)) is None


def test_the_session_page_shows_both_drafts_and_reads_them_in_one_query(client, pair):
    pairing, mentor, mentee = pair
    meeting = make_meeting(pairing, notes="Saved text", notes_version=3)
    save_notes_draft(meeting, mentee, text="Notes typed", base_version=3)
    save_reflection_draft(meeting, mentee, text="Reflection typed")
    db.session.commit()
    login_as(client, mentee)
    url = f"/journals/meetings/{meeting.id}"
    client.get(url)  # warm caches
    with count_queries() as counted:
        page = client.get(url).get_data(as_text=True)
    assert ">Notes typed</textarea>" in page and "Reflection typed" in page
    # The person with the unread count, the meeting, its goals, both drafts, the reflection, the action items.
    assert counted[0] == 6


def test_a_stale_draft_says_the_notes_changed(client, pair):
    pairing, mentor, mentee = pair
    meeting = make_meeting(pairing, notes="v1", notes_version=1)
    save_notes_draft(meeting, mentee, text="my draft", base_version=0)
    db.session.commit()
    login_as(client, mentee)
    page = client.get(f"/journals/meetings/{meeting.id}").get_data(as_text=True)
    assert "have changed since you began it" in page and 'name="version" value="0"' in page


def test_too_long_notes_come_back_with_the_error_and_the_text(client, pair):
    pairing, mentor, _ = pair
    meeting = make_meeting(pairing)
    login_as(client, mentor)
    text = "y" * 20_001
    response = post(client, f"/journals/meetings/{meeting.id}/notes", {"notes": text, "version": "0"}, htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="notes-error"' in html and text in html
    assert 'aria-invalid="true"' in html


# --- routes: reflections ------------------------------------------------------------------------------


def test_each_person_sees_only_their_own_reflection(client, pair):
    pairing, mentor, mentee = pair
    meeting = make_meeting(pairing)
    login_as(client, mentor)
    page = client.get(f"/journals/meetings/{meeting.id}").get_data(as_text=True)
    assert "What surprised you?" in page and "What will you try before next time?" in page
    response = post(client, f"/journals/meetings/{meeting.id}/reflection", {"reflection": "Asha's secret"}, htmx=True)
    assert response.status_code == 200 and "Only you can read it" in response.get_data(as_text=True)
    login_as(client, mentee)
    page = client.get(f"/journals/meetings/{meeting.id}").get_data(as_text=True)
    assert "Asha's secret" not in page and "Asha&#39;s secret" not in page
    assert post(client, f"/journals/meetings/{meeting.id}/reflection", {"reflection": "Priya's own"}).status_code == 303
    page = client.get(f"/journals/meetings/{meeting.id}").get_data(as_text=True)
    assert "Priya&#39;s own" in page and "Asha&#39;s secret" not in page
    login_as(client, mentor)
    page = client.get(f"/journals/meetings/{meeting.id}").get_data(as_text=True)
    assert "Asha&#39;s secret" in page and "Priya&#39;s own" not in page


def test_a_reflection_draft_is_kept_for_its_author_only(client, pair):
    pairing, mentor, mentee = pair
    meeting = make_meeting(pairing)
    login_as(client, mentee)
    response = post(client, f"/journals/meetings/{meeting.id}/reflection/draft", {"reflection": "Half"}, htmx=True)
    assert response.status_code == 200 and "for you only" in response.get_data(as_text=True)
    assert ">Half</textarea>" in client.get(f"/journals/meetings/{meeting.id}").get_data(as_text=True)
    login_as(client, mentor)
    assert ">Half</textarea>" not in client.get(f"/journals/meetings/{meeting.id}").get_data(as_text=True)


def test_a_too_long_reflection_keeps_the_text(client, pair):
    pairing, mentor, _ = pair
    meeting = make_meeting(pairing)
    login_as(client, mentor)
    text = "z" * 10_001
    response = post(client, f"/journals/meetings/{meeting.id}/reflection", {"reflection": text})
    assert response.status_code == 422 and text in response.get_data(as_text=True)
    assert 'id="reflection-error"' in response.get_data(as_text=True)


# --- routes: action items -----------------------------------------------------------------------------


def test_action_items_are_added_and_ticked_off_in_place(client, pair):
    pairing, mentor, mentee = pair
    meeting = make_meeting(pairing)
    login_as(client, mentor)
    due = (today() + timedelta(days=5)).isoformat()
    response = post(
        client,
        f"/journals/meetings/{meeting.id}/actions",
        {"title": "", "owner_id": str(make_user().id), "due_on": due},
        htmx=True,
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="title-error"' in html and 'id="owner_id-error"' in html
    assert due in html
    response = post(
        client,
        f"/journals/meetings/{meeting.id}/actions",
        {"title": "Send the draft offer", "owner_id": str(mentee.id), "due_on": due},
        htmx=True,
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Send the draft offer" in html and "Priya Shah" in html
    item = db.session.scalar(select(ActionItem).where(ActionItem.meeting_id == meeting.id))
    response = post(client, f"/journals/actions/{item.id}/toggle", {"done": "1"}, htmx=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.startswith(f'<li id="action-{item.id}"')
    assert 'aria-pressed="true"' in html and "Done: Send the draft offer." in html
    assert db.session.get(ActionItem, item.id).done_at is not None
    assert 'name="done" value="0"' in html
    # The form says the state it wants: sending "done" twice keeps it done.
    assert post(client, f"/journals/actions/{item.id}/toggle", {"done": "1"}).status_code == 303
    assert db.session.get(ActionItem, item.id).done_at is not None
    response = post(client, f"/journals/actions/{item.id}/toggle", {"done": "0"})
    assert response.status_code == 303 and response.headers["Location"].endswith("#actions-section")
    assert db.session.get(ActionItem, item.id).done_at is None


# --- who may see what: every journal URL ---------------------------------------------------------------


def _journal_urls(pairing, meeting, item):
    day = (today() + timedelta(days=3)).isoformat()
    m = f"/journals/meetings/{meeting.id}"
    return [
        ("GET", f"/journals/pairings/{pairing.id}", None, 200),
        ("GET", f"/journals/pairings/{pairing.id}/meetings/new", None, 200),
        ("POST", f"/journals/pairings/{pairing.id}/meetings/new", plan_data(), 303),
        ("GET", f"/journals/pairings/{pairing.id}/meetings/log", None, 200),
        (
            "POST",
            f"/journals/pairings/{pairing.id}/meetings/log",
            {"held_on": today().isoformat(), "duration_minutes": "30", "format": "video"},
            303,
        ),
        ("GET", m, None, 200),
        ("GET", f"{m}.ics", None, 200),
        ("GET", f"{m}/reschedule", None, 200),
        ("POST", f"{m}/reschedule", {"on": day, "at": "09:00", "reason": "Clash"}, 303),
        ("POST", f"{m}/notes/draft", {"notes": "draft", "version": "0"}, 303),
        ("POST", f"{m}/notes", {"notes": "Partner's shared note", "version": "0"}, 303),
        ("POST", f"{m}/reflection/draft", {"reflection": "draft"}, 303),
        ("POST", f"{m}/reflection", {"reflection": "Partner's reflection"}, 303),
        ("POST", f"{m}/actions", {"title": "Read a chapter", "owner_id": "0", "due_on": day}, None),
        ("POST", f"/journals/actions/{item.id}/toggle", {"done": "1"}, 303),
        ("GET", f"{m}/log", None, 200),
        ("POST", f"{m}/log", {"held_on": today().isoformat(), "duration_minutes": "30", "format": "video"}, 303),
        ("GET", f"{m}/cancel", None, 200),
        ("POST", f"{m}/cancel", {"reason": "Unwell"}, 409),  # already held by the log above
    ]


def test_every_journal_url_answers_the_pair_alone(client, pair):
    pairing, mentor, mentee = pair
    meeting = make_meeting(pairing, status="planned", days_from_now=2, notes="Shared words", notes_version=0)
    save_reflection(meeting, mentor, body="Asha's private reflection")
    item = ActionItem(
        pairing_id=pairing.id, meeting_id=meeting.id, owner_id=mentee.id, title="Shared action", created_by_id=mentor.id
    )
    db.session.add(item)
    db.session.commit()
    urls = _journal_urls(pairing, meeting, item)
    assert {path for _, path, _, _ in urls} >= {
        f"/journals/meetings/{meeting.id}/{tail}"
        for tail in ("notes", "notes/draft", "reflection", "reflection/draft", "actions", "log", "cancel")
    }

    def request(method, url, data):
        if method == "GET":
            return client.get(url)
        return post(client, url, dict(data or {}))

    # Strangers and the director: nothing, not even that it exists; and nothing changes.
    for outsider in (make_user(team="Sales"), make_director()):
        login_as(client, outsider)
        for method, url, data, _ in urls:
            assert request(method, url, data).status_code == 404, (outsider.display_name, method, url)
    assert db.session.get(Meeting, meeting.id).status == MeetingStatus.PLANNED
    assert db.session.get(Meeting, meeting.id).notes == "Shared words"

    # A visitor is sent to sign in, for a GET or a POST.
    client.get("/")
    with client.session_transaction() as session:
        session.pop("_user_id", None)
    for method, url, data, _ in urls:
        response = request(method, url, data)
        assert response.status_code == 303 and "/accounts/sign-in" in response.headers["Location"], (method, url)

    # The partner: everything works, and the other person's reflection never shows.
    login_as(client, mentee)
    for method, url, data, expected in urls:
        if url.endswith("/actions"):
            data = {**data, "owner_id": str(mentee.id)}
            expected = 303
        response = request(method, url, data)
        assert response.status_code == expected, (method, url, response.status_code)
        assert "Asha&#39;s private reflection" not in response.get_data(as_text=True)
    page = client.get(f"/journals/meetings/{meeting.id}").get_data(as_text=True)
    assert "Partner&#39;s reflection" in page and "Asha&#39;s private reflection" not in page
    assert reflection_for(meeting, mentor).body == "Asha's private reflection"


def test_the_home_page_links_to_the_journal(client, pair):
    pairing, mentor, _ = pair
    from portal.models import Cycle

    db.session.get(Cycle, pairing.cycle_id).is_current = True
    db.session.commit()
    login_as(client, mentor)
    page = client.get("/").get_data(as_text=True)
    assert f'href="/journals/pairings/{pairing.id}">Your journal and meetings</a>' in page


def test_a_timeline_entry_kept_rendered_shows_new_notes_and_a_reflection_at_once(client, pair):
    pairing, mentor, mentee = pair
    meeting = make_meeting(pairing, notes="We planned the vendor call.")
    login_as(client, mentee)
    url = f"/journals/pairings/{pairing.id}"
    assert "We planned the vendor call." in client.get(url).get_data(as_text=True)
    meeting.notes = "We planned the vendor call and a calm opening."
    db.session.add(Reflection(meeting_id=meeting.id, author_id=mentee.id, body="I felt ready."))
    db.session.commit()
    page = client.get(url).get_data(as_text=True)
    assert "We planned the vendor call and a calm opening." in page
    assert "You wrote a reflection" in page
    login_as(client, mentor)  # the reflection is the mentee's alone
    assert "You wrote a reflection" not in client.get(url).get_data(as_text=True)


def test_cancelling_needs_a_short_reason_and_a_draft_keeps_to_the_notes_limit(pair):
    from portal.journals.services import NOTES_MAX, REASON_MAX

    pairing, mentor, mentee = pair
    meeting = make_meeting(pairing, status="planned", days_from_now=2)
    for reason in ("  ", "x" * (REASON_MAX + 1)):
        with pytest.raises(ValidationFailed) as refused:
            cancel_meeting(meeting, pairing, mentee, reason=reason)
        assert "reason" in refused.value.errors
    assert meeting.status == MeetingStatus.PLANNED
    assert not any("cancelled the meeting" in m for m in messages_for(mentor))
    with pytest.raises(ValidationFailed):
        save_notes_draft(meeting, mentee, text="x" * (NOTES_MAX + 1), base_version=0)
    assert notes_draft(meeting, mentee) is None
    from portal.journals.services import REFLECTION_MAX, reflection_draft

    with pytest.raises(ValidationFailed):
        save_reflection_draft(meeting, mentee, text="y" * (REFLECTION_MAX + 1))
    assert reflection_draft(meeting, mentee) is None


def test_the_kept_timeline_shows_a_new_action_item_and_a_reflection_to_its_author_alone_at_once(client, pair):
    # The timeline's page is kept as one fragment: its key must move with every entry and name the viewer.
    pairing, mentor, mentee = pair
    meeting = make_meeting(pairing, topics="Quarterly planning")
    url = f"/journals/pairings/{pairing.id}"
    login_as(client, mentor)
    assert "action item" not in client.get(url).get_data(as_text=True)
    db.session.add(ActionItem(pairing_id=pairing.id, meeting_id=meeting.id, owner_id=mentee.id, title="Draft the plan",
                              created_by_id=mentor.id))  # fmt: skip
    db.session.add(Reflection(meeting_id=meeting.id, author_id=mentor.id, body="I talked too much."))
    db.session.commit()
    page = client.get(url).get_data(as_text=True)
    assert "0 of 1 action item done" in page and "You wrote a reflection" in page
    login_as(client, mentee)
    page = client.get(url).get_data(as_text=True)
    assert "0 of 1 action item done" in page and "You wrote a reflection" not in page
