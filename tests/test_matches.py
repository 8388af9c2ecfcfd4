"""Mentees drive: recommendations, requests, answers, expiry, pairings; the director matches the rest."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from portal import queue
from portal.accounts.services import get_or_create_team
from portal.clock import utcnow
from portal.extensions import db
from portal.models import (
    Enrolment,
    MatchingRun,
    MentorRequest,
    Notification,
    Pairing,
    PairingStatus,
    ProfileStep,
    ProposedPair,
    RequestStatus,
    Role,
    RunStatus,
    User,
)
from portal.stamps import Kept, forget_all, forget_here
from tests.conftest import count_queries, login_as, post
from tests.factories import answer, enrol, make_cycle, make_pairing, make_roster_entry, make_user


@pytest.fixture
def cycle():
    return make_cycle()


def mentor(cycle, *, team="Design", capacity=2, paused=False, name=None, **answers):
    user = make_user(team=team, display_name=name)
    answer(user, **(answers or {"values": ["curiosity"], "skills_offer": ["negotiation"]}))
    enrol(user, cycle, "mentor", capacity=capacity, paused=paused)
    return user


def mentee(cycle, *, team="Data", **answers):
    user = make_user(team=team)
    answer(user, **(answers or {"values": ["curiosity"], "skills_grow": ["negotiation"]}))
    enrol(user, cycle, "mentee")
    return user


def ask(client, mentor_id, note="I would love help negotiating a project plan.", rhythm="monthly"):
    return post(client, f"/matches/mentors/{mentor_id}/request", {"note": note, "rhythm": rhythm})


def notes_for(user):
    return [n.message for n in db.session.scalars(select(Notification).where(Notification.user_id == user.id))]


def test_a_mentee_sees_mentors_who_fit_with_reasons_and_a_band(client, cycle):
    asha = mentor(cycle, name="Asha Rao")
    me = mentee(cycle)
    login_as(client, me)
    page = client.get("/matches/").get_data(as_text=True)
    assert "Mentors who fit you" in page
    assert "chosen for you from your answers" in page
    assert "Asha Rao" in page
    assert "You both value curiosity" in page
    assert "Asha offers negotiation, which you want to grow" in page
    assert re.search(r"(Strong|Good|Possible) fit", page)
    assert f"/matches/mentors/{asha.id}/request" in page


def test_no_one_from_my_team_a_paused_or_a_full_mentor_is_recommended(client, cycle):
    mentor(cycle, team="Data", name="Same Team")
    mentor(cycle, paused=True, name="Paused Person")
    full = mentor(cycle, capacity=1, name="Full Person")
    other = mentee(cycle, team="Sales")
    db.session.add(Pairing(cycle_id=cycle.id, mentor_id=full.id, mentee_id=other.id, source="request"))
    db.session.commit()
    mentor(cycle, name="Free Person")
    login_as(client, mentee(cycle))
    page = client.get("/matches/").get_data(as_text=True)
    assert "Free Person" in page
    for name in ["Same Team", "Paused Person", "Full Person"]:
        assert name not in page


def test_saving_and_hiding_a_mentor(client, cycle):
    asha = mentor(cycle, name="Asha Rao")
    login_as(client, mentee(cycle))
    response = post(client, f"/matches/mentors/{asha.id}/mark", {"kind": "saved"}, htmx=True)
    assert response.status_code == 200
    assert "Saved" in response.get_data(as_text=True)
    assert "Saved for later" in client.get("/matches/").get_data(as_text=True)
    post(client, f"/matches/mentors/{asha.id}/mark", {"kind": "hidden"})
    page = client.get("/matches/").get_data(as_text=True)
    assert "Hidden from your list" in page
    assert f"/matches/mentors/{asha.id}/request" not in page
    post(client, f"/matches/mentors/{asha.id}/mark", {"kind": ""})
    assert f"/matches/mentors/{asha.id}/request" in client.get("/matches/").get_data(as_text=True)


def test_marking_someone_who_does_not_mentor_is_404(client, cycle):
    login_as(client, mentee(cycle))
    stranger = make_user()
    assert post(client, f"/matches/mentors/{stranger.id}/mark", {"kind": "saved"}).status_code == 404


def test_requesting_a_mentor_tells_them(client, cycle):
    asha = mentor(cycle)
    me = mentee(cycle)
    login_as(client, me)
    page = client.get(f"/matches/mentors/{asha.id}/request").get_data(as_text=True)
    assert "Why you fit" in page
    response = ask(client, asha.id)
    assert response.status_code == 303
    request = db.session.scalar(select(MentorRequest).where(MentorRequest.mentee_id == me.id))
    assert request.status == RequestStatus.OPEN and request.reasons
    assert request.expires_at - request.created_at == timedelta(days=7)
    assert any("would like you as their mentor" in n for n in notes_for(asha))


def test_a_request_needs_a_note_and_a_rhythm_and_keeps_what_was_typed(client, cycle):
    asha = mentor(cycle)
    login_as(client, mentee(cycle))
    response = ask(client, asha.id, note="   ", rhythm="fortnightly")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="note-error"' in page
    assert re.search(r'<input[^>]*checked[^>]*value="fortnightly"', page)
    response = ask(client, asha.id, note="Please", rhythm="daily")
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="rhythm-error"' in page and "Please</textarea>" in page
    response = ask(client, asha.id, note="x" * 801)
    assert response.status_code == 422 and "800 characters" in response.get_data(as_text=True)
    assert db.session.scalar(select(MentorRequest)) is None


def test_at_most_three_open_requests(client, cycle):
    mentors = [mentor(cycle, team=team) for team in ["Design", "Sales", "Finance", "Support"]]
    login_as(client, mentee(cycle))
    for person in mentors[:3]:
        assert ask(client, person.id).status_code == 303
    response = ask(client, mentors[3].id)
    assert response.status_code == 422
    assert "You have 3 requests waiting" in response.get_data(as_text=True)


def test_asking_the_same_mentor_twice_or_a_paused_one_is_refused(client, cycle):
    asha = mentor(cycle)
    paused = mentor(cycle, team="Sales", paused=True)
    login_as(client, mentee(cycle))
    ask(client, asha.id)
    assert "already asked" in ask(client, asha.id).get_data(as_text=True)
    assert "paused new mentoring" in ask(client, paused.id).get_data(as_text=True)


def test_asking_someone_in_my_own_team_is_refused(client, cycle):
    teammate = mentor(cycle, team="Data")
    login_as(client, mentee(cycle, team="Data"))
    response = ask(client, teammate.id)
    assert response.status_code == 422
    assert "cannot be matched with you" in response.get_data(as_text=True)


def test_requests_wait_for_the_matching_window(client):
    day = utcnow().date()
    cycle = make_cycle(matching_opens_on=day + timedelta(days=3), matching_closes_on=day + timedelta(days=20))
    asha = mentor(cycle)
    login_as(client, mentee(cycle))
    response = ask(client, asha.id)
    assert response.status_code == 422
    assert "while matching is open" in response.get_data(as_text=True)


def _request(client, cycle, mentor_user, mentee_user):
    login_as(client, mentee_user)
    ask(client, mentor_user.id)
    return db.session.scalar(
        select(MentorRequest).where(
            MentorRequest.mentee_id == mentee_user.id, MentorRequest.mentor_id == mentor_user.id
        )
    )


def test_accepting_creates_a_pairing_withdraws_the_others_and_tells_everyone(client, cycle):
    asha, ben = mentor(cycle, name="Asha Rao"), mentor(cycle, team="Sales", name="Ben Okafor")
    me = mentee(cycle)
    first = _request(client, cycle, asha, me)
    second = _request(client, cycle, ben, me)
    login_as(client, asha)
    page = client.get(f"/matches/requests/{first.id}").get_data(as_text=True)
    assert "I would love help negotiating" in page and "Why this match was suggested" in page
    response = post(client, f"/matches/requests/{first.id}/accept", {"accept-message": "Gladly."})
    assert response.status_code == 303
    pairing = db.session.scalar(select(Pairing).where(Pairing.mentee_id == me.id))
    assert pairing.mentor_id == asha.id and pairing.reasons
    db.session.refresh(second)
    assert second.status == RequestStatus.WITHDRAWN
    assert any("has found a mentor" in n for n in notes_for(ben))
    assert any("said yes" in n and "Gladly." in n for n in notes_for(me))
    assert f"You and {me.display_name} are now a pair." in notes_for(asha)
    assert "You mentor" in client.get("/").get_data(as_text=True)
    login_as(client, me)
    home = client.get("/").get_data(as_text=True)
    assert "Your mentor is Asha Rao" in home and "Why you were matched" in home


def test_only_the_addressed_mentor_can_answer(client, cycle):
    asha = mentor(cycle)
    me = mentee(cycle)
    request = _request(client, cycle, asha, me)
    other_mentor = mentor(cycle, team="Sales")
    for person in [other_mentor, make_user(team="Support"), me]:
        login_as(client, person)
        assert post(client, f"/matches/requests/{request.id}/accept", {"accept-message": ""}).status_code == 404
        assert post(client, f"/matches/requests/{request.id}/decline", {"decline-message": ""}).status_code == 404
    db.session.refresh(request)
    assert request.status == RequestStatus.OPEN


def test_a_stranger_sees_nothing_of_another_persons_request(client, cycle):
    asha = mentor(cycle)
    request = _request(client, cycle, asha, mentee(cycle))
    login_as(client, make_user(team="Support"))
    assert client.get(f"/matches/requests/{request.id}").status_code == 404
    assert "negotiating" not in client.get("/matches/requests").get_data(as_text=True)


def test_capacity_holds_on_the_last_seat(client, cycle):
    asha = mentor(cycle, capacity=1)
    first = _request(client, cycle, asha, mentee(cycle))
    second = _request(client, cycle, asha, mentee(cycle, team="Sales"))
    login_as(client, asha)
    assert post(client, f"/matches/requests/{first.id}/accept", {"accept-message": ""}).status_code == 303
    response = post(client, f"/matches/requests/{second.id}/accept", {"accept-message": ""})
    assert response.status_code == 409
    assert "no room left" in response.get_data(as_text=True)
    assert len(db.session.scalars(select(Pairing).where(Pairing.mentor_id == asha.id)).all()) == 1


def test_declining_sends_a_kind_default_seen_only_by_the_mentee(client, cycle):
    asha = mentor(cycle, name="Asha Rao")
    me = mentee(cycle)
    request = _request(client, cycle, asha, me)
    login_as(client, asha)
    page = client.get(f"/matches/requests/{request.id}").get_data(as_text=True)
    assert "not about you" in page  # the ready default
    assert post(client, f"/matches/requests/{request.id}/decline", {"decline-message": ""}).status_code == 303
    db.session.refresh(request)
    assert request.status == RequestStatus.DECLINED and "not about you" in request.response
    assert any("answered your request" in n for n in notes_for(me))
    login_as(client, me)
    # The mentor who declined is not suggested again in this cycle.
    assert f"/matches/mentors/{asha.id}/request" not in client.get("/matches/").get_data(as_text=True)
    login_as(client, make_user(role=Role.DIRECTOR, team="People"))
    assert client.get(f"/matches/requests/{request.id}").status_code == 404


def test_a_decline_message_over_the_limit_is_refused_and_kept(client, cycle):
    asha = mentor(cycle)
    request = _request(client, cycle, asha, mentee(cycle))
    login_as(client, asha)
    response = post(client, f"/matches/requests/{request.id}/decline", {"decline-message": "y" * 801})
    assert response.status_code == 422
    assert "y" * 801 in response.get_data(as_text=True)


def test_answering_a_closed_request_is_refused(client, cycle):
    asha = mentor(cycle)
    request = _request(client, cycle, asha, mentee(cycle))
    login_as(client, asha)
    post(client, f"/matches/requests/{request.id}/decline", {"decline-message": ""})
    response = post(client, f"/matches/requests/{request.id}/accept", {"accept-message": ""})
    assert response.status_code == 409
    assert "no longer open" in response.get_data(as_text=True)


def test_a_mentee_can_withdraw_and_the_mentor_is_told(client, cycle):
    asha = mentor(cycle)
    me = mentee(cycle)
    request = _request(client, cycle, asha, me)
    assert post(client, f"/matches/requests/{request.id}/withdraw").status_code == 303
    db.session.refresh(request)
    assert request.status == RequestStatus.WITHDRAWN
    assert any("withdrawn their request" in n for n in notes_for(asha))


def test_unanswered_requests_expire_lazily_and_kindly(client, cycle):
    asha = mentor(cycle, name="Asha Rao")
    me = mentee(cycle)
    request = _request(client, cycle, asha, me)
    request.created_at = utcnow() - timedelta(days=8)
    request.expires_at = utcnow() - timedelta(days=1)
    db.session.commit()
    login_as(client, asha)
    assert "negotiating" not in client.get("/matches/requests").get_data(as_text=True)
    db.session.refresh(request)
    assert request.status == RequestStatus.EXPIRED
    assert any("had no answer within 7 days" in n and "says nothing about you" in n for n in notes_for(me))


def test_the_expiry_command_closes_due_requests(app, client, cycle):
    asha = mentor(cycle)
    request = _request(client, cycle, asha, mentee(cycle))
    request.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["expire-requests"])
    assert "1 unanswered requests closed." in result.output
    db.session.refresh(request)
    assert request.status == RequestStatus.EXPIRED


def test_the_matches_page_takes_a_fixed_number_of_queries(client, cycle):

    me = mentee(cycle)
    login_as(client, me)
    mentor(cycle)
    client.get("/matches/")
    with count_queries() as few_cached:
        client.get("/matches/")
    forget_all()  # here and in the store the processes share: the next request builds the index
    with count_queries() as few_rebuilt:
        client.get("/matches/")
    for n in range(12):
        mentor(cycle, team=f"Team {n}")
    forget_all()  # here and in the store the processes share: the next request builds the index
    with count_queries() as many_rebuilt:
        client.get("/matches/")
    with count_queries() as many_cached:
        client.get("/matches/")
    assert many_rebuilt[0] == few_rebuilt[0]
    assert many_cached[0] == few_cached[0] < few_rebuilt[0]


def test_after_one_mentor_changes_only_their_answers_are_read_again(client, cycle, monkeypatch):
    from portal.matches import cohort

    forget_all()  # here and in the store the processes share: the next request builds the index
    others = [mentor(cycle, team=f"Team {n}", name=f"Other {n}") for n in range(4)]
    asha = mentor(cycle, name="Asha Rao", values=["craft"], skills_offer=["delegation"])
    me = mentee(cycle)
    login_as(client, me)
    client.get("/matches/")
    read: list[list[int]] = []
    real_people = cohort.people

    def recording(ids):
        ids = sorted(set(ids))
        read.append(ids)
        return real_people(ids)

    monkeypatch.setattr(cohort, "people", recording)
    answer(asha, values=["curiosity"], skills_offer=["negotiation"])

    page = client.get("/matches/").get_data(as_text=True)

    # The mentee's own answers are read for every page; of the mentors, Asha alone.
    mentors_read = [i for ids in read for i in ids if i != me.id]
    assert mentors_read == [asha.id]
    assert "Asha offers negotiation, which you want to grow" in page
    # Nothing changed since: no mentor is read at all.
    client.get("/matches/")
    assert [i for ids in read for i in ids if i != me.id] == [asha.id]
    assert len(others) == 4


def _listed(client, me) -> str:
    """The mentee's "Mentors who fit you" page, as they would see it next."""
    login_as(client, me)
    return client.get("/matches/").get_data(as_text=True)


