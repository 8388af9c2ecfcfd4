"""Taking part, JS on and off: answers first, mentor-only fields only for mentors, leaving asks first."""

from __future__ import annotations

import json
import uuid

from playwright.sync_api import Page, expect

from e2e.helpers import assert_controls_clear_of_text, check_a11y
from e2e.test_matching_journey import sign_in, sign_out


def test_enrol_as_a_mentee_without_mentor_fields_then_leave_after_being_asked(page: Page, run_python):
    people = json.loads(run_python("walk_scenario.py", uuid.uuid4().hex[:6]))
    cycle = people["cycle"]

    # With no answers, the page says kindly what is missing and links to it.
    sign_in(page, people["blank"]["email"], people["password"])
    page.goto("/programs/enrol")
    expect(page.get_by_text("it has no answers yet")).to_be_visible()
    expect(page.get_by_role("link", name="Answer a few questions")).to_be_visible()
    check_a11y(page, "enrolling without answers")
    sign_out(page)

    sign_in(page, people["ready"]["email"], people["password"])
    page.goto("/programs/enrol")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Take part in {cycle}")
    capacity = page.get_by_label("How many mentees could you take on?")
    page.get_by_label("Be mentored").check()
    expect(capacity).to_be_hidden()
    expect(page.get_by_label("Pause new requests for now")).to_be_hidden()
    check_a11y(page, "the enrol page for a mentee")
    page.get_by_label("Mentor someone").check()
    expect(capacity).to_be_visible()
    assert_controls_clear_of_text(page, "main")
    page.get_by_label("Be mentored").check()
    expect(capacity).to_be_hidden()
    page.get_by_role("button", name=f"Enrol in {cycle}").click()
    expect(page.get_by_text("You are enrolled. Thank you for taking part.")).to_be_visible()

    # Leaving asks first and says what happens; staying is one click too.
    page.goto("/programs/enrol")
    page.get_by_role("link", name=f"Leave {cycle}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Leave {cycle}?")
    expect(page.get_by_text("Your questionnaire answers stay")).to_be_visible()
    check_a11y(page, "leaving, asked first")
    page.get_by_role("link", name=f"Stay in {cycle}").click()
    expect(page.get_by_role("button", name="Save my choices")).to_be_visible()
    page.get_by_role("link", name=f"Leave {cycle}").click()
    page.get_by_role("button", name=f"Leave {cycle}").click()
    expect(page.get_by_text(f"You have left {cycle}. You are welcome back any time.")).to_be_visible()

    # The questionnaire's "Your answers" page offers the way back in.
    page.goto("/profiles/me")
    expect(page.get_by_role("link", name=f"Take part in {cycle}")).to_be_visible()
    check_a11y(page, "your answers with the way on")
