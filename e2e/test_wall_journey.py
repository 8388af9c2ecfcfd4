"""The celebration wall in a browser, with JavaScript (htmx) and without.

A milestone proposes a post; its person edits and shares it; a colleague reacts and sends kudos, which the
subject accepts; someone reports a post and the director takes it off the wall. The endless scroll loads older
posts (or links to them without JavaScript). axe checks every page and every swap.
"""

from __future__ import annotations

import json
import re
import uuid

from playwright.sync_api import Page, expect

from e2e.helpers import check_a11y, js_enabled
from e2e.test_matching_journey import sign_in, sign_out


def scenario(run_python) -> dict:
    return json.loads(run_python("wall_scenario.py", uuid.uuid4().hex[:6]))


def settled(page: Page) -> None:
    if js_enabled(page):
        page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping')")


def test_a_milestone_is_shared_a_colleague_reacts_and_sends_kudos_and_the_director_hides_a_report(
    page: Page, run_python
):
    people = scenario(run_python)
    mentee, colleague, director, writer = people["mentee"], people["colleague"], people["director"], people["writer"]
    password = people["password"]

    # The milestone's proposal waits in the mentee's notifications; nothing is on the wall yet.
    sign_in(page, mentee["email"], password)
    page.get_by_role("link", name=re.compile(r"^Notifications")).click()
    page.get_by_role("link", name=re.compile(r"^Open\W+Would you like to celebrate")).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Celebrate this?")
    expect(page.get_by_label("Your words")).to_have_value("I reached a milestone: led the vendor call")
    check_a11y(page, "a proposed celebration")
    page.get_by_label("Your words").fill("")
    page.get_by_role("button", name="Share it").click()
    expect(page.locator("#text-error")).to_contain_text("Please write a few words.")
    check_a11y(page, "a proposal with an error")
    page.get_by_label("Your words").fill("Led my first vendor call calmly, see https://example.com/notes")
    page.get_by_label("Everyone in the program").check()
    page.get_by_role("button", name="Share it").click()
    expect(page.locator("#status")).to_contain_text("It is on the wall")
    expect(page.get_by_role("link", name="https://example.com/notes")).to_have_attribute("rel", "nofollow noopener")
    check_a11y(page, "a shared celebration")
    sign_out(page)

    # A colleague reads the wall, claps, and sends kudos.
    sign_in(page, colleague["email"], password)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Wall").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Celebration wall")
    check_a11y(page, "the wall")
    post = page.locator("article.post", has_text=mentee["name"]).filter(has_text="Led my first vendor call")
    clap = post.get_by_role("button", name=re.compile(r"^Clap for"))
    expect(clap).to_have_attribute("aria-pressed", "false")
    clap.focus()
    page.keyboard.press("Enter")
    post = page.locator("article.post", has_text=mentee["name"]).filter(has_text="Led my first vendor call")
    clapped = post.get_by_role("button", name=re.compile(r"^Clap 1"))
    expect(clapped).to_have_attribute("aria-pressed", "true")
    settled(page)
    if js_enabled(page):
        expect(page.locator("#status")).to_contain_text("Clap added.")
        expect(clapped).to_be_focused()  # the swap keeps the keyboard where it was
    check_a11y(page, "the wall after a reaction")

    page.get_by_role("link", name="Send kudos").first.click()
    check_a11y(page, "the kudos form")
    # Find the colleague by typing part of their name: type-ahead with JavaScript, "Find" without.
    page.get_by_label("Find a colleague by name").fill(mentee["name"])
    if not js_enabled(page):
        page.get_by_role("button", name="Find").click()
    page.get_by_role("link", name=f"Thank {mentee['name']}").click()
    expect(page.get_by_label("Their work email")).to_have_value(mentee["email"])
    check_a11y(page, "the kudos form with a colleague chosen")
    page.get_by_label("The soft skill they showed").select_option(label="Negotiation")
    page.get_by_label("Your words").fill(f"Kudos to {mentee['name']} for confident negotiation")
    page.get_by_role("button", name="Send kudos").click()
    expect(page.locator("#status")).to_contain_text("Your kudos are on their way")
    check_a11y(page, "your celebrations after sending kudos")
    sign_out(page)

    # The subject accepts the kudos; only then are they on the wall.
    sign_in(page, mentee["email"], password)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Wall").click()
    expect(page.get_by_text(f"Kudos to {mentee['name']} for confident")).to_have_count(0)
    page.get_by_role("link", name="See what waits for you").click()
    check_a11y(page, "your celebrations")
    page.get_by_role("link", name=f"Kudos from {colleague['name']}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Kudos for you")
    check_a11y(page, "kudos for you")
    page.get_by_role("button", name="Put them on the wall").click()
    expect(page.locator("#status")).to_contain_text("Your kudos are on the wall")
    check_a11y(page, "accepted kudos")
    sign_out(page)

    # A colleague reports a post privately; the director takes it off the wall.
    sign_in(page, colleague["email"], password)
    wall_of_writer = f"/celebrations/?team={people['writer_team_id']}"
    page.goto(wall_of_writer)
    page.locator("article.post", has_text="Wall story 01").get_by_role("link", name=re.compile("^Open")).click()
    page.get_by_text("Report this post privately").click()
    page.get_by_label("What is wrong? (optional)").fill("It names a customer.")
    page.get_by_role("button", name="Send the report").click()
    expect(page.locator("#status")).to_contain_text("The program director will look at it")
    check_a11y(page, "after reporting")
    sign_out(page)

    sign_in(page, director["email"], password)
    page.goto("/celebrations/reports")
    report = page.locator("article", has_text=writer["name"]).filter(has_text="It names a customer.")
    expect(report).to_contain_text(writer["name"])
    check_a11y(page, "the director's reports")
    report.get_by_role("button", name=re.compile("^Take it off the wall")).click()
    expect(page.locator("#status")).to_contain_text("The post is off the wall")
    hidden = page.locator("section", has=page.get_by_role("heading", name="Taken off the wall"))
    expect(hidden).to_contain_text(f"Wall story 01 from {people['tag']}")
    check_a11y(page, "reports after hiding")
    page.goto(wall_of_writer)
    expect(page.get_by_text("Wall story 02")).to_be_visible()
    expect(page.get_by_text("Wall story 01")).to_have_count(0)
    page.goto("/celebrations/")
    expect(page.locator("article.post", has_text=f"Kudos to {mentee['name']} for confident")).to_be_visible()