def _enrol_again(client, user, cycle, **fields):
    login_as(client, user)
    data = {"role": "mentor", "capacity": "2", **fields}
    assert post(client, f"/programs/{cycle.id}/enrol", data).status_code == 303


def _move_team(user, team):
    user.team = get_or_create_team(team)  # as a roster import does
    db.session.commit()


def _end(pairing):
    pairing.status = PairingStatus.ENDED
    db.session.commit()


# What a mentor does, and whether the mentee sees her afterwards. Each starts from a warm index with Asha as
# she was: capacity 2 unless "capacity" says otherwise, one mentee already when "mentee" is set (so listed
# unless that filled her).
MENTOR_CHANGES = {
    "lowers her capacity to the mentees she has": (
        {"mentee": True},
        lambda client, cycle, asha, pairing: _enrol_again(client, asha, cycle, capacity="1"),
        False,
    ),
    "pauses new requests": (
        {},
        lambda client, cycle, asha, pairing: _enrol_again(client, asha, cycle, paused="y"),
        False,
    ),
    "moves into the mentee's team": ({}, lambda client, cycle, asha, pairing: _move_team(asha, "Data"), False),
    "takes her last mentee": (
        {"capacity": 1},
        lambda client, cycle, asha, pairing: make_pairing(cycle=cycle, mentor=asha),
        False,
    ),
    "becomes a mentee instead": (
        {},
        lambda client, cycle, asha, pairing: _enrol_again(client, asha, cycle, role="mentee"),
        False,
    ),
    "raises her capacity": (
        {"mentee": True, "capacity": 1},
        lambda client, cycle, asha, pairing: _enrol_again(client, asha, cycle, capacity="2"),
        True,
    ),
    "sees her pairing end": ({"mentee": True, "capacity": 1}, lambda client, cycle, asha, pairing: _end(pairing), True),
}


