"""The mentee sets a goal with two milestones; the mentor suggests; milestones tick in place. JS on and off."""

from __future__ import annotations

import json
import re
import uuid
from datetime import date, timedelta

from playwright.sync_api import Page, expect

from e2e.helpers import assert_controls_clear_of_text, check_a11y, js_enabled
from e2e.test_matching_journey import sign_in, sign_out


def test_a_mentee_sets_a_goal_the_mentor_suggests_and_milestones_tick(page: Page, run_python):
    people = json.loads(run_python("scenario.py", uuid.uuid4().hex[:6], "paired"))
    mentor, mentee = people["mentor"], people["mentee"]

    sign_in(page, mentee["email"], people["password"])
    expect(page.get_by_role("heading", name=f"Your mentor is {mentor['name']}")).to_be_visible()
    page.get_by_role("link", name="Set your first goal").click()
    check_a11y(page, "new goal form")

    page.get_by_label("Goal", exact=True).fill("Run calmer negotiations")
    page.get_by_label("The specific outcome").fill("Agreements both sides feel good about.")
    page.get_by_role("button", name="Set this goal").click()  # the measure is missing
    expect(page.locator("#measure-error")).to_contain_text("how you will measure success")
    expect(page.get_by_label("Goal", exact=True)).to_have_value("Run calmer negotiations")
    check_a11y(page, "goal form with errors")
    page.get_by_label("How you will measure success").fill("A note after each negotiation.")
    page.get_by_label("Target").fill("3 of the next 4")
    page.get_by_label("Due date").fill((date.today() + timedelta(days=60)).isoformat())
    page.get_by_label("Negotiation").check()
    page.get_by_label("The work project you practise on").fill("The vendor contract renewal")
    page.get_by_role("button", name="Set this goal").click()
    card = page.locator("article.goal-card", has_text="Run calmer negotiations")
    expect(card).to_contain_text("0% of the way")
    check_a11y(page, "goals page")

    for step in ["Prepare my opening position", "Role-play with my mentor"]:
        card = page.locator("article.goal-card", has_text="Run calmer negotiations")
        card.get_by_label("Next step").fill(step)
        card.get_by_role("button", name=re.compile("^Add milestone")).click()
        expect(page.locator("article.goal-card", has_text=step)).to_be_visible()
        check_a11y(page, f"after adding {step}")
    # "Mark done" sits beside each milestone's title without covering it, from a small phone up.
    assert_controls_clear_of_text(page, "article.goal-card")
    card = page.locator("article.goal-card", has_text="Run calmer negotiations")
    card.get_by_role("button", name=re.compile(r"^Mark done\W+Prepare my opening position")).click()
    expect(page.locator("article.goal-card", has_text="Run calmer negotiations")).to_contain_text("50% of the way")
    if js_enabled(page):
        expect(page.locator("#status")).to_contain_text("is done. Well done")
    check_a11y(page, "after ticking a milestone")
    # "Share this on the wall?" is offered right there: one click posts the (edited) words.
    offer = page.locator(".share-offer")
    expect(offer.get_by_role("heading", name="Share this on the wall?")).to_be_visible()
    expect(offer.get_by_label("Your words")).to_have_value("I reached a milestone: Prepare my opening position")
    assert_controls_clear_of_text(page, ".share-offer")
    offer.get_by_label("Your words").fill("First step done: my opening position, calmly.")
    offer.get_by_role("button", name="Post on the wall").click()
    expect(page.get_by_text("It is on the wall. Thank you for sharing your progress.")).to_be_visible()
    expect(page.locator(".share-offer")).to_have_count(0)
    check_a11y(page, "after sharing from the goal card")

    # Edit in place (a page of its own without JavaScript): change the target and save.
    card = page.locator("article.goal-card", has_text="Run calmer negotiations")
    card.locator("summary").click()
    card.get_by_role("link", name=re.compile("^Edit this goal")).click()
    expect(page.get_by_role("heading", name="Edit your goal")).to_be_visible()
    check_a11y(page, "editing a goal")
    page.get_by_label("Target").fill("4 of the next 5")
    page.get_by_role("button", name="Save my goal").click()
    expect(page.locator("article.goal-card", has_text="Run calmer negotiations")).to_contain_text("4 of the next 5")
    check_a11y(page, "after editing a goal")
    sign_out(page)

    sign_in(page, mentor["email"], people["password"])
    page.get_by_role("link", name="All goals of this pair").click()
    card = page.locator("article.goal-card", has_text="Run calmer negotiations")
    expect(card.get_by_role("link", name=re.compile("^Edit this goal"))).to_have_count(0)  # the mentee drives
    card.get_by_label("Comment or suggest a change").fill("Maybe practise with a low-stakes contract first?")
    card.get_by_label("This is a suggested change").check()
    card.get_by_role("button", name=re.compile("^Post")).click()
    expect(page.locator("article.goal-card", has_text="Run calmer negotiations")).to_contain_text(
        f"{mentor['name']} suggests"
    )
    check_a11y(page, "after the mentor's suggestion")
    expect(page.locator("#main")).to_contain_text("50% of the way")
