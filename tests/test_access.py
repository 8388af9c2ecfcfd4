"""Every route states who may use it, and the rule holds: visitors, participants, CSRF."""

from __future__ import annotations

import pytest

from portal.models import Role
from tests.conftest import login_as
from tests.factories import make_cycle, make_user

# Example values for URL arguments, so that every rule can be requested.
URL_ARGS = {
    "key": "values",
    "user_id": 1,
    "filename": "css/portal.css",
    "cycle_id": 1,
    "mentor_id": 1,
    "request_id": 1,
    "run_id": 1,
    "job_id": 1,
    "nudge_id": 1,
    "import_id": 1,
    "token": "not-a-real-token",
    "pair_id": 1,
    "pairing_id": 1,
    "goal_id": 1,
    "milestone_id": 1,
    "objective_id": 1,
    "post_id": 1,
    "meeting_id": 1,
    "action_id": 1,
    "help_id": 1,
    "choice_id": 1,
    "list_name": "skills",
}


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        yield rule, app.view_functions[rule.endpoint]


def _url(app, rule):
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **{name: URL_ARGS[name] for name in rule.arguments})


def test_every_route_states_its_access_rule(app):
    missing = [rule.rule for rule, view in _routes(app) if not hasattr(view, "access_rule")]
    assert missing == [], f"routes without an access rule: {missing}"


def test_signed_in_routes_send_visitors_to_sign_in(app, client):
    checked = 0
    for rule, view in _routes(app):
        if view.access_rule == "public":
            continue
        url = _url(app, rule)
        method = "GET" if "GET" in rule.methods else "POST"
        # With CSRF on, a visitor's POST stops at the CSRF check; the GET routes show the redirect.
        if method != "GET":
            continue
        response = client.open(url, method=method)
        assert response.status_code == 303, url
        assert "/accounts/sign-in" in response.headers["Location"], url
        checked += 1
    assert checked >= 5