@pytest.mark.parametrize("change", MENTOR_CHANGES, ids=list(MENTOR_CHANGES))
def test_mentors_who_fit_you_shows_a_mentors_change_on_the_next_visit(client, cycle, change):
    setup, act, listed_after = MENTOR_CHANGES[change]
    others = [mentor(cycle, team=f"Team {n}", name=f"Other {n}") for n in range(3)]
    asha = mentor(cycle, name="Asha Rao", capacity=setup.get("capacity", 2))
    pairing = make_pairing(cycle=cycle, mentor=asha) if setup.get("mentee") else None
    me = mentee(cycle)
    assert ("Asha Rao" in _listed(client, me)) is not listed_after  # the index is warm, with Asha as she was
    act(client, cycle, asha, pairing)
    page = _listed(client, me)
    assert ("Asha Rao" in page) is listed_after
    assert all(other.display_name in page for other in others)


def test_mentors_who_fit_you_shows_a_mentors_new_answer_on_the_next_visit(client, cycle):
    asha = mentor(cycle, name="Asha Rao", values=["craft"], skills_offer=["negotiation"])
    me = mentee(cycle)
    assert "Asha offers negotiation, which you want to grow" in _listed(client, me)
    answer(asha, skills_offer=["delegation"])
    page = _listed(client, me)
    assert "Asha Rao" in page
    assert "Asha offers negotiation" not in page


