"""The whole onboarding journey in a browser, once with JavaScript (htmx swaps) and once without."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from e2e.helpers import PASSWORD, check_a11y, expect_step, js_enabled, register

TITLES = {
    1: "How would you like to take part?",
    2: "Which soft skills would you like to grow?",
    3: "Which soft skills could you help someone else grow?",
    4: "What are you interested in?",
    5: "Which values matter most to you at work?",
    6: "Which experiences have you had, or would like to talk about?",
    7: "Who would you like to be matched with?",
    8: "How much time could you give?",
    9: "How would you like to meet?",
    10: "How would you like to start?",
    11: "Anything else you would like us to know?",
}


def arrive_at(page: Page, number: int, label: str) -> None:
    """Step ``number`` is showing: check it, where focus is, and its accessibility."""
    expect_step(page, number, TITLES[number])
    if js_enabled(page):
        expect(page.locator("#step-title")).to_be_focused()
    check_a11y(page, label)


def press_button(page: Page, name: str) -> None:
    """Reach a step's button with Tab from the field above it and press Enter, as a keyboard user would."""
    button = page.get_by_role("button", name=name, exact=True)
    for _ in range(40):
        if button.evaluate("element => element === document.activeElement"):
            break
        page.keyboard.press("Tab")
    expect(button).to_be_focused()
    page.keyboard.press("Enter")


def start_of_main(page: Page) -> None:
    """Put keyboard focus at the start of the main content, like a keyboard user would.

    With JavaScript, focus is already on the step heading after an htmx swap. Otherwise (and after a full
    page load) the first Tab reaches the skip link, and Enter on it moves the focus start into <main>.
    """
    if js_enabled(page) and page.locator("#step-title").evaluate("h => h === document.activeElement"):
        return
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")


