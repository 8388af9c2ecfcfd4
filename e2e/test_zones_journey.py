"""Each person's own time zone in a real browser, JS on and off: Ana in Berlin picks her zone (suggested by her
browser with JavaScript), plans a meeting with Sam in New York, and each of them reads it in their own time,
with the other's beside it."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from e2e.helpers import check_a11y, js_enabled, register, watch_console
from portal.clock import today

BERLIN, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")


@pytest.fixture
def browser_context_args(browser_context_args):
    # The browser itself is in Berlin: with JavaScript, that is the zone the portal suggests.
    return {**browser_context_args, "timezone_id": "Europe/Berlin"}


def sign_in(page: Page, email: str, password: str) -> None:
    page.goto("/accounts/sign-in")
    page.get_by_label("Work email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")


def clock(moment: datetime, zone: ZoneInfo) -> str:
    """How the portal writes a time of day: "17:00 CET"."""
    local = moment.astimezone(zone)
    return f"{local:%H:%M} {local.tzname()}"


def test_the_availability_step_offers_the_browsers_zone_or_the_organisations(page: Page):
    register(page, name="Ana Berg")
    page.goto("/onboarding/step/time")
    field = page.get_by_label("Your time zone")
    if js_enabled(page):
        expect(field).to_have_value("Europe/Berlin")
        expect(page.locator("#timezone-suggested")).to_have_text(
            "Suggested from your browser: Europe/Berlin. Change it if it is not right."
        )
    else:
        expect(field).to_have_value("Europe/London")  # the organisation's zone, preselected
    check_a11y(page, "the availability step with its time zone")
    page.get_by_label("1 hour a month").check()
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("#step-progress")).to_have_text(re.compile(r"Step 9 of \d+"))
    page.goto("/profiles/me")
    shown = "Europe/Berlin" if js_enabled(page) else "Europe/London"
    expect(page.locator("#zone-section")).to_contain_text(f"Now showing times in {shown}")


def test_a_person_in_berlin_plans_with_a_partner_in_new_york_and_each_reads_their_own_time(
    page: Page, run_python, browser, browser_context_args
):
    people = json.loads(run_python("zones_scenario.py", uuid.uuid4().hex[:6]))
    ana, sam, password = people["mentee"], people["mentor"], people["password"]

    # Ana has never chosen a zone; she sets Berlin on her profile, after a name that is not a zone.
    sign_in(page, ana["email"], password)
    page.goto("/profiles/me")
    field = page.get_by_label("Your time zone")
    expect(field).to_have_value("Europe/Berlin" if js_enabled(page) else "Europe/London")
    check_a11y(page, "the profile with the time zone")
    field.fill("Berlin")
    page.get_by_role("button", name="Save the time zone").click()
    expect(page.locator("#timezone-error")).to_contain_text("“Berlin” is not a time zone we know")
    expect(page.get_by_label("Your time zone")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Your time zone")).to_have_value("Berlin")  # nothing typed is lost
    check_a11y(page, "the profile with a time zone that does not exist")
    page.get_by_label("Your time zone").fill("Europe/Berlin")
    page.get_by_role("button", name="Save the time zone").click()
    expect(page.locator("#status")).to_contain_text("Times now show in Europe/Berlin")
    expect(page.locator("#zone-section")).to_contain_text("Now showing times in Europe/Berlin.")
    check_a11y(page, "the profile after saving the time zone")

    # She plans a meeting at 17:00 her time, a week from now.
    day = today() + timedelta(days=7)
    moment = datetime.combine(day, time(17, 0), tzinfo=BERLIN).astimezone(UTC)
    page.goto(f"/journals/pairings/{people['pairing_id']}/meetings/new")
    expect(page.get_by_text("In your time zone, Europe/Berlin")).to_be_visible()
    page.get_by_label("Day").fill(day.isoformat())
    page.get_by_label("Time", exact=True).fill("17:00")
    page.get_by_label("Length in minutes").fill("30")
    page.get_by_label("How you will meet").select_option(label="Video call")
    page.get_by_role("button", name="Plan the meeting").click()
    expect(page.locator("#status")).to_contain_text("has been told")
    both = f"{clock(moment, BERLIN)} in Berlin, {clock(moment, NEW_YORK)} for {sam['name']} in New York"
    expect(page.get_by_text(f"{both}, 30 minutes")).to_be_visible()
    check_a11y(page, "the meeting page in Berlin")
    meeting_url = page.url

    # Sam, in New York, reads the same meeting in his own time, with Ana's beside it.
    other_context = browser.new_context(**{**browser_context_args, "timezone_id": "America/New_York"})
    other_context.e2e_js_enabled = js_enabled(page)
    other_context.set_default_timeout(10_000)
    other = other_context.new_page()
    watch_console(other)
    sign_in(other, sam["email"], password)
    expect(other.locator("main")).to_contain_text(clock(moment, NEW_YORK))  # his next meeting, on the home page
    other.goto("/notifications/")
    expect(other.locator("main")).to_contain_text(f"{clock(moment, NEW_YORK)}, 30 minutes, video call")
    other.goto(meeting_url)
    theirs = f"{clock(moment, NEW_YORK)} in New York, {clock(moment, BERLIN)} for {ana['name']} in Berlin"
    expect(other.get_by_text(f"{theirs}, 30 minutes")).to_be_visible()
    check_a11y(other, "the meeting page in New York")
    other_context.close()