def test_mentors_who_fit_you_uses_a_mentors_new_name_in_the_reasons_on_the_next_visit(client, cycle):
    asha = mentor(cycle, name="Asha Rao", values=["craft"], skills_offer=["negotiation"])
    me = mentee(cycle)
    assert "Asha offers negotiation" in _listed(client, me)
    asha.display_name = "Priya Rao"
    db.session.commit()
    page = _listed(client, me)
    assert "Priya offers negotiation" in page
    assert "Asha offers" not in page


@pytest.mark.parametrize("side", ["manager", "report"])
def test_a_mentor_in_the_index_is_never_offered_to_their_manager_or_report(client, cycle, side):
    from portal.matches import cohort

    boss = mentor(cycle, name="Boss Person", team="Design", values=["craft"], skills_offer=["negotiation"])
    other = mentor(cycle, name="Other Mentor", team="Sales")
    me = mentee(cycle, values=["craft"], skills_grow=["negotiation"])
    manager, report = (boss, me) if side == "manager" else (me, boss)
    assert "Boss Person" in _listed(client, me)
    make_roster_entry(email=manager.email, name="Manager", team="Design")
    make_roster_entry(email=report.email, name="Report", team="Data", manager_email=manager.email)
    forget_all()  # the roster's stamp rebuilds it too; here the build itself is what is tested
    persons = {slot.person.id: slot.person for slot in cohort.mentor_index(cycle).slots}
    assert persons[boss.id].excluded == {me.id}
    assert persons[other.id].excluded == frozenset()
    page = _listed(client, me)
    assert "Boss Person" not in page
    assert "Other Mentor" in page


def test_a_roster_change_is_followed_in_the_mentor_index_without_a_rebuild(client, cycle):
    from portal.matches import cohort

    boss = mentor(cycle, name="Boss Person", team="Design", values=["craft"], skills_offer=["negotiation"])
    other = mentor(cycle, name="Other Mentor", team="Sales")
    me = mentee(cycle, values=["craft"], skills_grow=["negotiation"])
    assert "Boss Person" in _listed(client, me)
    built_at = cohort._INDEX_CACHE[cycle.id].built_at
    make_roster_entry(email=boss.email, name="Boss", team="Design")
    make_roster_entry(email=me.email, name="Me", team="Data", manager_email=boss.email)

    persons = {slot.person.id: slot.person for slot in cohort.mentor_index(cycle).slots}

    assert persons[boss.id].excluded == {me.id}
    assert persons[other.id].excluded == frozenset()
    assert cohort._INDEX_CACHE[cycle.id].built_at == built_at  # followed, not built again
    page = _listed(client, me)
    assert "Boss Person" not in page
    assert "Other Mentor" in page


def test_the_mentor_index_scores_and_explains_its_mentors_as_their_whole_answers_do(client, cycle):
    # The index reads only a mentor's answers that matching reads of a mentor; the mentors here answer every
    # question, so a score or a reason that came to depend on another one would differ.
    from portal.matches import cohort
    from portal.matching import MentorIndex, MentorSlot, recommend

    whole = {"skills_grow": ["delegation"], "start": ["written_intro"], "perspective": ["different"]}
    mentors = [
        mentor(cycle, team="Design", values=["craft"], skills_offer=["negotiation"], formats=["written"], **whole),
        mentor(cycle, team="Sales", values=["curiosity"], experiences=["career_change"], time=["1h"], **whole),
        mentor(cycle, team="Support", interests=["writing"], skills_offer=["delegation"], start=["short_call"]),
    ]
    mentees = [
        mentee(cycle, values=["craft"], skills_grow=["negotiation"], perspective=["different"]),
        mentee(cycle, values=["curiosity"], start=["written_intro"], formats=["written"], perspective=["like_me"]),
        mentee(cycle, experiences=["career_change"], time=["1h"], skills_grow=["delegation"]),
    ]
    people = cohort.people(user.id for user in mentors)
    index = cohort.mentor_index(cycle)
    full = MentorIndex([MentorSlot(person=people[user.id], free_slots=2, paused=False) for user in mentors])
    weights, labels = cohort.weights_for(cycle), cohort.labels()
    for user in mentees:
        me = cohort.people([user.id])[user.id]
        found = recommend(me, index, weights=weights, labels=labels, limit=10)
        assert found == recommend(me, full, weights=weights, labels=labels, limit=10)
        assert found


