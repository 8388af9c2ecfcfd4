"""A pair's journal in a real browser, JS on and off: plan, download the calendar file, move the meeting, log a
session linked to a goal, write private reflections, and edit the shared notes at the same time from two
browsers, where the second save shows what each changed and a merge."""

from __future__ import annotations

import json
import re
import uuid
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import Page, expect

from e2e.helpers import check_a11y, js_enabled, watch_console
from portal.clock import today


def sign_in(page: Page, email: str, password: str) -> None:
    page.goto("/accounts/sign-in")
    page.get_by_label("Work email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")


def settled(page: Page) -> None:
    """Wait until an htmx swap (with JS) or a page load (without) is over."""
    if js_enabled(page):
        page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping')")
    else:
        page.wait_for_load_state("load")


def test_a_pair_keeps_a_journal_together(page: Page, run_python, new_context):
    people = json.loads(run_python("journal_scenario.py", uuid.uuid4().hex[:6]))
    mentor, mentee, password = people["mentor"], people["mentee"], people["password"]

    # The mentor finds the journal from the home page and plans the next meeting.
    sign_in(page, mentor["email"], password)
    page.get_by_role("link", name="Your journal and meetings").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Your journal with {mentee['name']}")
    check_a11y(page, "an empty journal")
    page.get_by_role("link", name="Plan the next meeting").click()
    check_a11y(page, "the plan form")
    page.get_by_label("Day").fill((today() + timedelta(days=7)).isoformat())
    page.get_by_label("Time", exact=True).fill("14:30")
    page.get_by_label("Length in minutes").fill("300")
    page.get_by_label("How you will meet").select_option(label="Video call")
    page.get_by_role("button", name="Plan the meeting").click()
    expect(page.locator("#duration_minutes-error")).to_contain_text("between 15 and 240 minutes")
    expect(page.get_by_label("Time", exact=True)).to_have_value("14:30")  # nothing typed is lost
    check_a11y(page, "the plan form with an error")
    page.get_by_label("Length in minutes").fill("45")
    page.get_by_role("button", name="Plan the meeting").click()
    expect(page.locator("#status")).to_contain_text(f"{mentee['name']} has been told")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Meeting on")
    check_a11y(page, "a planned meeting")

    # The calendar file downloads with the event in it.
    with page.expect_download() as download:
        page.get_by_role("link", name="Add to your calendar").click()
    calendar = Path(download.value.path()).read_text()
    assert calendar.startswith("BEGIN:VCALENDAR") and "DTSTART;TZID=Europe/London:" in calendar
    assert f"SUMMARY:Mentoring: {mentor['name']} and {mentee['name']}" in calendar

    # Life happens: the meeting moves, with a reason.
    page.get_by_role("link", name="Move it").click()
    check_a11y(page, "the reschedule form")
    page.get_by_label("New day").fill((today() + timedelta(days=9)).isoformat())
    page.get_by_label("New time", exact=True).fill("10:00")
    page.get_by_label("A short reason").fill("A team offsite that day")
    page.get_by_role("button", name="Move the meeting").click()
    expect(page.locator("#status")).to_contain_text("The meeting is moved")
    expect(page.get_by_text("A team offsite that day")).to_be_visible()
    # Both partners are in the organisation's zone (London): one time, with the zone's short name.
    expect(page.get_by_text(re.compile(r"^10:00 (GMT|BST), 45 minutes$"))).to_be_visible()
    check_a11y(page, "a moved meeting")
    with page.expect_download() as download:
        page.get_by_role("link", name="Add to your calendar").click()
    assert "SEQUENCE:1" in Path(download.value.path()).read_text()

    # After a meeting, the mentor logs it, linked to the mentee's goal.
    page.get_by_role("link", name=f"Your journal with {mentee['name']}").click()
    page.get_by_role("link", name="Log a meeting you have had").click()
    check_a11y(page, "the log form")
    page.get_by_label("How long, in minutes").fill("40")
    page.get_by_label("How you met").select_option(label="In person")
    page.get_by_label("Topics").fill("Opening offers and walking away")
    page.get_by_label(people["goal"]).check()
    page.get_by_role("button", name="Save to your journal").click()
    expect(page.locator("#status")).to_contain_text("The meeting is in your journal")
    expect(page.get_by_text(f"Goals it moved{people['goal']}")).to_be_visible()
    meeting_url = page.url
    check_a11y(page, "a logged meeting")

    # Each writes a private reflection; each sees only their own.
    page.get_by_label("Your reflection").fill("Asha's private thought: I talked too much.")
    page.get_by_role("button", name="Save my reflection").click()
    expect(page.locator("#status")).to_contain_text("Your reflection is saved. Only you can read it.")
    settled(page)
    check_a11y(page, "after saving a reflection")

    # An action item for the mentee, ticked off in place.
    page.get_by_label("What will be done").fill("Try one pause in the vendor call")
    page.get_by_label("Who will do it").select_option(label=mentee["name"])
    page.get_by_label("By when").fill((today() + timedelta(days=10)).isoformat())
    page.get_by_role("button", name="Add the action item").click()
    expect(page.locator("#status")).to_contain_text("Added: Try one pause in the vendor call.")
    settled(page)
    tick = page.get_by_role("button", name="Done: Try one pause in the vendor call")
    expect(tick).to_have_attribute("aria-pressed", "false")
    check_a11y(page, "an action item added")
    tick.click()
    expect(page.locator("#status")).to_contain_text("Done: Try one pause in the vendor call.")
    expect(page.get_by_role("button", name="Done: Try one pause in the vendor call")).to_have_attribute(
        "aria-pressed", "true"
    )
    settled(page)
    check_a11y(page, "an action item ticked off")

    other_context = new_context()
    other_context.e2e_js_enabled = js_enabled(page)
    other = other_context.new_page()
    watch_console(other)
    sign_in(other, mentee["email"], password)
    other.goto(meeting_url)
    expect(other.get_by_role("heading", name="Your private reflection")).to_be_visible()
    expect(other.get_by_text("What surprised you?")).to_be_visible()
    expect(other.get_by_label("Your reflection")).to_have_value("")
    assert "I talked too much" not in other.content()
    other.get_by_label("Your reflection").fill("Priya's own: ask about pauses next time.")
    other.get_by_role("button", name="Save my reflection").click()
    expect(other.locator("#status")).to_contain_text("Only you can read it")
    settled(other)
    check_a11y(other, "the mentee's meeting page")
    page.reload()
    expect(page.get_by_label("Your reflection")).to_have_value("Asha's private thought: I talked too much.")
    assert "ask about pauses" not in page.content()

    # The mentor starts the notes; then both edit them at once, the mentor saves first, then the mentee.
    page.get_by_label("Notes you both can edit").fill("Agenda\n- goals")
    page.get_by_role("button", name="Save the shared notes").click()
    expect(page.locator("#status")).to_contain_text("The shared notes are saved.")
    settled(page)
    other.reload()
    page.get_by_label("Notes you both can edit").fill("Agenda\n- goals\n- budget")
    other.get_by_label("Notes you both can edit").fill("Our agenda\n- goals")
    page.get_by_role("button", name="Save the shared notes").click()
    expect(page.locator("#status")).to_contain_text("The shared notes are saved.")
    settled(page)
    other.get_by_role("button", name="Save the shared notes").click()
    expect(other.get_by_role("heading", name=re.compile("saved the notes while you were writing"))).to_be_visible()
    merge = other.locator(".merge")
    expect(merge.get_by_role("region", name="The version you both started from")).to_have_text("Agenda\n- goals")
    expect(merge.get_by_role("list", name=f"What {mentor['name']} changed")).to_contain_text("Added: - budget")
    expect(merge.get_by_role("list", name="What you changed")).to_contain_text("Added: Our agenda")
    merged = other.get_by_label("The merged notes")
    # The shared line appears once; both changes are in, with nothing to settle by hand.
    expect(merged).to_have_value("Our agenda\n- goals\n- budget")
    settled(other)
    check_a11y(other, "the merge view")
    merged.fill("Our agenda\n- goals\n- budget (merged)")
    other.get_by_role("button", name="Save the merged notes").click()
    expect(other.locator("#status")).to_contain_text("The shared notes are saved.")
    settled(other)
    check_a11y(other, "after merging the notes")
    page.reload()
    expect(page.get_by_label("Notes you both can edit")).to_have_value("Our agenda\n- goals\n- budget (merged)")

    # The timeline shows both meetings, newest first, and finds the logged one by its topic.
    page.get_by_role("link", name=f"Your journal with {mentee['name']}").click()
    expect(page.locator(".timeline-entry")).to_have_count(2)
    page.get_by_label("Search topics and shared notes").fill("walking away")
    if not js_enabled(page):
        page.get_by_role("button", name="Search").click()
    expect(page.locator(".timeline-entry")).to_have_count(1)
    expect(page.locator(".timeline-entry")).to_contain_text(people["goal"])
    settled(page)
    check_a11y(page, "a searched journal")
    other_context.close()
