"""The back-up plan in a real browser, JS on and off, axe on every page and after every swap: a mentee answers
"Not a good fit" and asks the director for help; the director sees the pair flagged, answers and ends the
pairing for them; the mentee finds another mentor, who accepts; the old mentor sees only the neutral message
and still reads the old journal."""

from __future__ import annotations

import json
import re
import uuid

from playwright.sync_api import Page, expect

from e2e.helpers import check_a11y, js_enabled, watch_console


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


def new_page(context_factory, js: bool) -> Page:
    context = context_factory()  # the JavaScript setting comes from browser_context_args
    context.e2e_js_enabled = js
    page = context.new_page()
    watch_console(page)
    return page


def test_a_pair_that_does_not_fit_finds_a_kind_way_out(page: Page, run_python, new_context):
    people = json.loads(run_python("support_scenario.py", uuid.uuid4().hex[:6]))
    mentor, mentee, fresh, director = people["mentor"], people["mentee"], people["new_mentor"], people["director"]
    password, pairing_id = people["password"], people["pairing_id"]
    js = js_enabled(page)

    # The mentee answers the first check-in privately: "Not a good fit", with a note for the director.
    sign_in(page, mentee["email"], password)
    card = page.locator(f"#check-in-{pairing_id}")
    expect(card).to_contain_text("How is this pairing going for you?")
    check_a11y(page, "home with a check-in")
    card.get_by_role("button", name="Send my answer").click()
    settled(page)
    expect(page.locator("#fit-error")).to_contain_text("Please choose the answer closest")
    check_a11y(page, "a check-in with an error")
    card = page.locator(f"#check-in-{pairing_id}")
    card.get_by_label("Not a good fit").check()
    card.get_by_label("A note for the program director (optional)").fill("We rarely agree on when to meet.")
    card.get_by_role("button", name="Send my answer").click()
    settled(page)
    expect(page.locator("#status")).to_contain_text("only the program director sees it")
    expect(page.get_by_text("How is this pairing going for you?")).to_have_count(0)
    check_a11y(page, "home after the check-in")

    # ... and asks the director for help, from the pairing's card on the home page.
    page.locator(f'a[href="/support/ask?pairing_id={pairing_id}"]').first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ask the program director")
    check_a11y(page, "the ask form")
    page.get_by_label("How we fit").check()
    page.get_by_label("Your message").fill("My mentor and I do not click. Could you help?")
    page.get_by_role("button", name="Send to the program director").click()
    expect(page.locator("#status")).to_contain_text("Only they can read it")
    check_a11y(page, "the question's thread")

    # The director sees the pair flagged on the board, answers, and ends the pairing for them.
    boss = new_page(new_context, js)
    sign_in(boss, director["email"], password)
    state = boss.get_by_role("region", name="The program today")
    expect(state).to_contain_text("1 question waits for a first answer")
    check_a11y(boss, "the director's home")
    state.get_by_role("link", name="Pairs that may need help", exact=True).click()
    boss.get_by_label("Health").select_option("needs_check_in")
    boss.get_by_role("button", name="Show").click()
    settled(boss)
    row = boss.get_by_role("row").filter(has_text=mentee["name"])
    expect(row).to_contain_text("A partner answered Not a good fit")
    expect(row).to_contain_text("A question for the director is open")
    check_a11y(boss, "the board filtered")
    row.get_by_role("link").click()
    expect(boss.get_by_text("Note for you: We rarely agree on when to meet.")).to_be_visible()
    expect(boss.get_by_text("Our first notes")).to_have_count(0)  # never journal text
    check_a11y(boss, "a pair for the director")
    boss.goto("/support/queue")
    boss.get_by_role("link", name=re.compile(mentee["name"])).first.click()
    expect(boss.get_by_text("My mentor and I do not click.")).to_be_visible()
    boss.get_by_label("Your message").fill("Thank you for telling me. I will close this pairing kindly for you.")
    boss.get_by_role("button", name="Send your answer").click()
    expect(boss.locator("#status")).to_contain_text("has been told")
    check_a11y(boss, "a question answered")
    boss.goto(f"/support/pairs/{pairing_id}")
    boss.get_by_role("link", name="End this pairing for them").click()
    check_a11y(boss, "the director's ending form")
    boss.get_by_label("Not the right fit").check()
    boss.get_by_role("button", name="End the pairing").click()
    expect(boss.locator("#status")).to_contain_text("Both people have been told")
    expect(boss.get_by_role("heading", name="Closing survey")).to_be_visible()
    check_a11y(boss, "an ended pair for the director")

    # The mentee finds another mentor, who accepts.
    page.goto("/")
    expect(page.get_by_role("heading", name="Earlier pairings")).to_be_visible()
    page.get_by_role("link", name="Find another mentor").click()
    check_a11y(page, "mentors who fit, again")
    expect(page.locator(f'a[href="/matches/mentors/{mentor["id"]}/request"]')).to_have_count(0)
    page.locator(f'a[href="/matches/mentors/{fresh["id"]}/request"]').first.click()
    page.get_by_label("A short note to the mentor").fill("I would love to try working together.")
    page.get_by_label("Once a month").check()
    page.get_by_role("button", name="Send my request").click()
    expect(page.locator("#status")).to_contain_text(f"on its way to {fresh['name']}")

    other = new_page(new_context, js)
    sign_in(other, fresh["email"], password)
    other.goto("/matches/requests")
    other.get_by_role("link", name=re.compile(mentee["name"])).first.click()
    other.get_by_role("button", name="Accept").click()
    expect(other.locator("#status")).to_contain_text("You are now a pair")

    # The old mentor sees only the neutral message, and still reads the old journal.
    old = new_page(new_context, js)
    sign_in(old, mentor["email"], password)
    old.goto("/notifications/")
    expect(old.get_by_text(f"Your mentoring pairing with {mentee['name']} has come to a close.")).to_be_visible()
    expect(old.get_by_text("Not the right fit")).to_have_count(0)
    expect(old.get_by_text("do not click")).to_have_count(0)
    check_a11y(old, "the old mentor's notifications")
    old.goto("/")
    old.get_by_role("link", name=f"With {mentee['name']}").click()
    expect(old.get_by_role("heading", name="This pairing has come to a close")).to_be_visible()
    check_a11y(old, "an ended pairing")
    old.get_by_role("link", name="Read your journal").click()
    expect(old.get_by_text("it can no longer be changed")).to_be_visible()
    expect(old.get_by_role("link", name="Plan the next meeting")).to_have_count(0)
    expect(old.get_by_text("Getting started")).to_be_visible()
    check_a11y(old, "the old journal, read only")