def test_the_people_read_for_matching_hold_every_answer_and_the_roster_links(client, cycle):
    from portal.matches import cohort

    lead = make_user(email="lead@example.com")
    asha = make_user(email="asha@example.com", display_name="Asha Rao", team="Design")
    answer(asha, values=["craft", "kindness"], skills_offer=["negotiation", "delegation"], time=["1h"])
    quiet = make_user(email="quiet@example.com", display_name="Quiet One", team="Data")
    make_roster_entry(email="lead@example.com", name="Lead", team="Design")
    make_roster_entry(email="asha@example.com", name="Asha", team="Design", manager_email="lead@example.com")
    make_roster_entry(email="quiet@example.com", name="Quiet", team="Data", manager_email="asha@example.com")

    found = cohort.people([asha.id, quiet.id, lead.id])

    assert found[asha.id].name == "Asha Rao"
    assert found[asha.id].team_id == asha.team_id
    assert found[asha.id].values == {"craft", "kindness"}
    assert found[asha.id].skills_offer == {"negotiation", "delegation"}
    assert found[asha.id].time == "1h"
    assert found[asha.id].excluded == {lead.id, quiet.id}
    assert found[quiet.id].values == frozenset() and found[quiet.id].time is None
    assert found[quiet.id].excluded == {asha.id}
    assert found[lead.id].excluded == {asha.id}


def test_mentors_who_fit_you_shows_a_new_mentor_on_the_next_visit(client, cycle):
    mentor(cycle, name="Asha Rao")
    me = mentee(cycle)
    assert "Ben Okafor" not in _listed(client, me)
    mentor(cycle, name="Ben Okafor", team="Sales")
    assert "Ben Okafor" in _listed(client, me)


def test_an_answer_saved_before_the_index_was_read_and_committed_after_is_not_missed(app, client, cycle):
    # On PostgreSQL a transaction can commit after a reader looked, with an updated_at from before it: here the
    # step is saved with a time well before the index was last read, as a slow request would.
    from portal.matches import cohort
    from portal.onboarding.questions import QUESTION_BY_KEY
    from portal.onboarding.services import save_answer

    asha = mentor(cycle, name="Asha Rao", values=["craft"], skills_offer=["negotiation"])
    me = mentee(cycle)
    assert "Asha offers negotiation" in _listed(client, me)
    late = utcnow() - cohort.ANSWERS_MARGIN * 0.9
    save_answer(asha, QUESTION_BY_KEY["skills_offer"], values=["delegation"])
    step = db.session.get(ProfileStep, (asha.id, "skills_offer"))
    step.updated_at = late
    db.session.commit()
    assert "Asha offers negotiation" not in _listed(client, me)


def _pause_behind_the_stamps(user) -> None:
    """Pause the mentor as psql or a restored backup would: the enrolment changes and its stamp does not."""
    version = db.session.execute(text("SELECT version FROM data_stamps WHERE name = 'enrolments'")).scalar()
    db.session.execute(text("UPDATE enrolments SET paused = :yes WHERE user_id = :id"), {"yes": True, "id": user.id})
    db.session.commit()
    db.session.execute(text("UPDATE data_stamps SET version = :v WHERE name = 'enrolments'"), {"v": version})
    db.session.commit()


def test_a_change_the_stamps_cannot_see_shows_after_the_rebuild_interval(client, cycle, monkeypatch):
    from portal.matches import cohort

    asha = mentor(cycle, name="Asha Rao")
    me = mentee(cycle)
    assert "Asha Rao" in _listed(client, me)
    _pause_behind_the_stamps(asha)
    assert "Asha Rao" in _listed(client, me)  # kept, as the stamps say
    # Ten minutes on, for this process's index and for the build it shared with the others.
    later, later_wall = time.monotonic() + cohort.REBUILD_SECONDS + 1, time.time() + cohort.REBUILD_SECONDS + 1
    monkeypatch.setattr(time, "monotonic", lambda: later)
    monkeypatch.setattr(time, "time", lambda: later_wall)
    assert "Asha Rao" not in _listed(client, me)


def test_a_restarted_process_follows_the_mentor_index_another_process_built_and_reads_no_answers(app, client, cycle):
    from portal.matches import cohort

    for n in range(12):
        mentor(cycle, team=f"Team {n}")
    asha = mentor(cycle, name="Asha Rao")
    _listed(client, mentee(cycle))  # built here, and kept for the other processes
    forget_here()  # as a restart, or another worker
    db.session.refresh(cycle)
    with count_queries() as counted:
        slots = cohort.mentor_index(cycle).slots
    assert counted[0] == 1  # the stamps: nothing was read again
    assert asha.id in {slot.person.id for slot in slots} and len(slots) == 13
    app.extensions["kept_store"].clear()
    with count_queries() as counted:
        cohort.mentor_index(cycle)
    assert counted[0] == 1  # kept here since: the store is not asked again


def test_a_restarted_process_follows_the_shared_mentor_index_past_a_later_change(client, cycle):
    asha = mentor(cycle, name="Asha Rao")
    mentor(cycle, name="Ben Okafor", team="Sales")
    me = mentee(cycle)
    assert "Asha Rao" in _listed(client, me)
    _enrol_again(client, asha, cycle, paused="1")  # committed after the shared build
    forget_here()
    page = _listed(client, me)
    assert "Asha Rao" not in page and "Ben Okafor" in page


def test_a_shared_mentor_index_is_built_again_ten_minutes_after_its_build_not_after_its_loading(cycle, monkeypatch):
    from portal.matches import cohort

    asha = mentor(cycle, name="Asha Rao")
    mentee(cycle)

    def listed() -> bool:
        db.session.refresh(cycle)
        return asha.id in {slot.person.id for slot in cohort.mentor_index(cycle).slots}

    assert listed()  # built, and shared
    clocks = {"monotonic": time.monotonic(), "time": time.time()}

    def move_on(seconds):
        for name, start in clocks.items():
            monkeypatch.setattr(time, name, lambda start=start: start + seconds)

    move_on(540)  # nine minutes after the build, another process loads it
    forget_here()
    assert listed()
    _pause_behind_the_stamps(asha)
    move_on(660)  # eleven minutes after the build, two after the loading
    assert not listed()


