"""The mentee drives, the mentor answers, the director matches the rest: in a real browser, JS on and off."""

from __future__ import annotations

import json
import re
import uuid

from playwright.sync_api import Page, expect

from e2e.helpers import check_a11y, js_enabled


def sign_in(page: Page, email: str, password: str) -> None:
    page.goto("/accounts/sign-in")
    page.get_by_label("Work email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Sign in")).to_be_visible()


def scenario(run_python) -> dict:
    return json.loads(run_python("scenario.py", uuid.uuid4().hex[:6]))


def test_a_mentee_asks_a_recommended_mentor_who_accepts(page: Page, run_python):
    people = scenario(run_python)
    mentor, mentee = people["mentor"], people["mentee"]

    sign_in(page, mentee["email"], people["password"])
    page.get_by_role("link", name="Mentoring", exact=True).click()
    expect(page.get_by_role("heading", name="Mentors who fit you")).to_be_visible()
    expect(page.get_by_text("chosen for you from your answers")).to_be_visible()
    card = page.locator("article.mentor-card", has_text=mentor["name"])
    expect(card).to_contain_text("You both value curiosity and kindness")
    expect(card).to_contain_text("Asha offers negotiation, which you want to grow")
    check_a11y(page, "mentors who fit you")

    card.get_by_role("button", name=f"Save {mentor['name']} for later").click()
    if js_enabled(page):
        # htmx swaps the button in place and announces it in the status region.
        expect(card.get_by_role("button", name=re.compile(r"^Saved\W+" + re.escape(mentor["name"])))).to_be_visible()
        expect(page.locator("#status")).to_contain_text("saved for later")
    else:
        expect(page.get_by_role("heading", name="Saved for later")).to_be_visible()
    check_a11y(page, "after saving a mentor")

    page.locator("article.mentor-card", has_text=mentor["name"]).get_by_role("link", name="Ask Asha").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Ask {mentor['name']} to mentor you")
    page.get_by_role("button", name="Send my request").click()  # nothing written yet
    expect(page.locator("#note-error")).to_contain_text("Please write a line or two")
    check_a11y(page, "request form with an error")
    page.get_by_label("A short note to the mentor").fill(
        "I negotiate a lot with vendors and would love to do it calmly."
    )
    page.get_by_label("Once a month").check()
    page.get_by_role("button", name="Send my request").click()
    expect(page.locator("#status")).to_contain_text(f"Your request is on its way to {mentor['name']}")
    expect(page.get_by_role("heading", name="Your requests")).to_be_visible()
    check_a11y(page, "mentoring page with a request")
    sign_out(page)

    sign_in(page, mentor["email"], people["password"])
    page.get_by_role("link", name="Mentoring", exact=True).click()
    page.get_by_role("link", name="Read and answer").click()
    page.get_by_role("link", name=mentee["name"]).click()
    expect(page.get_by_text("I negotiate a lot with vendors")).to_be_visible()
    expect(page.get_by_role("heading", name="Why this match was suggested")).to_be_visible()
    expect(page.get_by_label("A message to go with your answer")).to_contain_text("not about you")
    check_a11y(page, "a request to the mentor")
    page.get_by_label("A message to go with your yes").fill("Gladly. Let's meet next week.")
    page.get_by_role("button", name="Accept").click()
    expect(page.get_by_role("heading", name=f"You mentor {mentee['name']}")).to_be_visible()
    check_a11y(page, "mentor's home with the pairing")
    sign_out(page)

    sign_in(page, mentee["email"], people["password"])
    expect(page.get_by_role("heading", name=f"Your mentor is {mentor['name']}")).to_be_visible()
    expect(page.get_by_text("Why you were matched")).to_be_visible()
    page.get_by_role("link", name="Notifications").click()
    expect(page.get_by_text("Gladly. Let's meet next week.")).to_be_visible()
    check_a11y(page, "notifications after the yes")


def test_the_director_matches_the_rest_drops_one_and_publishes(page: Page, run_python):
    people = scenario(run_python)
    sign_in(page, people["director"]["email"], people["password"])
    page.get_by_role("link", name="Cycles").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Program cycles")
    check_a11y(page, "cycles")
    page.get_by_role("link", name="E2E season").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("E2E season")
    check_a11y(page, "the current cycle")
    page.get_by_role("button", name="Match the rest").click()
    if not js_enabled(page):
        # Without JavaScript nothing polls: the person checks, as the page invites them to.
        for _ in range(50):
            if page.get_by_role("heading", name="Proposed pairs").count():
                break
            page.wait_for_timeout(200)
            page.get_by_role("link", name="Check progress").click()
    expect(page.get_by_role("heading", name="Proposed pairs")).to_be_visible(timeout=30_000)
    check_a11y(page, "matching review")

    rows = page.locator("table").first.locator("tbody tr")
    first_mentee = rows.first.locator("th").inner_text().split(" (")[0]
    rows.first.get_by_role("button", name="Drop").click()
    expect(page.locator("#status")).to_contain_text(f"The pair for {first_mentee} is dropped.")
    expect(page.locator("tr.dropped")).to_have_count(1)
    check_a11y(page, "matching review after dropping a pair")
    page.get_by_role("button", name="Publish these pairs").click()
    expect(page.locator("#status")).to_contain_text("pairings are published and everyone is told")
    expect(page.get_by_text(re.compile(r"Published \d+ \w+ \d{4}"))).to_be_visible()
    expect(page.get_by_role("button", name="Publish these pairs")).to_have_count(0)
    check_a11y(page, "published run")
