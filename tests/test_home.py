"""The home page: what it gathers of a person's pairings and program, and in how many queries."""

from __future__ import annotations

import re
from datetime import timedelta

from portal.clock import utcnow
from portal.extensions import db
from portal.models import PairingEnd, PairingStatus, Retrospective, SupportSettings, User
from portal.support import services as svc
from tests.conftest import count_queries, login_as
from tests.factories import answer, enrol, make_cycle, make_meeting, make_pairing, make_user


def _end(pairing, *, days_ago: int) -> None:
    pairing.status, pairing.end_kind = PairingStatus.ENDED, PairingEnd.COMPLETED
    pairing.ended_at = utcnow() - timedelta(days=days_ago)


def _earlier_partners(page: str) -> list[str]:
    earlier = page.split('id="earlier-title"', 1)[1].split("</section>", 1)[0]
    return re.findall(r">With ([^<]+)</a>", earlier)


def _retrospective_offers(page: str) -> list[str]:
    return re.findall(r"Your pairing with ([^<]+) has ended", page)


def test_the_home_page_lists_the_ten_latest_ended_pairings_and_offers_the_five_latest_retrospectives(client):
    mentee = make_user(display_name="Priya Shah")
    old_cycle = make_cycle(name="Last year", current=False)
    ended = []
    for n in range(12):
        pairing = make_pairing(cycle=old_cycle, mentee=mentee, mentor=make_user(display_name=f"Mentor {n:02d}"))
        _end(pairing, days_ago=100 - n)  # Mentor 11 ended last
        ended.append(pairing)
    # Looked back on (or skipped) already: no offer for Mentor 11 and Mentor 09.
    for pairing in (ended[11], ended[9]):
        db.session.add(Retrospective(pairing_id=pairing.id, cycle_id=old_cycle.id, user_id=mentee.id, role="mentee"))
    db.session.commit()
    login_as(client, mentee)

    page = client.get("/").get_data(as_text=True)

    assert _earlier_partners(page) == [f"Mentor {n:02d}" for n in range(11, 1, -1)]
    assert _retrospective_offers(page) == ["Mentor 10", "Mentor 08", "Mentor 07", "Mentor 06", "Mentor 05"]


def test_a_mentor_is_offered_the_retrospective_of_a_pairing_with_the_mentees_name(client):
    mentor = make_user(display_name="Asha Rao")
    pairing = make_pairing(mentor=mentor, mentee=make_user(display_name="Priya Shah"))
    _end(pairing, days_ago=1)
    db.session.commit()
    login_as(client, mentor)

    page = client.get("/").get_data(as_text=True)

    assert _retrospective_offers(page) == ["Priya Shah"]
    assert _earlier_partners(page) == ["Priya Shah"]


def test_the_home_page_shows_only_the_current_cycles_active_pairings(client):
    mentee = make_user(display_name="Priya Shah")
    earlier = make_cycle(name="Last year", current=False)
    make_pairing(cycle=earlier, mentee=mentee, mentor=make_user(display_name="Old Mentor"))
    current = make_cycle(name="Spring")
    make_pairing(cycle=current, mentee=mentee, mentor=make_user(display_name="New Mentor"), days_ago=1)
    login_as(client, mentee)

    page = client.get("/").get_data(as_text=True)

    assert "Your mentor is New Mentor" in page
    assert "Old Mentor" not in page


def test_your_questions_appear_on_the_home_page_once_the_person_has_asked_the_director(client):
    pairing = make_pairing()
    mentee = db.session.get(User, pairing.mentee_id)
    login_as(client, mentee)
    assert "Your questions" not in client.get("/").get_data(as_text=True)

    svc.ask_director(mentee, topic="other", body="Hi", pairing_id=pairing.id, now=utcnow())
    db.session.commit()

    assert "Your questions" in client.get("/").get_data(as_text=True)


def test_the_home_page_judges_check_ins_by_the_current_cycles_thresholds(client):
    cycle = make_cycle()
    pairing = make_pairing(cycle=cycle, days_ago=10)
    make_meeting(pairing, days_from_now=-2)
    login_as(client, db.session.get(User, pairing.mentee_id))
    # By default the first check-in comes 3 days after the first meeting: not yet.
    assert "A quiet question about your pairing" not in client.get("/").get_data(as_text=True)

    db.session.add(SupportSettings(cycle_id=cycle.id, first_check_in_days=1))
    db.session.commit()

    assert "A quiet question about your pairing" in client.get("/").get_data(as_text=True)


def test_a_finished_questionnaire_costs_the_home_page_no_query_for_its_steps(client):
    cycle = make_cycle()
    person = make_user()
    answer(person, values=["curiosity"])
    login_as(client, person)
    with count_queries() as unfinished:
        page = client.get("/").get_data(as_text=True)
    assert "Continue the questionnaire" in page

    person.onboarded_at = utcnow()
    enrol(person, cycle, "mentee")
    with count_queries() as finished:
        page = client.get("/").get_data(as_text=True)

    assert "Continue the questionnaire" not in page and "See the mentors who fit you" in page
    assert finished[0] == unfinished[0] - 1


def test_a_mentees_home_with_a_pairing_reads_everything_in_eight_queries(client):
    cycle = make_cycle()
    pairing = make_pairing(cycle=cycle, days_ago=30)
    mentee = db.session.get(User, pairing.mentee_id)
    mentee.onboarded_at = utcnow()
    enrol(mentee, cycle, "mentee")
    for days in (-20, -10, 3):
        make_meeting(pairing, days_from_now=days, status="held" if days < 0 else "planned")
    ended = make_pairing(cycle=make_cycle(name="Last year", current=False), mentee=mentee)
    _end(ended, days_ago=40)
    db.session.commit()
    login_as(client, mentee)
    client.get("/")

    with count_queries() as counted:
        page = client.get("/").get_data(as_text=True)

    assert "Your mentor is" in page and "Earlier pairings" in page and "has ended" in page
    # The session's user with the unread count, the program, every pairing, the pairs' facts and check-ins,
    # goals, the next meetings and open actions (and BEGIN outside tests).
    assert counted[0] == 8
