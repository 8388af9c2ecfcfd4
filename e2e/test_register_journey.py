"""Registering: the same answer for a new and a taken address, the emailed link, and a link used twice."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from e2e.helpers import PASSWORD, check_a11y, expect_step, newest_email, open_emailed_link, unique_email


def fill_register_form(page: Page, *, name: str, email: str) -> None:
    page.goto("/accounts/register")
    page.get_by_label("Your name, as colleagues know you").fill(name)
    page.get_by_label("Work email").fill(email)
    page.get_by_label("Team").fill("Field Research")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()


def test_registering_by_the_emailed_link_and_again_with_the_same_address(page: Page):
    email = unique_email("reg")
    fill_register_form(page, name="Kofi Mensah", email=email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    expect(page.get_by_text(f"We sent a link to {email}.")).to_be_visible()
    check_a11y(page, "the check-your-email page")

    open_emailed_link(page, email, "/accounts/register/finish/")
    finish_url = page.url
    expect(page.get_by_role("heading", level=1)).to_have_text("Finish creating your account")
    expect(page.get_by_text(email)).to_be_visible()
    check_a11y(page, "the finish-registering page")
    page.get_by_role("button", name="Create my account").click()
    expect(page.locator("#status")).to_contain_text("Your account is ready")
    expect_step(page, 1, "How would you like to take part?")

    # The link works once; a second use is refused kindly and points to signing in.
    page.get_by_role("button", name="Sign out").click()
    expect(page.locator("#status")).to_contain_text("You are signed out")
    page.goto(finish_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("This link has been used already")
    expect(page.locator("#main").get_by_role("link", name="Sign in")).to_be_visible()
    check_a11y(page, "a registration link used twice")

    # Registering again with the same address answers exactly as for a new one; the owner hears by email.
    fill_register_form(page, name="Someone Else", email=email)
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    expect(page.get_by_text(f"We sent a link to {email}.")).to_be_visible()
    assert "Someone, perhaps you, tried to create a new account" in newest_email(email)


def test_a_changed_link_gets_a_clear_page(page: Page):
    page.goto("/accounts/register/finish/not-a-real-token")
    expect(page.get_by_role("heading", level=1)).to_have_text("This link does not work")
    expect(page.get_by_role("link", name="Register again")).to_be_visible()
    check_a11y(page, "a registration link that does not work")