def test_the_recount_job_builds_the_mentor_index_afresh_for_every_process(client, cycle):
    asha = mentor(cycle, name="Asha Rao")
    me = mentee(cycle)
    assert "Asha Rao" in _listed(client, me)
    _pause_behind_the_stamps(asha)
    assert "Asha Rao" in _listed(client, me)
    assert queue.recount_kept.call_local()[1] == 1
    assert "Asha Rao" not in _listed(client, me)
    forget_here()  # and the other processes follow the job's build
    assert "Asha Rao" not in _listed(client, me)


def test_a_request_sees_its_own_change_to_a_mentor_and_keeps_nothing_of_it(client, cycle):
    from portal.matches import cohort

    asha = mentor(cycle, name="Asha Rao")
    me = mentee(cycle)
    assert [slot.person.id for slot in cohort.mentor_index(cycle).slots] == [asha.id]
    enrolment = db.session.scalar(select(Enrolment).where(Enrolment.user_id == asha.id))
    enrolment.paused = True
    db.session.flush()  # written, not committed: no stamp stands for it yet
    assert len(cohort.mentor_index(cycle)) == 0
    db.session.rollback()
    # A request's rollback ends its connection's transaction and forgets what it wrote; the tests' savepoint
    # rollback keeps the written tables in mind, which would hide a paused Asha kept by mistake.
    Kept.tables_written_here(db.session.connection()).clear()
    assert "Asha Rao" in _listed(client, me)


def test_the_mentor_index_reads_one_stamp_when_warm_and_only_the_changed_mentor_after_a_change(client, cycle):
    from portal.matches import cohort

    for n in range(12):
        mentor(cycle, team=f"Team {n}")
    asha = mentor(cycle, name="Asha Rao", capacity=3)
    me, ben = mentee(cycle), mentee(cycle, team="Sales")
    _listed(client, me)
    login_as(client, asha)  # the mentor changes things through the pages; the counts are the index's own

    def queries() -> int:
        db.session.refresh(cycle)  # as the page has it loaded before it asks for the index
        with count_queries() as counted:
            cohort.mentor_index(cycle)
        return counted[0]

    assert queries() == 1  # warm: the stamps
    _enrol_again(client, asha, cycle, capacity="2")
    assert queries() == 4  # the stamps, every mentor's enrolment and team; Asha's answers (two)
    answer(asha, values=["kindness"])
    assert queries() == 4  # the stamps, the recent steps; Asha's answers
    make_pairing(cycle=cycle, mentor=asha, mentee=ben)
    assert queries() == 4  # the stamps, the active mentees per mentor; Asha's answers
    assert queries() == 1


# The director's "Match the rest".


def director(client):
    user = make_user(role=Role.DIRECTOR, team="People")
    login_as(client, user)
    return user


def run_matching(client, cycle):
    response = post(client, f"/matches/cycles/{cycle.id}/runs")
    assert response.status_code == 303
    run = db.session.scalars(select(MatchingRun).order_by(MatchingRun.id.desc())).first()
    assert run.status == RunStatus.READY
    return run


def test_the_director_matches_the_rest_reviews_and_publishes(client, cycle):
    mentor(cycle, name="Asha Rao", capacity=1)
    ben = mentor(cycle, team="Sales", name="Ben Okafor", capacity=1)
    a, b = mentee(cycle, team="Data"), mentee(cycle, team="Finance")
    lonely = mentee(cycle, team="Sales")
    waiting = mentee(cycle, team="Support")
    login_as(client, waiting)
    ask(client, ben.id)
    director(client)
    run = run_matching(client, cycle)
    page = client.get(f"/matches/runs/{run.id}").get_data(as_text=True)
    assert "Proposed pairs" in page and "Left unmatched" in page
    assert "Waiting for an answer to a request they sent themselves" in page
    pairs = db.session.scalars(select(ProposedPair).where(ProposedPair.run_id == run.id)).all()
    assert {p.mentee_id for p in pairs} <= {a.id, b.id, lonely.id}
    assert len(pairs) == 2
    unmatched_ids = {item["mentee_id"] for item in run.unmatched}
    assert waiting.id in unmatched_ids
    dropped = pairs[0]
    assert post(client, f"/matches/runs/{run.id}/pairs/{dropped.id}/drop", {"dropped": "1"}).status_code == 303
    response = post(client, f"/matches/runs/{run.id}/publish")
    assert response.status_code == 303
    pairings = db.session.scalars(select(Pairing).where(Pairing.source == "director")).all()
    assert [(p.mentee_id, p.mentor_id) for p in pairings] == [(pairs[1].mentee_id, pairs[1].mentor_id)]
    kept = pairs[1]
    assert any("program director has matched you" in n for n in notes_for(db.session.get(type(a), kept.mentee_id)))
    assert any("as their mentor" in n for n in notes_for(db.session.get(type(a), kept.mentor_id)))
    assert post(client, f"/matches/runs/{run.id}/publish").status_code == 409  # only once


def test_swapping_two_proposed_pairs_respects_teams(client, cycle):
    asha = mentor(cycle, team="Design", capacity=1)
    ben = mentor(cycle, team="Sales", capacity=1)
    mentee(cycle, team="Data")
    mentee(cycle, team="Finance")
    director(client)
    run = run_matching(client, cycle)
    first, second = db.session.scalars(select(ProposedPair).where(ProposedPair.run_id == run.id)).all()
    before = {first.id: first.mentor_id, second.id: second.mentor_id}
    response = post(client, f"/matches/runs/{run.id}/swap", {"first": first.id, "second": second.id})
    assert response.status_code == 303
    db.session.refresh(first)
    db.session.refresh(second)
    assert first.mentor_id == before[second.id] and second.mentor_id == before[first.id]
    assert {asha.id, ben.id} == {first.mentor_id, second.mentor_id}


