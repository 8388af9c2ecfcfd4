"""Forms keep what was typed when the input is not accepted, and drafts of written answers are kept."""

from __future__ import annotations

import re
from urllib.parse import parse_qs

import pytest
from playwright.sync_api import Page, expect

from e2e.helpers import check_a11y, expect_step, finish_registration, js_enabled, register, unique_email

VALUES_TITLE = "Which values matter most to you at work?"
ANYTHING_ELSE_TITLE = "Anything else you would like us to know?"


def test_register_with_a_short_password_keeps_what_was_typed(page: Page):
    email = unique_email("short")
    page.goto("/accounts/register")
    page.get_by_label("Your name, as colleagues know you").fill("Jo Bautista")
    page.get_by_label("Work email").fill(email)
    page.get_by_label("Team").fill("Field Research")
    page.get_by_label("Password").fill("too short")

    with page.expect_response(
        lambda response: response.request.method == "POST" and response.url.endswith("/accounts/register")
    ) as sent:
        page.get_by_role("button", name="Create my account").click()
    assert sent.value.status == 422

    message = "Please use at least 12 characters. A short sentence works well."
    password = page.get_by_label("Password", exact=True)
    # The message sits in the password field's group and is tied to the input for screen readers.
    error = page.locator(".field", has=password).locator(".error")
    expect(error).to_have_text(f"Error: {message}")
    expect(error).to_be_visible()
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(password).to_have_accessible_description(f"{_password_hint()} Error: {message}")
    expect(password).to_have_value("")  # a password is never sent back to the page

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Please check this")
    expect(summary.get_by_role("link", name=message)).to_have_attribute("href", "#password")

    expect(page.get_by_label("Your name, as colleagues know you")).to_have_value("Jo Bautista")
    expect(page.get_by_label("Work email")).to_have_value(email)
    expect(page.get_by_label("Team")).to_have_value("Field Research")
    if js_enabled(page):
        expect(summary).to_be_focused()
    page.wait_for_load_state("load")
    check_a11y(page, "the register page with a password error")

    # The summary's link leads to the field; fixing the password then creates the account.
    summary.get_by_role("link", name=message).click()
    expect(password).to_be_focused()
    password.fill("a gentle morning swim 42")
    page.get_by_role("button", name="Create my account").click()
    finish_registration(page, email)
    expect_step(page, 1, "How would you like to take part?")


def _password_hint() -> str:
    return "At least 12 characters. A short sentence works well; a password manager is welcome."


def _go_to_values_step(page: Page, base_url: str) -> None:
    register(page)
    page.goto(f"{base_url}/onboarding/step/values")
    expect_step(page, 5, VALUES_TITLE)


def test_too_many_choices_keeps_the_boxes_ticked(page: Page, base_url: str):
    _go_to_values_step(page, base_url)
    picked = ["Curiosity", "Integrity", "Kindness", "Courage"]
    for label in picked:
        page.get_by_label(label, exact=True).check()

    with page.expect_response(
        lambda response: response.request.method == "POST" and response.url.endswith("/onboarding/step/values")
    ) as sent:
        page.get_by_role("button", name="Continue").click()
    assert sent.value.status == 422

    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Please pick up to 3; you picked 4.")
    expect(page.locator("#values-error")).to_have_text("Error: Please pick up to 3; you picked 4.")
    # The fieldset's description carries its hint and the error, so a screen reader hears both.
    expect(page.get_by_role("group", name=VALUES_TITLE)).to_have_accessible_description(
        re.compile(r"Pick up to three\..*Error: Please pick up to 3; you picked 4\.")
    )
    # Still step 5: nothing was saved, and the four boxes are still ticked.
    expect_step(page, 5, VALUES_TITLE)
    for label in picked:
        expect(page.get_by_label(label, exact=True)).to_be_checked()
    expect(page.get_by_label("Growth", exact=True)).not_to_be_checked()
    if js_enabled(page):
        # The failed submit was an htmx swap; focus moves to the error summary, not the heading.
        expect(summary).to_be_focused()
    check_a11y(page, "the values step with too many choices")

    # Untick one and the answer is accepted.
    page.get_by_label("Courage", exact=True).uncheck()
    page.get_by_role("button", name="Continue").click()
    expect_step(page, 6, "Which experiences have you had, or would like to talk about?")
    expect(page.get_by_role("alert")).to_have_count(0)


def _is_draft_of(response, text: str) -> bool:
    request = response.request
    if request.method != "POST" or not response.url.endswith("/onboarding/draft/anything_else"):
        return False
    return parse_qs(request.post_data or "").get("text") == [text]


@pytest.mark.parametrize("js_enabled", [pytest.param(True, id="js")])
def test_draft_of_a_written_answer_is_autosaved(page: Page, base_url: str):
    register(page)
    page.goto(f"{base_url}/onboarding/step/anything_else")
    expect_step(page, 11, ANYTHING_ELSE_TITLE)
    status = page.locator("#draft-status")
    expect(status).to_have_text("")

    text = "Please no early mornings. I care about accessible design."
    box = page.get_by_role("textbox", name=ANYTHING_ELSE_TITLE)
    with page.expect_response(lambda response: _is_draft_of(response, text)) as saved:
        box.press_sequentially(text, delay=5)
    assert saved.value.status == 200
    expect(status).to_have_text("Draft saved.")
    expect(box).to_be_focused()  # saving the draft does not take the focus away
    check_a11y(page, "the written step after its draft was saved")

    page.reload()
    expect_step(page, 11, ANYTHING_ELSE_TITLE)
    expect(page.get_by_role("textbox", name=ANYTHING_ELSE_TITLE)).to_have_value(text)
    expect(status).to_have_text("Your unsent draft from last time is kept here.")
    check_a11y(page, "the written step with a kept draft")