def test_the_wall_scrolls_endlessly_and_links_older_posts_without_javascript(page: Page, run_python):
    people = scenario(run_python)
    sign_in(page, people["colleague"]["email"], people["password"])
    page.goto(f"/celebrations/?team={people['writer_team_id']}")
    items = page.locator("li.wall-item")
    expect(items).to_have_count(20)
    check_a11y(page, "the wall filtered by team")
    if js_enabled(page):
        page.locator("li.wall-more").scroll_into_view_if_needed()
        expect(items).to_have_count(25)
        expect(page.locator("#status")).to_contain_text("5 more posts loaded.")
        expect(page.get_by_text("That is every celebration that matches.")).to_be_visible()
        settled(page)
        check_a11y(page, "the wall after loading older posts")
        # The older posts react in place like the first ones.
        oldest = page.locator("article.post", has_text="Wall story 25")
        oldest.get_by_role("button", name=re.compile(r"^Sparkle for")).click()
        expect(oldest.get_by_role("button", name=re.compile(r"^Sparkle 1"))).to_have_attribute("aria-pressed", "true")
        settled(page)
        check_a11y(page, "a reaction on a loaded post")
    else:
        page.get_by_role("link", name="Older posts").click()
        expect(items).to_have_count(5)
        expect(page.get_by_text("Wall story 25")).to_be_visible()
        expect(page.get_by_role("link", name="Back to the newest posts")).to_be_visible()
        check_a11y(page, "older posts without JavaScript")
        oldest = page.locator("article.post", has_text="Wall story 25")
        oldest.get_by_role("button", name=re.compile(r"^Sparkle for")).click()
        expect(oldest.get_by_role("button", name=re.compile(r"^Sparkle 1"))).to_have_attribute("aria-pressed", "true")
        expect(items).to_have_count(5)  # back on the same older page
        check_a11y(page, "older posts after a reaction")