def test_a_swap_into_the_same_team_is_refused(client, cycle):
    mentor(cycle, team="Design", capacity=1)
    mentor(cycle, team="Sales", capacity=1)
    mentee(cycle, team="Sales")
    mentee(cycle, team="Design")
    director(client)
    run = run_matching(client, cycle)
    first, second = db.session.scalars(select(ProposedPair).where(ProposedPair.run_id == run.id)).all()
    response = post(client, f"/matches/runs/{run.id}/swap", {"first": first.id, "second": second.id})
    assert response.status_code == 409
    assert "cannot be paired" in response.get_data(as_text=True)


def test_only_the_director_runs_and_publishes(client, cycle):
    mentor(cycle)
    mentee(cycle)
    login_as(client, make_user())
    assert post(client, f"/matches/cycles/{cycle.id}/runs").status_code == 403
    director_user = make_user(role=Role.DIRECTOR, team="People")
    run = MatchingRun(cycle_id=cycle.id, created_by_id=director_user.id, status=RunStatus.READY)
    db.session.add(run)
    db.session.commit()
    assert client.get(f"/matches/runs/{run.id}").status_code == 403
    assert post(client, f"/matches/runs/{run.id}/publish").status_code == 403
    assert db.session.get(MatchingRun, run.id).status == RunStatus.READY


def test_a_run_page_lists_its_unmatched_mentees_past_what_one_statement_can_carry(client, cycle):
    # PostgreSQL takes at most 65,535 parameters in a statement: a run that left more mentees unmatched than
    # that (ids of people since removed included) still shows the ones who are there.
    left = mentee(cycle)
    left.display_name = "Left Over"
    user = director(client)
    unmatched = [{"mentee_id": n, "reason": "No mentor fits well yet"} for n in range(left.id + 1, left.id + 70_001)]
    run = MatchingRun(cycle_id=cycle.id, created_by_id=user.id, status=RunStatus.READY,
                      unmatched=[{"mentee_id": left.id, "reason": "No mentor fits well yet"}, *unmatched])  # fmt: skip
    db.session.add(run)
    db.session.commit()

    response = client.get(f"/matches/runs/{run.id}")

    assert response.status_code == 200
    assert "Left Over" in response.get_data(as_text=True)


def test_the_people_read_for_matching_may_outnumber_what_one_statement_can_carry(client, cycle):
    from portal.matches import cohort

    asha = make_user(email="asha@example.com", display_name="Asha Rao")
    answer(asha, values=["craft"])
    others = range(asha.id + 1, asha.id + 70_001)  # never enrolled: read as nobody

    found = cohort.people([*others, asha.id])

    assert list(found) == [asha.id]
    assert found[asha.id].values == {"craft"}


