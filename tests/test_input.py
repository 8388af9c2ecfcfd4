"""What reaches the routes: control characters, huge numbers and huge bodies get a clear answer, never a 500.

The fuzz at the end sends every route of the URL map what an attacker or a broken client would (control
characters, numbers past 64 bits, wrong types, missing fields) and asks one thing: no answer is a 5xx.
It runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL, which refuses NUL bytes and 64-bit overflows.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.clock import today
from portal.extensions import db
from portal.models import ActionItem, User
from tests.conftest import csrf_token, login_as, post
from tests.factories import make_director, make_meeting, make_pairing, make_post, make_user

HUGE = "99999999999999999999"


def test_a_nul_byte_in_sign_in_is_a_clear_400_not_a_500(client):
    response = post(client, "/accounts/sign-in", {"email": "a\x00@example.com", "password": "x\x00y"})
    assert response.status_code == 400
    assert "invisible control characters" in response.get_data(as_text=True)


def test_a_nul_byte_in_a_search_is_refused_and_htmx_hears_it_in_the_status_region(client):
    pairing = make_pairing()
    login_as(client, db.session.get(User, pairing.mentee_id))
    response = client.get(f"/journals/pairings/{pairing.id}?q=a%00b")
    assert response.status_code == 400 and "control characters" in response.get_data(as_text=True)
    response = client.get(f"/journals/pairings/{pairing.id}?q=a%00b", headers={"HX-Request": "true"})
    assert response.status_code == 400 and response.headers["HX-Reswap"] == "none"


def test_tabs_and_new_lines_in_multi_line_text_are_kept(client):
    pairing = make_pairing()
    meeting = make_meeting(pairing)
    login_as(client, db.session.get(User, pairing.mentee_id))
    body = "First line\r\n\tindented second line"
    response = post(client, f"/journals/meetings/{meeting.id}/notes", {"notes": body, "version": "0"})
    assert response.status_code == 303
    db.session.refresh(meeting)
    assert meeting.notes.replace("\r\n", "\n") == body.replace("\r\n", "\n")


def test_ids_past_64_bits_are_404_and_page_numbers_past_them_are_400(client):
    pairing = make_pairing()
    login_as(client, db.session.get(User, pairing.mentee_id))
    assert client.get(f"/journals/meetings/{HUGE}").status_code == 404
    assert client.get(f"/goals/{HUGE}").status_code == 404
    assert client.get(f"/goals/{2**31}").status_code == 404  # past a PostgreSQL INTEGER
    assert client.get(f"/journals/pairings/{pairing.id}?page={HUGE}").status_code == 400
    # Large but inside 64 bits: an empty page, not an overflowing OFFSET.
    assert client.get(f"/journals/pairings/{pairing.id}?page={2**62}").status_code == 200
    assert client.get(f"/notifications/?page={2**62}").status_code == 200
    # A garbled cursor is ignored: the newest page is shown.
    assert client.get(f"/celebrations/?before=1-{HUGE}").status_code == 200
    assert client.get(f"/celebrations/?before=1-{2**63 - 1}&team={2**63 - 1}&cycle=-1").status_code == 200


def test_a_version_past_64_bits_is_400(client):
    pairing = make_pairing()
    meeting = make_meeting(pairing)
    login_as(client, db.session.get(User, pairing.mentee_id))
    response = post(client, f"/journals/meetings/{meeting.id}/notes", {"notes": "x", "version": HUGE})
    assert response.status_code == 400 and "far too large" in response.get_data(as_text=True)


def test_a_body_over_a_megabyte_is_413_with_the_usual_page(client):
    login_as(client, make_user())
    response = post(client, "/celebrations/kudos/new", {"text": "x" * (1024 * 1024 + 10)})
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "too much to send at once" in page and "<footer" in page


# --- the fuzz ----------------------------------------------------------------------------------------------

FIELDS = [
    "title", "outcome", "measure", "target", "due_on", "project", "skills", "objective_id", "version", "notes",
    "reflection", "kind", "done", "email", "password", "display_name", "team", "comment", "reason", "on", "at",
    "held_on", "duration_minutes", "format", "owner_id", "status", "message", "capacity", "text", "to", "next",
    "next_url", "q", "page", "before", "cycle", "skill", "value", "values", "role", "mentor_id", "mentee_id",
    "accept-message", "decline-message", "note", "rhythm", "name", "level", "is_active", "current_password",
    "new_password", "return", "answer", "show_name", "audience",
]  # fmt: skip

NASTY = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=st.characters(max_codepoint=0x20), max_size=10),
    st.sampled_from(["", "\x00", "a\x00b", HUGE, "-" + HUGE, str(2**63), str(2**63 - 1), "-1", "0", "1", "1e999",
                     "nan", "2026-02-30", "9999-12-31", "0001-01-01", "25:99", "true", "[]", "{}", "../../etc"]),
)  # fmt: skip
FORMS = st.dictionaries(st.sampled_from(FIELDS), NASTY, max_size=6)
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))


def _world():
    """A director, a pair with a goal, milestone, meeting, action item and a post; URL arguments for them."""
    from portal.goals.services import GoalInput, add_milestone, create_goal

    director = make_director()
    pairing = make_pairing()
    mentee = db.session.get(User, pairing.mentee_id)
    goal = create_goal(
        pairing,
        mentee,
        GoalInput(
            title="Speak up",
            outcome="o",
            measure="m",
            target="t",
            due_on=today() + timedelta(days=30),
            project="p",
            skills=["negotiation"],
        ),  # fmt: skip
        today=today(),
    )
    milestone = add_milestone(goal, pairing, mentee, title="Step", due_on=None, today=today())
    meeting = make_meeting(pairing)
    item = ActionItem(pairing_id=pairing.id, meeting_id=meeting.id, owner_id=mentee.id, title="Read",
                      created_by_id=mentee.id)  # fmt: skip
    db.session.add(item)
    db.session.commit()
    shared = make_post(mentee)
    args = {
        "key": "values", "user_id": mentee.id, "filename": "css/portal.css", "cycle_id": pairing.cycle_id,
        "mentor_id": pairing.mentor_id, "request_id": 1, "run_id": 1, "nudge_id": 1, "import_id": 1,
        "token": "not-a-real-token", "pair_id": 1, "pairing_id": pairing.id, "goal_id": goal.id,
        "milestone_id": milestone.id, "objective_id": 1, "post_id": shared.id, "meeting_id": meeting.id,
        "action_id": item.id, "help_id": 1, "job_id": 1, "list_name": "skills", "choice_id": 1,
    }  # fmt: skip
    return director, mentee, args


def _probe(client, url: str, methods: list[str], failures: list, token: str):
    """A hypothesis test that sends ``url`` nasty query strings and forms and records any 5xx in ``failures``."""

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip
    @given(query=FORMS, form=FORMS, method=st.sampled_from(methods), fragment=st.booleans())
    def probe(query, form, method, fragment):
        data = {**form, "csrf_token": token} if method == "POST" else None
        headers = {"HX-Request": "true"} if fragment else {}
        response = client.open(url, method=method, query_string=query, data=data, headers=headers)
        if response.status_code >= 500:
            failures.append((method, url, query, form, response.status_code))
        assert response.status_code < 500

    return probe


@pytest.mark.parametrize("who", ["participant", "director"])
def test_no_input_to_any_route_answers_5xx(app, client, monkeypatch, who):
    from flask import url_for

    from portal.extensions import limiter

    monkeypatch.setattr(limiter, "enabled", False)
    director, mentee, args = _world()
    login_as(client, director if who == "director" else mentee)
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]
    if who == "director":
        rules = [rule for rule in rules if app.view_functions[rule.endpoint].access_rule == "director"]
    failures = []
    for rule in rules:
        with app.test_request_context():
            url = url_for(rule.endpoint, **{name: args[name] for name in rule.arguments})
        methods = sorted(rule.methods & {"GET", "POST"})

        probe = _probe(client, url, methods, failures, csrf_token(client))
        try:
            probe()
        except AssertionError:
            pass
        if who == "participant":
            login_as(client, mentee)  # a route may have signed the person out
    assert failures == []


EVIL = ["https://evil.example/", "//evil.example/", "/\\\\evil.example"]


@pytest.mark.parametrize("who", ["participant", "director"])
def test_no_route_redirects_off_the_site_whatever_next_says(app, client, who):
    """Every route, GET and POST, with ``next`` and ``next_url`` pointing elsewhere: every redirect stays here."""
    from urllib.parse import urlsplit

    from flask import url_for

    director, mentee, args = _world()
    redirects = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        with app.test_request_context():
            url = url_for(rule.endpoint, **{name: args[name] for name in rule.arguments})
        for method in sorted(rule.methods & {"GET", "POST"}):
            for evil in EVIL:
                login_as(client, director if who == "director" else mentee)
                target = {"next": evil, "next_url": evil}
                data = {**target, "csrf_token": csrf_token(client), "done": "1"} if method == "POST" else None
                response = client.open(url, method=method, query_string=target, data=data)
                location = response.headers.get("Location") or response.headers.get("HX-Redirect")
                if location:
                    redirects += 1
                    parts = urlsplit(location.strip())
                    assert not parts.netloc or parts.netloc == "localhost", (method, url, location)
                    assert "evil" not in location, (method, url, location)
    assert redirects > 30  # the sweep really follows redirects (49 when this was written)
