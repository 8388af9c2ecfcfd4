"""Cycles (director) and enrolment in the current cycle."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.clock import today
from portal.errors import ValidationFailed
from portal.extensions import db
from portal.models import Cycle, Enrolment, MentorRequest, RequestStatus, Role, User
from tests.conftest import count_queries, login_as, post
from tests.factories import answer, enrol, make_cycle, make_pairing, make_user


def cycle_form(**overrides):
    day = today()
    data = {
        "name": "Autumn 2027",
        "enrolment_opens_on": day.isoformat(),
        "enrolment_closes_on": (day + timedelta(days=13)).isoformat(),
        "matching_opens_on": (day + timedelta(days=14)).isoformat(),
        "matching_closes_on": (day + timedelta(days=34)).isoformat(),
        "starts_on": (day + timedelta(days=35)).isoformat(),
        "ends_on": (day + timedelta(days=217)).isoformat(),
        "request_expiry_days": "7",
        "default_capacity": "2",
        "weight_values": "25",
        "weight_interests": "15",
        "weight_experiences": "15",
        "weight_skills": "25",
        "weight_logistics": "10",
        "weight_perspective": "10",
    }
    data.update(overrides)
    return data


def director(client):
    user = make_user(role=Role.DIRECTOR, team="People")
    login_as(client, user)
    return user


def test_the_new_cycle_form_suggests_a_six_month_program(client):
    director(client)
    page = client.get("/programs/new").get_data(as_text=True)
    assert 'name="starts_on"' in page and 'type="date"' in page
    assert 'value="7"' in page  # expiry days default


def test_the_director_creates_a_current_cycle_with_tuned_weights(client):
    director(client)
    response = post(client, "/programs/new", cycle_form(is_current="y", weight_values="40"))
    assert response.status_code == 303
    cycle = db.session.scalar(select(Cycle).where(Cycle.name == "Autumn 2027"))
    assert cycle.is_current and cycle.request_expiry_days == 7
    assert cycle.weights["values"] == 40
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Autumn 2027" in page and "Match the rest" in page


def test_dates_out_of_order_are_refused_at_the_field_with_everything_kept(client):
    director(client)
    day = today()
    response = post(
        client,
        "/programs/new",
        cycle_form(ends_on=(day + timedelta(days=20)).isoformat(), name="Keep me"),
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="ends_on-error"' in page
    assert "must be on or after the day the program starts" in page
    assert 'value="Keep me"' in page
    assert db.session.scalar(select(Cycle).where(Cycle.name == "Keep me")) is None


def test_matching_cannot_open_before_enrolment(client):
    director(client)
    day = today()
    response = post(client, "/programs/new", cycle_form(matching_opens_on=(day - timedelta(days=1)).isoformat()))
    assert response.status_code == 422
    assert 'id="matching_opens_on-error"' in response.get_data(as_text=True)


def test_two_current_cycles_are_refused(client):
    make_cycle(name="Spring")
    director(client)
    response = post(client, "/programs/new", cycle_form(is_current="y"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "\u201cSpring\u201d is the current cycle" in page
    assert 'id="is_current-error"' in page


def test_capacity_and_expiry_out_of_range_are_refused(client):
    director(client)
    response = post(client, "/programs/new", cycle_form(default_capacity="9", request_expiry_days="0"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="default_capacity-error"' in page and 'id="request_expiry_days-error"' in page


def test_editing_a_cycle_keeps_it_current_and_past_cycles_stay_readable(client):
    cycle = make_cycle(name="Spring")
    past = make_cycle(
        name="Long ago",
        current=False,
        starts_on=today() - timedelta(days=300),
        ends_on=today() - timedelta(days=120),
    )
    director(client)
    response = post(client, f"/programs/{cycle.id}/edit", cycle_form(name="Spring renamed", is_current="y"))
    assert response.status_code == 303
    index = client.get("/programs/").get_data(as_text=True)
    assert "Spring renamed" in index and "Long ago" in index and "Ended" in index
    assert client.get(f"/programs/{past.id}").status_code == 200
    assert client.get("/programs/999999").status_code == 404


def test_cycle_overview_hides_small_groups(client):
    cycle = make_cycle()
    for _ in range(3):
        enrol(make_user(), cycle, "mentee")
    director(client)
    page = client.get(f"/programs/{cycle.id}").get_data(as_text=True)
    assert "fewer than 5" in page


def test_enrolment_is_prefilled_from_the_questionnaire(client):
    make_cycle()
    user = make_user()
    answer(user, participation=["mentor"])
    login_as(client, user)
    page = client.get("/programs/enrol").get_data(as_text=True)
    assert re.search(r'<input[^>]*checked[^>]*value="mentor"', page)
    assert not re.search(r'<input[^>]*checked[^>]*value="mentee"', page)


def test_enrolling_as_a_mentor_with_capacity(client):
    cycle = make_cycle()
    user = make_user()
    answer(user, values=["kindness"])
    login_as(client, user)
    response = post(client, "/programs/enrol", {"role": "both", "capacity": "3"})
    assert response.status_code == 303
    enrolment = db.session.scalar(select(Enrolment).where(Enrolment.user_id == user.id))
    assert enrolment.cycle_id == cycle.id and enrolment.capacity == 3 and enrolment.mentors


def test_capacity_out_of_range_is_refused_at_the_field(client):
    make_cycle()
    user = make_user()
    answer(user, values=["kindness"])
    login_as(client, user)
    for bad in ["0", "6", ""]:
        response = post(client, "/programs/enrol", {"role": "mentor", "capacity": bad})
        assert response.status_code == 422
        assert 'id="capacity-error"' in response.get_data(as_text=True)


def test_an_unknown_role_is_refused(client):
    make_cycle()
    login_as(client, make_user())
    response = post(client, "/programs/enrol", {"role": "overlord", "capacity": "2"})
    assert response.status_code == 422


def test_enrolment_closes_when_matching_closes(client):
    day = today()
    make_cycle(
        enrolment_opens_on=day - timedelta(days=40),
        enrolment_closes_on=day - timedelta(days=30),
        matching_opens_on=day - timedelta(days=29),
        matching_closes_on=day - timedelta(days=1),
    )
    login_as(client, make_user())
    assert "Enrolment for this cycle is closed" in client.get("/programs/enrol").get_data(as_text=True)
    response = post(client, "/programs/enrol", {"role": "mentee"})
    assert response.status_code == 422


def test_pausing_answers_open_requests_kindly(client):
    cycle = make_cycle()
    mentor = make_user(team="Design")
    mentee = make_user(team="Data")
    enrol(mentor, cycle, "mentor")
    enrol(mentee, cycle, "mentee")
    request = MentorRequest(
        cycle_id=cycle.id,
        mentee_id=mentee.id,
        mentor_id=mentor.id,
        note="Hello",
        rhythm="monthly",
        expires_at=cycle.created_at + timedelta(days=7),
    )
    db.session.add(request)
    db.session.commit()
    login_as(client, mentor)
    post(client, "/programs/enrol", {"role": "mentor", "capacity": "2", "paused": "y"})
    db.session.refresh(request)
    assert request.status == RequestStatus.DECLINED
    assert "not about you" in request.response
    login_as(client, mentee)
    assert "This is about their time, not about you." in client.get("/notifications/").get_data(as_text=True)


def test_leaving_a_cycle_asks_first_and_says_what_happens(client):
    cycle = make_cycle(name="Spring")
    user, mentor, mentee = make_user(), make_user(team="Design"), make_user(team="Sales")
    enrol(user, cycle, "both")
    for asker, asked in ((user, mentor), (mentee, user)):
        db.session.add(MentorRequest(cycle_id=cycle.id, mentee_id=asker.id, mentor_id=asked.id, note="Hello",
                                     rhythm="monthly", expires_at=cycle.created_at + timedelta(days=7)))  # fmt: skip
    db.session.commit()
    login_as(client, user)
    page = client.get("/programs/enrol").get_data(as_text=True)
    assert "Leave this cycle</button>" not in page  # no one-click leaving
    assert f'href="/programs/{cycle.id}/leave"' in page
    page = client.get(f"/programs/{cycle.id}/leave").get_data(as_text=True)
    assert "Leave Spring?" in page
    assert "Your request to a mentor is withdrawn." in page
    assert "The request waiting for your answer is answered kindly for you" in page
    assert db.session.scalar(select(Enrolment).where(Enrolment.user_id == user.id)) is not None
    response = post(client, f"/programs/{cycle.id}/leave")
    assert response.status_code == 303
    assert db.session.scalar(select(Enrolment).where(Enrolment.user_id == user.id)) is None
    statuses = db.session.scalars(select(MentorRequest.status).order_by(MentorRequest.id)).all()
    assert statuses == [RequestStatus.WITHDRAWN, RequestStatus.DECLINED]


def test_someone_in_a_pairing_is_told_how_to_leave_instead(client):
    pairing = make_pairing()
    cycle = db.session.get(Cycle, pairing.cycle_id)
    mentee = db.session.get(User, pairing.mentee_id)
    enrol(mentee, cycle, "mentee")
    login_as(client, mentee)
    page = client.get(f"/programs/{cycle.id}/leave").get_data(as_text=True)
    assert "The program director can help you end it kindly" in page and "<button" not in page.split("<main")[1]
    assert post(client, f"/programs/{cycle.id}/leave").status_code == 422
    assert db.session.scalar(select(Enrolment).where(Enrolment.user_id == mentee.id)) is not None
    assert client.get(f"/programs/{cycle.id}/leave").status_code == 200
    login_as(client, make_user())
    assert client.get(f"/programs/{cycle.id}/leave").status_code == 404  # not enrolled: nothing to leave


def test_the_cycle_list_takes_a_fixed_number_of_queries(client):
    director(client)
    make_cycle(name="One")
    with count_queries() as few:
        client.get("/programs/")
    for n in range(10):
        make_cycle(name=f"Old {n}", current=False)
    with count_queries() as many:
        client.get("/programs/")
    assert many[0] == few[0]


def test_enrolling_with_no_answers_says_kindly_what_is_missing_and_links_to_it(client):
    make_cycle(name="Spring")
    user = make_user()
    login_as(client, user)
    page = client.get("/programs/enrol").get_data(as_text=True)
    assert "it has no answers yet" in page and 'href="/onboarding/' in page
    assert 'name="role"' not in page  # no form that cannot succeed
    response = post(client, "/programs/enrol", {"role": "mentee"})
    assert response.status_code == 422 and "it has no answers yet" in response.get_data(as_text=True)
    assert db.session.scalar(select(Enrolment)) is None
    answer(user, values=["kindness"])
    assert post(client, "/programs/enrol", {"role": "mentee"}).status_code == 303


def test_mentor_only_fields_sit_in_their_own_block_the_stylesheet_hides_for_mentees(client, app):
    make_cycle()
    user = make_user()
    answer(user, values=["kindness"])
    login_as(client, user)
    page = client.get("/programs/enrol").get_data(as_text=True)
    block = page[page.index('class="mentor-only') :]
    assert 'name="capacity"' in block and 'name="paused"' in block
    assert 'name="capacity"' not in page[: page.index('class="mentor-only')]
    css = client.get("/static/css/portal.css").get_data(as_text=True)
    assert '.enrol-form:has(input[name="role"][value="mentee"]:checked) .mentor-only { display: none; }' in css


def test_people_enrol_in_the_next_cycle_while_the_current_one_runs(client):
    day = today()
    running = make_cycle(name="Spring", enrolment_opens_on=day - timedelta(days=90),
                         enrolment_closes_on=day - timedelta(days=80), matching_opens_on=day - timedelta(days=79),
                         matching_closes_on=day - timedelta(days=60), starts_on=day - timedelta(days=59),
                         ends_on=day + timedelta(days=100))  # fmt: skip
    autumn = make_cycle(name="Autumn", current=False, enrolment_opens_on=day - timedelta(days=3),
                        enrolment_closes_on=day + timedelta(days=20), matching_opens_on=day + timedelta(days=21),
                        matching_closes_on=day + timedelta(days=40), starts_on=day + timedelta(days=41),
                        ends_on=day + timedelta(days=220))  # fmt: skip
    winter = make_cycle(name="Winter", current=False, enrolment_opens_on=day - timedelta(days=1),
                        enrolment_closes_on=day + timedelta(days=30), matching_opens_on=day + timedelta(days=31),
                        matching_closes_on=day + timedelta(days=50), starts_on=day + timedelta(days=51),
                        ends_on=day + timedelta(days=230))  # fmt: skip
    user = make_user()
    answer(user, values=["kindness"])
    login_as(client, user)
    page = client.get("/programs/enrol").get_data(as_text=True)
    assert "Take part in Autumn" in page and "Take part in Winter" in page and "Spring" not in page
    assert page.index("Autumn") < page.index("Winter")  # the soonest first
    page = client.get(f"/programs/{winter.id}/enrol").get_data(as_text=True)
    assert "Take part in Winter" in page and f'action="/programs/{winter.id}/enrol"' in page
    assert post(client, f"/programs/{winter.id}/enrol", {"role": "mentee"}).status_code == 303
    mine = db.session.scalars(select(Enrolment.cycle_id).where(Enrolment.user_id == user.id)).all()
    assert mine == [winter.id]
    page = client.get("/programs/enrol").get_data(as_text=True)
    assert "You take part in it." in page
    response = post(client, f"/programs/{running.id}/enrol", {"role": "mentee"})
    assert response.status_code == 422 and "Enrolment for this cycle is closed" in response.get_data(as_text=True)
    assert autumn.id not in db.session.scalars(select(Enrolment.cycle_id)).all()
    assert client.get("/programs/99999/enrol").status_code == 404


def test_the_cycle_page_shows_the_real_windows_in_the_usual_date_format(client):
    day = today()
    cycle = make_cycle(name="Autumn", enrolment_opens_on=day - timedelta(days=20),
                       enrolment_closes_on=day - timedelta(days=5), matching_opens_on=day - timedelta(days=4),
                       matching_closes_on=day + timedelta(days=10), starts_on=day + timedelta(days=11),
                       ends_on=day + timedelta(days=200))  # fmt: skip
    director(client)
    page = client.get(f"/programs/{cycle.id}").get_data(as_text=True)
    fmt = "%-d %B %Y"
    opens, until = (day - timedelta(days=20)).strftime(fmt), (day + timedelta(days=10)).strftime(fmt)
    assert f"Open from {opens} until {until}" in page
    assert "open now" in page
    assert (day - timedelta(days=5)).isoformat() not in page


def test_the_director_sets_the_cycles_minimum_score(client):
    director(client)
    form_page = client.get("/programs/new").get_data(as_text=True)
    assert 'name="min_score"' in form_page and 'value="30"' in form_page
    response = post(client, "/programs/new", cycle_form(min_score="45"))
    assert response.status_code == 303
    cycle = db.session.scalar(select(Cycle).where(Cycle.name == "Autumn 2027"))
    assert cycle.min_score == 45
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "No pair scoring under 45 of 100 is proposed" in shown


def test_a_new_cycle_has_a_minimum_score_of_30_by_default(client):
    director(client)
    post(client, "/programs/new", cycle_form())
    assert db.session.scalar(select(Cycle).where(Cycle.name == "Autumn 2027")).min_score == 30


def test_a_minimum_score_outside_0_to_100_is_explained(client):
    director(client)
    response = post(client, "/programs/new", cycle_form(min_score="101"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "From 0 to 100." in page and 'aria-invalid="true"' in page
    assert db.session.scalar(select(Cycle).where(Cycle.name == "Autumn 2027")) is None


def test_editing_a_cycle_shows_and_changes_its_minimum_score(client):
    director(client)
    cycle = make_cycle(min_score=40)
    page = client.get(f"/programs/{cycle.id}/edit").get_data(as_text=True)
    assert 'name="min_score"' in page and 'value="40"' in page
    data = cycle_form(name=cycle.name, min_score="0", is_current="y")
    assert post(client, f"/programs/{cycle.id}/edit", data).status_code == 303
    db.session.refresh(cycle)
    assert cycle.min_score == 0


# --- the questionnaire's choice lists ---------------------------------------------------------------------


def test_the_director_adds_renames_and_retires_choices_and_old_answers_keep_them(client):
    from portal.models import Choice

    person = make_user()
    answer(person, values=["kindness"])
    director(client)
    page = client.get("/programs/choices").get_data(as_text=True)
    assert "Soft skills" in page and "Meeting formats" in page and "Kindness" in page
    response = post(client, "/programs/choices/skills", {"label": "  Storytelling  "})
    assert response.status_code == 303
    added = db.session.scalar(select(Choice).where(Choice.label == "Storytelling"))
    assert added.list_name == "skills" and added.is_active
    login_as(client, person)
    assert "Storytelling" in client.get("/onboarding/step/skills_grow").get_data(as_text=True)
    director(client)
    kindness = db.session.scalar(select(Choice).where(Choice.list_name == "values", Choice.key == "kindness"))
    assert post(client, f"/programs/choices/{kindness.id}/rename", {"label": "Warmth"}).status_code == 303
    assert post(client, f"/programs/choices/{kindness.id}/state", {"state": "retired"}).status_code == 303
    assert post(client, f"/programs/choices/{kindness.id}/state", {"state": "retired"}).status_code == 303  # again
    assert "Retired" in client.get("/programs/choices").get_data(as_text=True)
    login_as(client, person)
    assert "Warmth" not in client.get("/onboarding/step/values").get_data(as_text=True)  # no longer offered
    assert "Warmth" in client.get("/profiles/me").get_data(as_text=True)  # but kept on the old answer
    director(client)
    assert post(client, f"/programs/choices/{kindness.id}/state", {"state": "active"}).status_code == 303
    login_as(client, person)
    assert "Warmth" in client.get("/onboarding/step/values").get_data(as_text=True)


def test_choice_words_are_checked_beside_the_field_and_strangers_cannot_edit(client):
    from portal.models import Choice

    director(client)
    for label, message in (("   ", "Please write the choice"), ("Kindness", "is already on this list"),
                           ("x" * 121, "120 characters")):  # fmt: skip
        response = post(client, "/programs/choices/values", {"label": label})
        assert response.status_code == 422
        page = response.get_data(as_text=True)
        assert message in page and 'id="add-values-error"' in page and 'aria-invalid="true"' in page
    assert post(client, "/programs/choices/participation", {"label": "Lurk"}).status_code == 404
    choice = db.session.scalar(select(Choice).where(Choice.list_name == "values"))
    assert post(client, f"/programs/choices/{choice.id}/state", {"state": "gone"}).status_code == 422
    login_as(client, make_user())
    assert post(client, f"/programs/choices/{choice.id}/rename", {"label": "Mine"}).status_code in (403, 404)
    db.session.refresh(choice)
    assert choice.label != "Mine"


def test_the_directors_cycle_list_reads_like_the_rest_of_the_portal(client):
    day = today()
    make_cycle(name="Spring")
    director(client)
    page = client.get("/programs/").get_data(as_text=True)
    start = (day + timedelta(days=21)).strftime("%-d %B %Y")
    assert f"{start} to " in page and (day + timedelta(days=21)).isoformat() not in page
    assert f"enrolment open until {(day + timedelta(days=20)).strftime('%-d %B %Y')}" in page
    for tool in ("Objectives", "Questionnaire choices", "The company roster", "Reported wall posts"):
        assert f">{tool}</a></h3>" in page


def test_a_mentor_with_mentees_keeps_room_for_them_and_stays_a_mentor(client):
    from portal.programs.services import enrol as enrol_service
    from portal.programs.services import leave_cycle

    pairing = make_pairing()
    cycle = db.session.get(Cycle, pairing.cycle_id)
    mentor = db.session.get(User, pairing.mentor_id)
    make_pairing(cycle=cycle, mentor=mentor)
    enrol(mentor, cycle, "mentor", capacity=3)
    with pytest.raises(ValidationFailed) as refused:
        enrol_service(mentor, cycle, role="mentor", capacity=1, paused=False, today=today())
    assert "already mentoring 2" in refused.value.errors["capacity"]
    with pytest.raises(ValidationFailed) as refused:
        enrol_service(mentor, cycle, role="mentee", capacity=None, paused=False, today=today())
    assert "cannot stop being a mentor" in refused.value.errors["role"]
    with pytest.raises(ValidationFailed):
        leave_cycle(mentor, cycle, today=today())
    closed_day = cycle.matching_closes_on + timedelta(days=1)
    other = make_user()
    enrol(other, cycle, "mentee")
    with pytest.raises(ValidationFailed) as refused:
        leave_cycle(other, cycle, today=closed_day)
    assert "closed" in refused.value.errors["leave"]
    db.session.refresh(mentor)
    assert db.session.scalar(select(Enrolment.capacity).where(Enrolment.user_id == mentor.id)) == 3