def test_a_run_page_polls_while_running(client, cycle):
    user = director(client)
    run = MatchingRun(cycle_id=cycle.id, created_by_id=user.id, status=RunStatus.RUNNING, progress=0.4)
    db.session.add(run)
    db.session.commit()
    page = client.get(f"/matches/runs/{run.id}").get_data(as_text=True)
    assert "<progress" in page and 'hx-trigger="every 1s"' in page and "Check progress" in page
    fragment = client.get(f"/matches/runs/{run.id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and "40%" in fragment


def test_publishing_skips_a_mentee_who_found_a_mentor_meanwhile(client, cycle):
    asha = mentor(cycle, capacity=2)
    me = mentee(cycle)
    director(client)
    run = run_matching(client, cycle)
    db.session.add(
        Pairing(
            cycle_id=cycle.id,
            mentor_id=asha.id,
            mentee_id=me.id,
            source="request",
            status=PairingStatus.ACTIVE,
        )
    )
    db.session.commit()
    post(client, f"/matches/runs/{run.id}/publish")
    assert len(db.session.scalars(select(Pairing).where(Pairing.mentee_id == me.id)).all()) == 1


def test_reasons_speak_to_whoever_reads_them(client, cycle):
    asha = mentor(cycle, name="Asha Rao")
    me = mentee(cycle)
    request = _request(client, cycle, asha, me)
    login_as(client, asha)
    page = client.get(f"/matches/requests/{request.id}").get_data(as_text=True)
    assert "wants to grow negotiation, which you offer" in page
    assert "which you want to grow" not in page
    post(client, f"/matches/requests/{request.id}/accept", {"accept-message": ""})
    home = client.get("/").get_data(as_text=True)
    assert "wants to grow negotiation, which you offer" in home
    login_as(client, me)
    assert "Asha offers negotiation, which you want to grow" in client.get("/").get_data(as_text=True)


def test_recommendations_follow_changes_to_mentors_at_once(client, cycle):
    asha = mentor(cycle, name="Asha Rao")
    me = mentee(cycle)
    login_as(client, me)
    assert "Asha Rao" in client.get("/matches/").get_data(as_text=True)
    # A new answer of the mentor changes the reasons shown.
    answer(asha, interests=["design"])
    answer(me, interests=["design"])
    assert "You share an interest in design" in client.get("/matches/").get_data(as_text=True)
    # Pausing takes the mentor out of the list straight away.
    login_as(client, asha)
    post(client, "/programs/enrol", {"role": "mentor", "capacity": "2", "paused": "y"})
    login_as(client, me)
    assert "Asha Rao" not in client.get("/matches/").get_data(as_text=True)


# "Match the rest" with the cycle's minimum score.


def test_a_weak_pair_is_not_proposed_and_the_mentee_is_told_why(client):
    cycle = make_cycle(min_score=30)
    mentor(cycle, name="Asha Rao", capacity=2)
    fits = mentee(cycle, team="Data")
    weak = mentee(cycle, team="Finance", values=["kindness"], skills_grow=["delegation"])
    weak.display_name = "Wen Weak"
    db.session.commit()
    director(client)

    run = run_matching(client, cycle)

    proposed = db.session.scalars(select(ProposedPair).where(ProposedPair.run_id == run.id)).all()
    assert [p.mentee_id for p in proposed] == [fits.id]
    assert run.min_score == 30
    assert {"mentee_id": weak.id, "reason": "No mentor fits well yet"} in run.unmatched
    page = client.get(f"/matches/runs/{run.id}").get_data(as_text=True)
    assert "Wen Weak" in page and "No mentor fits well yet" in page


def test_with_no_floor_the_same_weak_pair_is_proposed(client):
    cycle = make_cycle(min_score=0)
    mentor(cycle, capacity=2)
    weak = mentee(cycle, team="Finance", values=["kindness"], skills_grow=["delegation"])
    director(client)

    run = run_matching(client, cycle)

    proposed = db.session.scalars(select(ProposedPair).where(ProposedPair.run_id == run.id)).all()
    assert [p.mentee_id for p in proposed] == [weak.id]
    assert proposed[0].score < 30


def test_the_review_shows_names_not_pair_ids_and_flags_pairs_close_to_the_floor(client):
    cycle = make_cycle(min_score=55)
    mentor(cycle, name="Asha Rao", capacity=2)
    someone = mentee(cycle, team="Data")
    someone.display_name = "Dara Quinn"
    db.session.commit()
    director(client)
    run = run_matching(client, cycle)
    (pair,) = db.session.scalars(select(ProposedPair).where(ProposedPair.run_id == run.id)).all()
    assert 55 <= pair.score < 65

    page = client.get(f"/matches/runs/{run.id}").get_data(as_text=True)

    assert "Dara Quinn" in page and "Asha Rao" in page
    assert "Close to the lowest score" in page
    assert '<th scope="col">Pair</th>' not in page
    assert f"<td>{pair.id}</td>" not in page
    assert "Publish these pairs" in page


def test_a_pair_well_above_the_floor_is_not_flagged(client):
    cycle = make_cycle(min_score=30)
    mentor(cycle, capacity=2)
    mentee(cycle, team="Data")
    director(client)
    run = run_matching(client, cycle)

    page = client.get(f"/matches/runs/{run.id}").get_data(as_text=True)

    assert "Proposed pairs" in page and "Close to the lowest score" not in page


def test_the_swap_choices_name_people_not_pair_ids(client, cycle):
    mentor(cycle, team="Design", capacity=1, name="Asha Rao")
    mentor(cycle, team="Sales", capacity=1, name="Ben Okafor")
    mentee(cycle, team="Data")
    mentee(cycle, team="Finance")
    director(client)
    run = run_matching(client, cycle)
    pairs = db.session.scalars(select(ProposedPair).where(ProposedPair.run_id == run.id)).all()

    page = client.get(f"/matches/runs/{run.id}").get_data(as_text=True)

    for pair in pairs:
        mentee_name, mentor_name = (db.session.get(User, i).display_name for i in (pair.mentee_id, pair.mentor_id))
        assert f">{pair.id}: " not in page
        assert f"{mentee_name} with {mentor_name}</option>" in page


def test_an_empty_proposal_says_so_and_offers_no_publish(client):
    cycle = make_cycle(min_score=90)
    mentor(cycle, capacity=2)
    mentee(cycle, team="Data")
    director(client)
    run = run_matching(client, cycle)
    assert db.session.scalars(select(ProposedPair).where(ProposedPair.run_id == run.id)).all() == []

    page = client.get(f"/matches/runs/{run.id}").get_data(as_text=True)

    assert "This proposal is empty" in page and "nothing to publish" in page
    assert "Publish these pairs" not in page
    assert f"/matches/runs/{run.id}/publish" not in page
    assert "No mentor fits well yet" in page
    refused = post(client, f"/matches/runs/{run.id}/publish")
    assert refused.status_code == 409
    assert "There are no pairs to publish" in refused.get_data(as_text=True)
    assert db.session.get(MatchingRun, run.id).status == RunStatus.READY


def test_a_proposal_with_every_pair_dropped_offers_no_publish(client, cycle):
    mentor(cycle, capacity=1)
    mentee(cycle, team="Data")
    director(client)
    run = run_matching(client, cycle)
    (pair,) = db.session.scalars(select(ProposedPair).where(ProposedPair.run_id == run.id)).all()
    post(client, f"/matches/runs/{run.id}/pairs/{pair.id}/drop", {"dropped": "1"})

    page = client.get(f"/matches/runs/{run.id}").get_data(as_text=True)

    assert "Publish these pairs" not in page
    assert post(client, f"/matches/runs/{run.id}/publish").status_code == 409


def test_the_run_service_keeps_the_floor_it_used_and_refuses_to_publish_nothing(cycle):
    from portal.errors import NotAllowed as AnyNotAllowed
    from portal.matches import runs

    cycle.min_score = 95
    db.session.commit()
    mentor(cycle, capacity=1)
    mentee(cycle, team="Data")
    run = runs.start_run(cycle, make_user(role=Role.DIRECTOR))
    db.session.commit()

    runs.compute_run(run.id)

    run = db.session.get(MatchingRun, run.id)
    assert run.status == RunStatus.READY and run.min_score == 95
    assert [item["reason"] for item in run.unmatched] == ["No mentor fits well yet"]
    with pytest.raises((AnyNotAllowed, runs.Conflict)):
        runs.publish_run(run, now=utcnow())
    pair = ProposedPair(run_id=run.id, mentee_id=1, mentor_id=2, score=run.min_score + 9)
    assert runs.close_to_floor(run, pair)
    pair.score = run.min_score + 10
    assert not runs.close_to_floor(run, pair)