def test_onboarding_journey(page: Page, base_url: str):
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Grow with a colleague who fits")
    check_a11y(page, "the welcome page")

    page.get_by_role("link", name="Create an account").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Create an account")
    check_a11y(page, "the register page")
    email = register(page, name="Mina Okafor", team="Customer Care")
    expect(page.locator("#status")).to_contain_text("Your account is ready")
    expect_step(page, 1, TITLES[1])
    check_a11y(page, "step 1 after registering")
    # The progress bar can be seen: a drawn track with a border, tall enough, and some of it filled.
    bar = page.locator("progress.progress")
    assert bar.bounding_box()["height"] >= 12
    look = bar.evaluate("(el) => [getComputedStyle(el).appearance, getComputedStyle(el).borderTopWidth, el.value]")
    assert look[0] == "none" and look[1] != "0px" and look[2] >= 1, look

    # Step 1 by keyboard only: skip link, Tab into the radio group, arrow to the second option, Tab to
    # "Continue", Enter.
    start_of_main(page)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Be mentored")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(page.get_by_label("Mentor someone")).to_be_checked()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Continue")).to_be_focused()
    page.keyboard.press("Enter")
    arrive_at(page, 2, "step 2")
    expect(page.locator("#status")).to_contain_text("Your answer is saved. Step 2 of 11.")

    # Step 2 by keyboard too: Space ticks a checkbox, Tab moves on.
    start_of_main(page)
    page.keyboard.press("Tab")
    expect(page.get_by_role("checkbox", name="Communication")).to_be_focused()
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.get_by_role("checkbox", name="Assertiveness")).to_be_focused()
    page.keyboard.press("Space")
    expect(page.get_by_role("checkbox", name="Communication")).to_be_checked()
    expect(page.get_by_role("checkbox", name="Assertiveness")).to_be_checked()
    expect(page.get_by_role("checkbox", name="Clear, succinct writing")).not_to_be_checked()
    press_button(page, "Continue")
    arrive_at(page, 3, "step 3")

    # Step 3 is skipped.
    page.get_by_role("button", name="Skip for now").click()
    arrive_at(page, 4, "step 4")
    expect(page.locator("#status")).to_contain_text("Your answer is skipped for now. Step 4 of 11.")

    page.get_by_label("Design").check()
    page.get_by_label("Sport and the outdoors").check()
    page.get_by_role("button", name="Continue").click()
    arrive_at(page, 5, "step 5")

    # Back once: step 4 again, with its answers kept; then on again.
    back = page.get_by_role("link", name="Back to step 4")
    expect(back).to_be_visible()
    back.click()
    arrive_at(page, 4, "step 4 again, by the Back link")
    expect(page).to_have_url(f"{base_url}/onboarding/step/interests")
    expect(page.get_by_label("Design")).to_be_checked()
    expect(page.get_by_label("Sport and the outdoors")).to_be_checked()
    page.get_by_role("button", name="Continue").click()
    arrive_at(page, 5, "step 5 again")

    page.get_by_label("Kindness").check()
    page.get_by_label("Curiosity").check()
    page.get_by_role("button", name="Continue").click()
    arrive_at(page, 6, "step 6")

    # Leave for now: back home, then sign out.
    page.get_by_role("button", name="Save and finish later").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Mina Okafor")
    expect(page.locator("#status")).to_contain_text("You can pick up where you left off")
    expect(page.get_by_text("You have answered 4 of 11 questions.")).to_be_visible()
    page.wait_for_load_state("load")
    check_a11y(page, "the home page after 'Save and finish later'")

    page.get_by_role("navigation", name="Main").get_by_role("button", name="Sign out").click()
    expect(page.locator("#status")).to_contain_text("You are signed out")
    expect(page.get_by_role("heading", level=1)).to_have_text("Grow with a colleague who fits")
    page.wait_for_load_state("load")
    check_a11y(page, "the welcome page after signing out")

    # Sign in again and resume at the first step never reached (6), not at the skipped one (3).
    page.goto("/accounts/sign-in")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    check_a11y(page, "the sign-in page")
    page.get_by_label("Work email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Mina Okafor")
    page.wait_for_load_state("load")
    check_a11y(page, "the home page after signing in")

    page.get_by_role("link", name="Continue the questionnaire").click()
    expect_step(page, 6, TITLES[6])
    expect(page).to_have_url(f"{base_url}/onboarding/step/experiences")
    check_a11y(page, "step 6 after resuming")

    page.get_by_label("Changing career").check()
    page.get_by_role("button", name="Continue").click()
    arrive_at(page, 7, "step 7")
    page.get_by_label("Someone with a different perspective").check()
    page.get_by_role("button", name="Continue").click()
    arrive_at(page, 8, "step 8")
    page.get_by_label("1 hour a month").check()
    page.get_by_role("button", name="Continue").click()
    arrive_at(page, 9, "step 9")
    page.get_by_label("A walk").check()
    page.get_by_label("Written and asynchronous").check()
    page.get_by_role("button", name="Continue").click()
    arrive_at(page, 10, "step 10")
    page.get_by_label("A written introduction first").check()
    page.get_by_role("button", name="Continue").click()
    arrive_at(page, 11, "step 11")

    # The last step is written; "Save and review" leaves the steps for the review page.
    note = "I would love to practise speaking to a group.\nMornings suit me best."
    page.get_by_role("textbox", name=TITLES[11]).fill(note)
    page.get_by_role("button", name="Save and review").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Review your answers")
    expect(page.get_by_text("You answered 10 of 11 questions and skipped 1 for now.")).to_be_visible()
    page.wait_for_load_state("load")
    check_a11y(page, "the review page")

    page.get_by_role("button", name="Confirm my answers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your answers")
    expect(page.locator("#status")).to_contain_text("Thank you. Your answers are saved")
    page.wait_for_load_state("load")
    check_a11y(page, "the profile page")

    def row(number: int):
        return page.locator(".answer-row").filter(has=page.get_by_text(TITLES[number], exact=True))

    expect(row(1).locator(".tags li")).to_have_text(["Mentor someone"])
    expect(row(2).locator(".tags li")).to_have_text(["Communication", "Assertiveness"])
    expect(row(3)).to_contain_text("Skipped for now")
    expect(row(4).locator(".tags li")).to_have_text(["Design", "Sport and the outdoors"])
    expect(row(5).locator(".tags li")).to_have_text(["Curiosity", "Kindness"])
    expect(row(9).locator(".tags li")).to_have_text(["A walk", "Written and asynchronous"])
    expect(row(11).locator(".prewrap")).to_have_text(note)
