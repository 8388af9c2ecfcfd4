"""No route sends a person to another site: every redirect target that comes from the outside is checked."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from portal.clock import today
from portal.extensions import db
from portal.goals.services import GoalInput, add_milestone, create_goal
from portal.models import ActionItem, Role
from tests.conftest import csrf_token, login_as
from tests.factories import make_cycle, make_meeting, make_pairing, make_post, make_user

HOSTILE = "https://evil.example/phish"
# Fields a route might read; each route takes what it knows and ignores the rest.
FORM = {
    "next": HOSTILE,
    "next_url": HOSTILE,
    "comment": "A comment",
    "milestone_title": "A step",
    "status": "achieved",
    "reflection": "Learned a lot",
    "text": "Shared",
    "audience": "everyone",
    "message": "Hello",
    "kind": "clap",
    "reason": "Because",
    "notes": "Notes",
    "title": "A title",
}


@pytest.fixture
def world():
    cycle = make_cycle()
    mentor = make_user(team="Design")
    mentee = make_user(team="Data")
    director = make_user(role=Role.DIRECTOR, team="People")
    pairing = make_pairing(cycle=cycle, mentor=mentor, mentee=mentee)
    goal = create_goal(
        pairing,
        mentee,
        GoalInput(
            title="Calm",
            outcome="o",
            measure="m",
            target="t",
            due_on=today() + timedelta(days=20),
            project="p",
            skills=["negotiation"],
        ),  # fmt: skip
        today=today(),
    )
    milestone = add_milestone(goal, pairing, mentee, title="First", due_on=None, today=today())
    meeting = make_meeting(pairing)
    action = ActionItem(pairing_id=pairing.id, meeting_id=meeting.id, owner_id=mentee.id, title="Read",
                        created_by_id=mentee.id)  # fmt: skip
    db.session.add(action)
    db.session.commit()
    post_ = make_post(mentee)
    ids = {
        "cycle_id": cycle.id,
        "pairing_id": pairing.id,
        "pair_id": pairing.id,
        "goal_id": goal.id,
        "milestone_id": milestone.id,
        "meeting_id": meeting.id,
        "action_id": action.id,
        "post_id": post_.id,
        "user_id": mentor.id,
        "mentor_id": mentor.id,
    }
    return {"people": [mentee, mentor, director], "ids": ids}


def _leaves_the_site(response) -> str | None:
    for header in ("Location", "HX-Redirect", "HX-Location"):
        target = response.headers.get(header)
        if target and urlsplit(target).netloc not in ("", "localhost"):
            return target
    return None


def test_no_route_redirects_to_another_site(app, client, world):
    from flask import url_for

    redirected = 0
    for person in world["people"]:
        login_as(client, person)
        token = csrf_token(client)
        for rule in app.url_map.iter_rules():
            if rule.endpoint == "static" or not rule.arguments <= world["ids"].keys():
                continue
            if rule.endpoint in ("accounts.sign_out",):
                continue
            with app.test_request_context():
                url = url_for(rule.endpoint, **{name: world["ids"][name] for name in rule.arguments})
            for method in sorted(rule.methods & {"GET", "POST"}):
                for htmx in (False, True):
                    headers = {"HX-Request": "true"} if htmx else {}
                    if method == "GET":
                        response = client.get(url, query_string={"next": HOSTILE, "next_url": HOSTILE},
                                              headers=headers)  # fmt: skip
                    else:
                        response = client.post(url, data={**FORM, "csrf_token": token}, headers=headers)
                    assert _leaves_the_site(response) is None, f"{method} {url} sends people to another site"
                    redirected += response.status_code in (301, 302, 303) or "HX-Redirect" in response.headers
    assert redirected >= 20
    db.session.rollback()


def test_a_goal_comment_with_a_foreign_next_url_stays_on_the_goal(client, world):
    mentee = world["people"][0]
    login_as(client, mentee)
    goal_id = world["ids"]["goal_id"]
    response = client.post(
        f"/goals/{goal_id}/comments",
        data={"comment": "hi", "next_url": "//evil.example", "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/goals/{goal_id}"
