"""Every page a participant or the director can open, checked by axe, with JavaScript on and off.

The journeys check the pages they pass through; this sweep catches the pages no journey happens to visit.
"""

from __future__ import annotations

import json
import uuid

from playwright.sync_api import Page, expect

from e2e.helpers import check_a11y
from e2e.test_matching_journey import sign_in


def visit_all(page: Page, urls: list[str]) -> None:
    for url in urls:
        response = page.goto(url)
        assert response is not None and response.status == 200, f"{url} answered {response and response.status}"
        expect(page.locator("h1")).to_have_count(1)
        check_a11y(page, url)


def test_every_participant_page_passes_axe(page: Page, run_python):
    people = json.loads(run_python("scenario.py", uuid.uuid4().hex[:6], "paired"))
    pairing = people["pairing_id"]
    sign_in(page, people["mentee"]["email"], people["password"])
    visit_all(
        page,
        [
            "/",
            "/matches/",
            "/matches/requests",
            "/programs/enrol",
            f"/goals/pairings/{pairing}",
            f"/goals/pairings/{pairing}/new",
            f"/journals/pairings/{pairing}",
            f"/journals/pairings/{pairing}/meetings/new",
            f"/journals/pairings/{pairing}/meetings/log",
            "/celebrations/",
            "/celebrations/mine",
            "/celebrations/kudos/new",
            "/celebrations/kudos/new?q=as",
            f"/programs/{people['cycle_id']}/leave",
            "/nudges/new",
            "/nudges/settings",
            "/nudges/curious",
            "/notifications/",
            "/notifications/preferences",
            "/onboarding/review",
            "/onboarding/step/values",
            "/onboarding/step/skills_grow",
            "/profiles/me",
            "/reports/program",
            f"/support/pairings/{pairing}",
            f"/support/pairings/{pairing}/end",
            f"/support/ask?pairing_id={pairing}",
            "/support/help",
        ],
    )
    response = page.goto("/nowhere")
    assert response is not None and response.status == 404
    check_a11y(page, "the 404 page")
    response = page.goto("/notifications/unsubscribe/not-a-real-link")
    assert response is not None and response.status == 400
    check_a11y(page, "a broken unsubscribe link")


def test_every_director_page_passes_axe(page: Page, run_python):
    people = json.loads(run_python("scenario.py", uuid.uuid4().hex[:6]))
    cycle = people["cycle_id"]
    sign_in(page, people["director"]["email"], people["password"])
    visit_all(
        page,
        [
            "/programs/",
            "/programs/new",
            f"/programs/{cycle}",
            f"/programs/{cycle}/edit",
            "/goals/objectives",
            "/programs/choices",
            "/celebrations/reports",
            "/nudges/overview",
            "/nudges/sent",
            "/nudges/roster",
            "/reports/",
            "/reports/program/message",
            "/support/board",
            "/support/queue",
            f"/support/cycles/{cycle}/thresholds",
            "/notifications/jobs",
        ],
    )