def test_an_htmx_request_from_a_visitor_gets_a_full_page_redirect(client):
    response = client.get("/onboarding/step/values", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/accounts/sign-in?next=")


@pytest.mark.parametrize(
    "url",
    [
        "/accounts/sign-out",
        "/accounts/sign-out-everywhere",
        "/accounts/password",
        "/onboarding/step/values",
        "/onboarding/draft/anything_else",
        "/onboarding/finish",
        "/profiles/me/timezone",
        "/notifications/read-all",
        "/programs/new",
        "/programs/1/edit",
        "/programs/enrol",
        "/programs/1/enrol",
        "/programs/1/leave",
        "/programs/choices/skills",
        "/programs/choices/1/rename",
        "/programs/choices/1/state",
        "/matches/mentors/1/mark",
        "/matches/mentors/1/request",
        "/matches/requests/1/accept",
        "/matches/requests/1/decline",
        "/matches/requests/1/withdraw",
        "/matches/cycles/1/runs",
        "/matches/runs/1/pairs/1/drop",
        "/matches/runs/1/swap",
        "/matches/runs/1/publish",
        "/nudges/curious",
        "/nudges/new",
        "/nudges/cards/1",
        "/nudges/claim/not-a-real-token",
        "/accounts/register/finish/not-a-real-token",
        "/nudges/settings",
        "/nudges/roster",
        "/nudges/roster/1/apply",
        "/goals/pairings/1/new",
        "/goals/1/edit",
        "/goals/1/milestones",
        "/goals/milestones/1/toggle",
        "/goals/1/status",
        "/goals/1/comments",
        "/goals/objectives",
        "/goals/objectives/1/edit",
        "/journals/pairings/1/meetings/new",
        "/journals/pairings/1/meetings/log",
        "/journals/meetings/1/reschedule",
        "/journals/meetings/1/cancel",
        "/journals/meetings/1/log",
        "/journals/meetings/1/notes",
        "/journals/meetings/1/notes/draft",
        "/journals/meetings/1/reflection",
        "/journals/meetings/1/reflection/draft",
        "/journals/meetings/1/actions",
        "/journals/actions/1/toggle",
        "/celebrations/1/share",
        "/celebrations/1/accept",
        "/celebrations/1/dismiss",
        "/celebrations/1/delete",
        "/celebrations/1/edit",
        "/celebrations/1/report",
        "/celebrations/1/react",
        "/celebrations/1/offer",
        "/celebrations/1/hide",
        "/celebrations/1/restore",
        "/celebrations/kudos/new",
        "/support/pairings/1/check-in",
        "/support/pairings/1/check-in/skip",
        "/support/pairings/1/pause",
        "/support/pairings/1/resume",
        "/support/pairings/1/end",
        "/support/ask",
        "/support/help/1",
        "/support/pairs/1/pause",
        "/support/pairs/1/end",
        "/support/pairs/1/suggest",
        "/support/queue/1",
        "/support/queue/1/status",
        "/reports/retrospectives/1",
        "/reports/retrospectives/1/skip",
        "/reports/program/message",
        "/support/cycles/1/thresholds",
        "/notifications/preferences",
        "/notifications/jobs/1/retry",
        "/matches/runs/1/retry",
    ],
)
def test_a_post_without_csrf_token_is_refused_and_changes_nothing(client, url):
    user = make_user(role=Role.DIRECTOR)
    login_as(client, user)
    response = client.post(url, data={"choice": ["curiosity"], "text": "hello", "note": "hi"})
    assert response.status_code == 400
    assert "This form has expired" in response.get_data(as_text=True)
    assert client.get("/profiles/me").status_code == 200  # still signed in: sign-out did not happen


def test_every_post_route_is_in_the_csrf_list(app):
    posts = {
        rule.rule
        for rule, _ in _routes(app)
        if "POST" in rule.methods and rule.endpoint not in {"accounts.register", "accounts.sign_in"}
    }
    listed = {
        "/accounts/sign-out",
        "/accounts/sign-out-everywhere",
        "/accounts/password",
        "/onboarding/step/<key>",
        "/onboarding/draft/<key>",
        "/onboarding/finish",
        "/profiles/me/timezone",
        "/notifications/read-all",
        "/notifications/preferences",
        "/notifications/jobs/<int:job_id>/retry",
        # Exempt by design (RFC 8058 one-click): the signed link is the proof; see tests/test_reminders.py.
        "/notifications/unsubscribe/<token>",
        "/matches/runs/<int:run_id>/retry",
        "/programs/new",
        "/programs/<int:cycle_id>/edit",
        "/programs/enrol",
        "/programs/<int:cycle_id>/enrol",
        "/programs/<int:cycle_id>/leave",
        "/programs/choices/<list_name>",
        "/programs/choices/<int:choice_id>/rename",
        "/programs/choices/<int:choice_id>/state",
        "/matches/mentors/<int:mentor_id>/mark",
        "/matches/mentors/<int:mentor_id>/request",
        "/matches/requests/<int:request_id>/accept",
        "/matches/requests/<int:request_id>/decline",
        "/matches/requests/<int:request_id>/withdraw",
        "/matches/cycles/<int:cycle_id>/runs",
        "/matches/runs/<int:run_id>/pairs/<int:pair_id>/drop",
        "/matches/runs/<int:run_id>/swap",
        "/matches/runs/<int:run_id>/publish",
        "/nudges/curious",
        "/nudges/new",
        "/nudges/cards/<int:nudge_id>",
        "/nudges/claim/<token>",
        "/accounts/register/finish/<token>",
        "/nudges/settings",
        "/nudges/roster",
        "/nudges/roster/<int:import_id>/apply",
        "/goals/pairings/<int:pairing_id>/new",
        "/goals/<int:goal_id>/edit",
        "/goals/<int:goal_id>/milestones",
        "/goals/milestones/<int:milestone_id>/toggle",
        "/goals/<int:goal_id>/status",
        "/goals/<int:goal_id>/comments",
        "/goals/objectives",
        "/goals/objectives/<int:objective_id>/edit",
        "/journals/pairings/<int:pairing_id>/meetings/new",
        "/journals/pairings/<int:pairing_id>/meetings/log",
        "/journals/meetings/<int:meeting_id>/reschedule",
        "/journals/meetings/<int:meeting_id>/cancel",
        "/journals/meetings/<int:meeting_id>/log",
        "/journals/meetings/<int:meeting_id>/notes",
        "/journals/meetings/<int:meeting_id>/notes/draft",
        "/journals/meetings/<int:meeting_id>/reflection",
        "/journals/meetings/<int:meeting_id>/reflection/draft",
        "/journals/meetings/<int:meeting_id>/actions",
        "/journals/actions/<int:action_id>/toggle",
        "/celebrations/<int:post_id>/share",
        "/celebrations/<int:post_id>/accept",
        "/celebrations/<int:post_id>/dismiss",
        "/celebrations/<int:post_id>/delete",
        "/celebrations/<int:post_id>/edit",
        "/celebrations/<int:post_id>/report",
        "/celebrations/<int:post_id>/react",
        "/celebrations/<int:post_id>/offer",
        "/celebrations/<int:post_id>/hide",
        "/celebrations/<int:post_id>/restore",
        "/celebrations/kudos/new",
        "/support/pairings/<int:pairing_id>/check-in",
        "/support/pairings/<int:pairing_id>/check-in/skip",
        "/support/pairings/<int:pairing_id>/pause",
        "/support/pairings/<int:pairing_id>/resume",
        "/support/pairings/<int:pairing_id>/end",
        "/support/ask",
        "/support/help/<int:help_id>",
        "/support/pairs/<int:pairing_id>/pause",
        "/support/pairs/<int:pairing_id>/end",
        "/support/pairs/<int:pairing_id>/suggest",
        "/support/queue/<int:help_id>",
        "/support/queue/<int:help_id>/status",
        "/reports/retrospectives/<int:pairing_id>",
        "/reports/retrospectives/<int:pairing_id>/skip",
        "/reports/program/message",
        "/support/cycles/<int:cycle_id>/thresholds",
    }
    assert posts == listed, "a new POST route needs a CSRF test above"


def test_register_and_sign_in_refuse_a_post_without_csrf_token(client):
    assert client.post("/accounts/sign-in", data={"email": "a@b.c", "password": "x" * 12}).status_code == 400
    response = client.post(
        "/accounts/register",
        data={"display_name": "A", "email": "new@example.com", "team": "Data", "password": "y" * 20},
    )
    assert response.status_code == 400
    # Nothing was created: the address is still free.
    from portal.accounts.services import authenticate

    assert authenticate(email="new@example.com", password="y" * 20) is None


def test_director_pages_are_forbidden_to_participants(app, client):
    make_cycle()
    login_as(client, make_user())
    checked = 0
    for rule, view in _routes(app):
        if view.access_rule != "director":
            continue
        url = _url(app, rule)
        method = "GET" if "GET" in rule.methods else "POST"
        data = {} if method == "GET" else {"csrf_token": _token(client)}
        # Pages about pairs that may be struggling do not even exist for participants.
        expected = 404 if getattr(view, "unseen", False) else 403
        assert client.open(url, method=method, data=data).status_code == expected, url
        checked += 1
    assert checked >= 9


def _token(client):
    from tests.conftest import csrf_token

    return csrf_token(client)


def test_unknown_pages_are_404(client):
    assert client.get("/nowhere").status_code == 404
