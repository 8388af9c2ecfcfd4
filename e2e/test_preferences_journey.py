"""Preferences in a real browser, JS on and off, axe on every page: a person turns meeting reminders off,
a half-set quiet time is explained next to its field, and the next reminder reaches only their partner."""

from __future__ import annotations

import json
import uuid

from playwright.sync_api import Page, expect

from e2e.helpers import check_a11y


def sign_in(page: Page, email: str, password: str) -> None:
    page.goto("/accounts/sign-in")
    page.get_by_label("Work email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")


def test_a_person_turns_meeting_reminders_off(page: Page, run_python):
    people = json.loads(run_python("journal_scenario.py", uuid.uuid4().hex[:6]))
    mentor, mentee = people["mentor"], people["mentee"]
    sign_in(page, mentee["email"], people["password"])

    page.get_by_role("link", name="Notifications").click()
    page.get_by_role("link", name="Choose what reaches you, and how").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("What reaches you, and how")
    check_a11y(page, "the preferences page")
    meetings = page.get_by_role("group", name="Meetings and their reminders")
    expect(meetings.get_by_label("In the portal and by email")).to_be_checked()

    # Half-set quiet hours are explained next to the field; the choice made is kept.
    meetings.get_by_label("Off").check()
    page.get_by_label("No email from").select_option("22")
    page.get_by_role("button", name="Save my choices").click()
    expect(page.locator("#quiet_until-error")).to_contain_text("both ends of your quiet hours")
    expect(page.get_by_label("until")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("group", name="Meetings and their reminders").get_by_label("Off")).to_be_checked()
    check_a11y(page, "the preferences page with an error")

    page.get_by_label("until").select_option("7")
    page.get_by_role("button", name="Save my choices").click()
    expect(page.locator("#status")).to_contain_text("Your choices are saved.")
    expect(page.get_by_role("group", name="Meetings and their reminders").get_by_label("Off")).to_be_checked()
    expect(page.get_by_label("No email from")).to_have_value("22")
    check_a11y(page, "the preferences page after saving")

    # The next meeting's reminder reaches the partner only.
    reminded = json.loads(run_python("reminder_scenario.py", str(people["pairing_id"])))
    assert reminded == {mentor["email"]: 1, mentee["email"]: 0}
