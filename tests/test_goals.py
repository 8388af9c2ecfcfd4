"""Goals: the mentee drives SMART goals, milestones show progress, the mentor comments; objectives."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.clock import today
from portal.extensions import db
from portal.goals.services import GoalInput, StaleVersion, create_goal, goal_views, update_goal
from portal.models import Goal, GoalComment, GoalStatus, Milestone, Objective, ObjectiveLevel, Pairing, Role
from tests.conftest import count_queries, login_as, post
from tests.factories import make_cycle, make_user


@pytest.fixture
def pair():
    cycle = make_cycle()
    mentor = make_user(team="Design", display_name="Asha Rao")
    mentee = make_user(team="Data", display_name="Priya Shah")
    pairing = Pairing(cycle_id=cycle.id, mentor_id=mentor.id, mentee_id=mentee.id, source="request")
    db.session.add(pairing)
    db.session.commit()
    return pairing, mentor, mentee, cycle


def goal_form(**overrides):
    data = {
        "title": "Run calmer negotiations",
        "outcome": "Vendor negotiations end with an agreement both sides feel good about.",
        "measure": "After each negotiation I note whether I kept my opening position calmly.",
        "target": "3 of the next 4 negotiations",
        "due_on": (today() + timedelta(days=60)).isoformat(),
        "project": "The Q3 cloud contract renewal",
        "skills": ["negotiation", "confidence"],
        "objective_id": "",
    }
    data.update(overrides)
    return data


def make_goal(pairing, mentee, **overrides):
    values = {
        "title": "Run calmer negotiations",
        "outcome": "Agreements both sides like.",
        "measure": "Notes after each negotiation.",
        "target": "3 of 4",
        "due_on": today() + timedelta(days=30),
        "project": "Cloud contract",
        "skills": ["negotiation"],
    }
    values.update(overrides)
    goal = create_goal(pairing, mentee, GoalInput(**values), today=today())
    db.session.commit()
    return goal


def test_the_mentee_sets_a_smart_goal_and_the_mentor_is_told(client, pair):
    pairing, mentor, mentee, _ = pair
    login_as(client, mentee)
    page = client.get(f"/goals/pairings/{pairing.id}/new").get_data(as_text=True)
    assert "How you will measure success" in page and "Soft skills grow best on real work" in page
    response = post(client, f"/goals/pairings/{pairing.id}/new", goal_form())
    assert response.status_code == 303
    goal = db.session.scalar(select(Goal).where(Goal.pairing_id == pairing.id))
    assert goal.title == "Run calmer negotiations" and goal.status == GoalStatus.ACTIVE
    page = client.get(f"/goals/pairings/{pairing.id}").get_data(as_text=True)
    assert "The Q3 cloud contract renewal" in page and "builds confidence, negotiation" in page
    assert "0% of the way" in page
    login_as(client, mentor)
    told = client.get("/notifications/").get_data(as_text=True)
    assert "Priya Shah set a new goal: \u201cRun calmer negotiations\u201d." in told
    assert f'href="/goals/{goal.id}"' in told


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"measure": "  "}, "measure", "how you will measure success"),
        ({"due_on": (today() - timedelta(days=1)).isoformat()}, "due_on", "from today on"),
        ({"due_on": (today() + timedelta(days=900)).isoformat()}, "due_on", "inside the cycle"),
        ({"skills": ["juggling"]}, "skills", "from the list shown"),
        ({"skills": []}, "skills", "at least one soft skill"),
        ({"skills": ["negotiation", "confidence", "delegation", "communication"]}, "skills", "up to 3"),
        ({"title": "x" * 121}, "title", "120 characters"),
        ({"objective_id": "99999"}, "objective_id", "Not a valid choice"),
    ],
)
def test_bad_input_is_refused_at_the_field_and_nothing_is_lost(client, pair, overrides, field, message):
    pairing, _, mentee, _ = pair
    login_as(client, mentee)
    response = post(client, f"/goals/pairings/{pairing.id}/new", goal_form(**overrides))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page
    assert message.lower() in page.lower()
    assert "The Q3 cloud contract renewal" in page  # what was typed is still there
    assert db.session.scalar(select(Goal)) is None


def test_the_mentor_cannot_set_or_edit_goals_but_can_comment_and_suggest(client, pair):
    pairing, mentor, mentee, _ = pair
    goal = make_goal(pairing, mentee)
    login_as(client, mentor)
    assert post(client, f"/goals/pairings/{pairing.id}/new", goal_form()).status_code == 403
    assert client.get(f"/goals/{goal.id}/edit").status_code == 403
    response = post(
        client, f"/goals/{goal.id}/comments", {"comment": "Try a smaller first step?", "is_suggestion": "y"}
    )
    assert response.status_code == 303
    comment = db.session.scalar(select(GoalComment))
    assert comment.is_suggestion and comment.author_id == mentor.id
    page = client.get(f"/goals/{goal.id}").get_data(as_text=True)
    assert "Asha Rao suggests" in page and "Try a smaller first step?" in page
    response = post(client, f"/goals/{goal.id}/status", {"status": "achieved", "reflection": ""})
    assert response.status_code == 403
    db.session.refresh(goal)
    assert goal.status == GoalStatus.ACTIVE


def test_a_stranger_and_the_director_get_404_for_a_pairs_goals(client, pair):
    pairing, _, mentee, _ = pair
    goal = make_goal(pairing, mentee)
    for person in [make_user(team="Sales"), make_user(role=Role.DIRECTOR, team="People")]:
        login_as(client, person)
        assert client.get(f"/goals/pairings/{pairing.id}").status_code == 404
        assert client.get(f"/goals/{goal.id}").status_code == 404
        assert post(client, f"/goals/{goal.id}/comments", {"comment": "hi"}).status_code == 404
        assert post(client, f"/goals/{goal.id}/milestones", {"milestone_title": "x"}).status_code == 404


def test_milestones_drive_progress_and_tick_in_place(client, pair):
    pairing, mentor, mentee, _ = pair
    goal = make_goal(pairing, mentee)
    login_as(client, mentee)
    for title in ["Prepare my opening position", "Role-play with Asha"]:
        assert post(client, f"/goals/{goal.id}/milestones", {"milestone_title": title}).status_code == 303
    first = db.session.scalar(select(Milestone).where(Milestone.title == "Prepare my opening position"))
    login_as(client, mentor)  # either partner may tick
    response = post(client, f"/goals/milestones/{first.id}/toggle", {"done": "1"}, htmx=True)
    assert response.status_code == 200
    fragment = response.get_data(as_text=True)
    assert "<html" not in fragment and f'id="goal-{goal.id}"' in fragment
    assert "50% of the way" in fragment and 'hx-swap-oob="innerHTML:#status"' in fragment
    assert "1 of 2 milestones done" in fragment
    post(client, f"/goals/milestones/{first.id}/toggle", {"done": "0"})
    assert "0% of the way" in client.get(f"/goals/{goal.id}").get_data(as_text=True)


def test_a_milestone_tick_says_the_state_it_wants_so_a_double_click_keeps_it(client, pair):
    pairing, _, mentee, _ = pair
    goal = make_goal(pairing, mentee)
    login_as(client, mentee)
    post(client, f"/goals/{goal.id}/milestones", {"milestone_title": "Prepare my opening position"})
    milestone = db.session.scalar(select(Milestone))
    page = client.get(f"/goals/{goal.id}").get_data(as_text=True)
    assert 'name="done" value="1"' in page
    for _ in range(2):  # a double click, or a retried request
        assert post(client, f"/goals/milestones/{milestone.id}/toggle", {"done": "1"}).status_code == 303
    assert "100% of the way" in client.get(f"/goals/{goal.id}").get_data(as_text=True)
    assert post(client, f"/goals/milestones/{milestone.id}/toggle", {}).status_code == 400


def test_a_tick_without_javascript_takes_a_fixed_few_queries_and_says_the_state_it_set(client, pair):
    pairing, _, mentee, _ = pair
    goal = make_goal(pairing, mentee)
    milestone = Milestone(goal_id=goal.id, title="Prepare my opening position", position=0)
    db.session.add(milestone)
    db.session.commit()
    milestone_id = milestone.id
    login_as(client, mentee)
    token = re.search(r'"X-CSRFToken": "([^"]+)"', client.get("/").get_data(as_text=True)).group(1)
    counts = []
    for done, words in (("1", "is done. Well done"), ("1", "is done. Well done"), ("0", "is open again")):
        with count_queries() as counted:
            response = client.post(f"/goals/milestones/{milestone_id}/toggle", data={"done": done, "csrf_token": token})
        assert response.status_code == 303
        assert words in client.get(response.headers["Location"]).get_data(as_text=True)
        counts.append(counted[0])
    # The first tick also offers the mentee a celebration. Otherwise: whether the pairing is running, the
    # person, the milestone with its goal, the pairing, and one UPDATE (which, sent twice, changes nothing).
    assert counts[0] > 5 and counts[1:] == [5, 5]


def test_a_milestone_needs_a_title_and_a_date_inside_the_cycle(client, pair):
    pairing, _, mentee, _ = pair
    goal = make_goal(pairing, mentee)
    login_as(client, mentee)
    response = post(client, f"/goals/{goal.id}/milestones", {"milestone_title": ""}, htmx=True)
    assert response.status_code == 422
    assert "Please name the step." in response.get_data(as_text=True)
    past = (today() - timedelta(days=3)).isoformat()
    response = post(client, f"/goals/{goal.id}/milestones", {"milestone_title": "Step", "milestone_due_on": past})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "from today on" in page and 'value="Step"' in page


def test_achieving_and_setting_aside_with_a_reflection(client, pair):
    pairing, _, mentee, _ = pair
    goal = make_goal(pairing, mentee)
    login_as(client, mentee)
    response = post(client, f"/goals/{goal.id}/status", {"status": "set_aside", "reflection": ""})
    assert response.status_code == 422
    assert "there is no failure" in response.get_data(as_text=True).lower() or "part of growing" in response.get_data(
        as_text=True
    )
    post(client, f"/goals/{goal.id}/status", {"status": "set_aside", "reflection": "The project moved to next year."})
    db.session.refresh(goal)
    assert goal.status == GoalStatus.SET_ASIDE and goal.reflection == "The project moved to next year."
    page = client.get(f"/goals/{goal.id}").get_data(as_text=True)
    assert "Set aside for now" in page and "fail" not in page.lower().replace("no failure", "")
    post(client, f"/goals/{goal.id}/status", {"status": "achieved", "reflection": ""})
    assert "100% of the way" in client.get(f"/goals/{goal.id}").get_data(as_text=True)


def test_editing_inline_and_a_stale_edit_is_shown_not_applied(client, pair):
    pairing, _, mentee, _ = pair
    goal = make_goal(pairing, mentee)
    login_as(client, mentee)
    fragment = client.get(f"/goals/{goal.id}/edit", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "<html" not in fragment and f'id="goal-{goal.id}"' in fragment and 'name="version" value="1"' in fragment
    response = post(client, f"/goals/{goal.id}/edit", goal_form(title="Negotiate calmly", version="1"), htmx=True)
    assert response.status_code == 200 and "Negotiate calmly" in response.get_data(as_text=True)
    # Someone working from the old version is shown the newer goal; their text is kept, nothing overwritten.
    response = post(client, f"/goals/{goal.id}/edit", goal_form(title="My older edit", version="1"))
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "This goal changed while you were editing" in page and "Negotiate calmly" in page
    assert 'value="My older edit"' in page and 'name="version" value="2"' in page
    db.session.refresh(goal)
    assert goal.title == "Negotiate calmly"


def test_the_edit_form_starts_from_the_goals_own_skills_and_a_save_replaces_them(client, pair):
    pairing, _, mentee, _ = pair
    goal = make_goal(pairing, mentee, skills=["negotiation", "confidence"])
    login_as(client, mentee)
    page = client.get(f"/goals/{goal.id}/edit").get_data(as_text=True)
    ticked = set(re.findall(r'name="skills" id="skill-[a-z_]+" value="([a-z_]+)" checked', page))
    assert ticked == {"negotiation", "confidence"}
    response = post(client, f"/goals/{goal.id}/edit", goal_form(skills=["delegation"], version="1"))
    assert response.status_code == 303 and response.headers["Location"].endswith(f"#goal-{goal.id}")
    page = client.get(f"/goals/{goal.id}/edit").get_data(as_text=True)
    assert set(re.findall(r'name="skills" id="skill-[a-z_]+" value="([a-z_]+)" checked', page)) == {"delegation"}
    assert 'name="version" value="2"' in page


def test_editing_and_saving_a_goal_take_a_fixed_number_of_queries(client, pair):
    pairing, mentor, mentee, _ = pair
    goal_id = make_goal(pairing, mentee).id
    login_as(client, mentee)

    def edit_and_save(version: int) -> tuple[int, int]:
        with count_queries() as shown:
            page = client.get(f"/goals/{goal_id}/edit").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        with count_queries() as saved:
            response = client.post(f"/goals/{goal_id}/edit", data=goal_form(version=version, csrf_token=token))
        assert response.status_code == 303
        return shown[0], saved[0]

    few = edit_and_save(1)
    db.session.add_all(Milestone(goal_id=goal_id, title=f"Step {k}", position=k) for k in range(10))
    db.session.add_all(GoalComment(goal_id=goal_id, author_id=mentor.id, body="Nice") for _ in range(10))
    db.session.commit()
    assert edit_and_save(2) == few
    # The form reads the signed-in person, the goal, its pairing, the objectives, the goal's skills, the cycle
    # and the skill list. A save checks the pairing is running, reads the same but the goal's skills, then
    # writes the goal (one conditional UPDATE), its skills (a DELETE and an INSERT) and the change stamps.
    assert few == (7, 11)


def test_update_goal_refuses_a_stale_version(pair):
    pairing, _, mentee, _ = pair
    goal = make_goal(pairing, mentee)
    data = GoalInput(
        title="New", outcome="o", measure="m", target="t", due_on=goal.due_on, project="p", skills=["negotiation"]
    )
    update_goal(goal, pairing, mentee, data, version=1, today=today())
    with pytest.raises(StaleVersion):
        update_goal(goal, pairing, mentee, data, version=1, today=today())


def test_goals_link_to_active_objectives(client, pair):
    pairing, _, mentee, _ = pair
    active = Objective(title="Faster vendor onboarding", level=ObjectiveLevel.COMPANY)
    retired = Objective(title="Old plan", level=ObjectiveLevel.TEAM, is_active=False)
    db.session.add_all([active, retired])
    db.session.commit()
    login_as(client, mentee)
    page = client.get(f"/goals/pairings/{pairing.id}/new").get_data(as_text=True)
    assert "Faster vendor onboarding" in page and "Old plan" not in page
    post(client, f"/goals/pairings/{pairing.id}/new", goal_form(objective_id=str(active.id)))
    assert db.session.scalar(select(Goal)).objective_id == active.id


def test_the_director_keeps_objectives(client):
    login_as(client, make_user(role=Role.DIRECTOR, team="People"))
    response = post(
        client,
        "/goals/objectives",
        {"title": "Ship the new app", "level": "product", "owner_team_id": "", "is_active": "y"},
    )
    assert response.status_code == 303
    objective = db.session.scalar(select(Objective))
    assert objective.level == ObjectiveLevel.PRODUCT
    response = post(client, "/goals/objectives", {"title": "", "level": "galaxy", "owner_team_id": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="title-error"' in page and 'id="level-error"' in page
    post(
        client,
        f"/goals/objectives/{objective.id}/edit",
        {"title": "Ship the new app", "level": "product", "owner_team_id": ""},
    )
    db.session.refresh(objective)
    assert not objective.is_active  # unticked: retired
    login_as(client, make_user())
    assert client.get("/goals/objectives").status_code == 403


def test_the_goals_page_takes_a_fixed_number_of_queries(client, pair):
    pairing, mentor, mentee, _ = pair
    make_goal(pairing, mentee)
    login_as(client, mentee)
    with count_queries() as few:
        client.get(f"/goals/pairings/{pairing.id}")
    for n in range(49):
        goal = make_goal(pairing, mentee, title=f"Goal {n}")
        db.session.add_all(Milestone(goal_id=goal.id, title=f"Step {k}", position=k) for k in range(3))
        db.session.add(GoalComment(goal_id=goal.id, author_id=mentor.id, body="Nice"))
    db.session.commit()
    with count_queries() as many:
        page = client.get(f"/goals/pairings/{pairing.id}").get_data(as_text=True)
    assert page.count('class="card goal-card"') == 50
    assert many[0] == few[0]


def test_a_second_look_at_the_goals_page_reuses_the_cards_and_reads_one_row_per_goal(client, pair):
    pairing, mentor, mentee, _ = pair
    for n in range(5):
        goal = make_goal(pairing, mentee, title=f"Goal {n}")
        db.session.add_all(Milestone(goal_id=goal.id, title=f"Step {k}", position=k) for k in range(3))
    db.session.commit()
    login_as(client, mentee)
    with count_queries() as cold:
        first = client.get(f"/goals/pairings/{pairing.id}").get_data(as_text=True)
    with count_queries() as warm:
        second = client.get(f"/goals/pairings/{pairing.id}").get_data(as_text=True)
    assert second == first
    assert warm[0] < cold[0]  # the cards' goals, milestones, skills and comments are not loaded again


def test_a_cached_goal_card_shows_a_ticked_milestone_a_comment_and_an_edit_at_once(client, pair):
    pairing, mentor, mentee, _ = pair
    goal = make_goal(pairing, mentee)
    login_as(client, mentee)
    post(client, f"/goals/{goal.id}/milestones", {"milestone_title": "Prepare my opening position"})
    url = f"/goals/pairings/{pairing.id}"
    assert "0% of the way" in client.get(url).get_data(as_text=True)
    milestone = db.session.scalar(select(Milestone))
    post(client, f"/goals/milestones/{milestone.id}/toggle", {"done": "1"})
    assert "100% of the way" in client.get(url).get_data(as_text=True)
    post(client, f"/goals/{goal.id}/comments", {"comment": "Booked the room for Tuesday"})
    assert "Booked the room for Tuesday" in client.get(url).get_data(as_text=True)
    login_as(client, mentor)  # the mentor's card offers other forms, and carries the mentor's own CSRF token
    page = client.get(url).get_data(as_text=True)
    assert "This is a suggested change" in page and "Booked the room for Tuesday" in page
    assert post(client, f"/goals/{goal.id}/comments", {"comment": "Well done"}).status_code in (200, 303)


def test_home_shows_goals_with_progress(client, pair):
    pairing, _, mentee, _ = pair
    goal = make_goal(pairing, mentee)
    db.session.add(Milestone(goal_id=goal.id, title="One", position=0, done_at=db.func.now()))
    db.session.add(Milestone(goal_id=goal.id, title="Two", position=1))
    db.session.commit()
    login_as(client, mentee)
    page = client.get("/").get_data(as_text=True)
    assert re.search(r"Run calmer negotiations</a>: 50% of the way", page)


def test_the_home_page_takes_a_fixed_number_of_queries_and_shows_a_tick_at_once(client, pair):
    pairing, _, mentee, _ = pair
    goal = make_goal(pairing, mentee)
    db.session.add_all([Milestone(goal_id=goal.id, title=str(n), position=n) for n in range(2)])
    db.session.commit()
    login_as(client, mentee)
    with count_queries() as few:
        assert "Run calmer negotiations</a>: 0% of the way" in client.get("/").get_data(as_text=True)
    for n in range(49):
        more = make_goal(pairing, mentee, title=f"Goal {n}")
        db.session.add_all(Milestone(goal_id=more.id, title=f"Step {k}", position=k) for k in range(3))
    db.session.commit()
    with count_queries() as many:
        page = client.get("/").get_data(as_text=True)
    assert page.count('class="goal-summary"') == 50
    assert many[0] == few[0]
    first = db.session.scalar(select(Milestone).where(Milestone.goal_id == goal.id).order_by(Milestone.position))
    post(client, f"/goals/milestones/{first.id}/toggle", {"done": "1"})
    assert "Run calmer negotiations</a>: 50% of the way" in client.get("/").get_data(as_text=True)


def test_goal_views_compute_progress(pair):
    pairing, _, mentee, _ = pair
    goal = make_goal(pairing, mentee)
    db.session.add_all([Milestone(goal_id=goal.id, title=str(n), position=n) for n in range(4)])
    db.session.commit()
    [view] = goal_views(pairing)
    assert view.progress == 0
    view.goal.milestones[0].done_at = view.goal.created_at
    assert view.progress == 25


def test_ticking_a_milestone_and_achieving_a_goal_offer_the_mentee_a_celebration(client, pair):
    from portal.models import Celebration, CelebrationStatus

    pairing, mentor, mentee, _ = pair
    goal = make_goal(pairing, mentee)
    login_as(client, mentee)
    post(client, f"/goals/{goal.id}/milestones", {"milestone_title": "Prepare my opening position"})
    milestone = db.session.scalar(select(Milestone))
    login_as(client, mentor)  # the mentor ticks it; the proposal is the mentee's to share or not
    post(client, f"/goals/milestones/{milestone.id}/toggle", {"done": "1"})
    post(client, f"/goals/milestones/{milestone.id}/toggle", {"done": "1"})  # a retry proposes nothing more
    proposals = db.session.scalars(select(Celebration)).all()
    assert [(p.author_id, p.status) for p in proposals] == [(mentee.id, CelebrationStatus.PROPOSED)]
    assert "Prepare my opening position" in proposals[0].text
    stranger = client.application.test_client()
    login_as(stranger, make_user(team="Sales"))
    assert "Prepare my opening position" not in stranger.get("/celebrations/").get_data(as_text=True)
    login_as(client, mentee)
    post(client, f"/goals/{goal.id}/status", {"status": "achieved", "reflection": ""})
    kinds = sorted(p.kind.value for p in db.session.scalars(select(Celebration)))
    assert kinds == ["goal", "milestone"]


def test_a_comment_tells_the_other_partner_and_not_the_author(client, pair):
    pairing, mentor, mentee, _ = pair
    goal = make_goal(pairing, mentee)
    login_as(client, mentor)
    post(client, f"/goals/{goal.id}/comments", {"comment": "Try a smaller first step?", "is_suggestion": "y"})
    login_as(client, mentee)
    post(client, f"/goals/{goal.id}/comments", {"comment": "Good idea."})
    for person, expected in ((mentee, "Asha Rao suggested a change to"), (mentor, "Priya Shah commented on")):
        login_as(client, person)
        told = client.get("/notifications/").get_data(as_text=True)
        assert f"{expected} \u201cRun calmer negotiations\u201d." in told
        assert ("commented on" if person is mentee else "suggested a change") not in told


@pytest.mark.parametrize(
    ("url", "data", "message"),
    [
        ("comments", {"comment": "   "}, "Please write your comment first."),
        ("comments", {"comment": "x" * 5000}, "Please keep this to"),
        ("status", {"status": "set_aside", "reflection": "y" * 5000}, "Please keep this to"),
    ],
)
def test_empty_or_overlong_text_on_a_goal_is_refused_beside_the_field(client, pair, url, data, message):
    pairing, _, mentee, _ = pair
    goal = make_goal(pairing, mentee)
    login_as(client, mentee)
    response = post(client, f"/goals/{goal.id}/{url}", data, htmx=True)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    db.session.refresh(goal)
    assert goal.status == GoalStatus.ACTIVE and db.session.scalar(select(GoalComment)) is None


def test_a_goal_that_does_not_exist_is_404_not_an_error(client, pair):
    _, _, mentee, _ = pair
    login_as(client, mentee)
    assert client.get("/goals/999999").status_code == 404
    assert post(client, "/goals/999999/comments", {"comment": "hi"}).status_code == 404
    assert post(client, "/goals/milestones/999999/toggle").status_code == 404


# --- "Share this on the wall?" where the progress happens ------------------------------------------------


def _offer_id(html: str) -> int:
    return int(re.search(r'action="/celebrations/(\d+)/offer"', html).group(1))


def test_ticking_a_milestone_offers_sharing_in_place_and_one_click_posts_the_edited_words(client, pair):
    from portal.models import Celebration, CelebrationStatus

    pairing, mentor, mentee, _ = pair
    goal = make_goal(pairing, mentee)
    login_as(client, mentee)
    post(client, f"/goals/{goal.id}/milestones", {"milestone_title": "Prepare my opening"})
    item = db.session.scalar(select(Milestone))
    card = post(client, f"/goals/milestones/{item.id}/toggle", {"done": "1"}, htmx=True).get_data(as_text=True)
    assert "<html" not in card and "Share this on the wall?" in card
    assert re.search(r"<textarea[^>]*>I reached a milestone: Prepare my opening</textarea>", card)
    assert ">Post on the wall</button>" in card and ">Not now</button>" in card
    response = post(client, f"/celebrations/{_offer_id(card)}/offer",
                    {"choice": "share", "text": "First step done, calmly."}, htmx=True)  # fmt: skip
    answered = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in answered
    assert "Shared on the wall." in answered and "It is on the wall." in answered  # in place, and in #status
    shared = db.session.scalar(select(Celebration))
    assert shared.status == CelebrationStatus.PUBLISHED and shared.text == "First step done, calmly."
    assert "Share this on the wall?" not in client.get(f"/goals/{goal.id}").get_data(as_text=True)
    again = post(client, f"/celebrations/{shared.id}/offer", {"choice": "skip"}, htmx=True)
    assert again.status_code == 409
    assert db.session.get(Celebration, shared.id).status == CelebrationStatus.PUBLISHED


def test_without_javascript_the_goal_page_offers_it_and_skipping_is_one_click(client, pair):
    from portal.models import Celebration, CelebrationStatus

    pairing, mentor, mentee, _ = pair
    goal = make_goal(pairing, mentee)
    login_as(client, mentor)  # the mentor ticks; the offer is the mentee's
    post(client, f"/goals/{goal.id}/milestones", {"milestone_title": "x"})
    login_as(client, mentee)
    post(client, f"/goals/{goal.id}/milestones", {"milestone_title": "Role-play"})
    item = db.session.scalar(select(Milestone))
    login_as(client, mentor)
    response = post(client, f"/goals/milestones/{item.id}/toggle", {"done": "1"})
    assert "Share this on the wall?" not in client.get(response.headers["Location"]).get_data(as_text=True)
    login_as(client, mentee)
    page = client.get(f"/goals/{goal.id}").get_data(as_text=True)
    assert "Share this on the wall?" in page and f'name="next" value="/goals/{goal.id}"' in page
    response = post(client, f"/celebrations/{_offer_id(page)}/offer", {"choice": "skip", "next": f"/goals/{goal.id}"})
    assert response.status_code == 303 and response.headers["Location"] == f"/goals/{goal.id}"
    assert db.session.scalar(select(Celebration)).status == CelebrationStatus.DISMISSED
    assert "Share this on the wall?" not in client.get(f"/goals/{goal.id}").get_data(as_text=True)


def test_achieving_a_goal_offers_sharing_and_empty_words_are_refused_beside_the_field(client, pair):
    from portal.models import Celebration, CelebrationStatus

    pairing, mentor, mentee, _ = pair
    goal = make_goal(pairing, mentee)
    login_as(client, mentee)
    card = post(client, f"/goals/{goal.id}/status", {"status": "achieved", "reflection": ""}, htmx=True)
    html = card.get_data(as_text=True)
    assert "I achieved my goal: Run calmer negotiations" in html
    response = post(client, f"/celebrations/{_offer_id(html)}/offer", {"choice": "share", "text": "  "}, htmx=True)
    assert response.status_code == 422 and 'aria-invalid="true"' in response.get_data(as_text=True)
    assert db.session.scalar(select(Celebration)).status == CelebrationStatus.PROPOSED
    for person in (mentor, make_user(team="Sales")):
        login_as(client, person)
        assert post(client, f"/celebrations/{_offer_id(html)}/offer", {"choice": "share"}).status_code == 404
