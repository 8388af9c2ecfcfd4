"""The interest nudge in a real browser, with JavaScript on and off, axe on every page.

The director imports a roster and fixes a bad row; a colleague nudges a quiet person anonymously; that person
opens the card and chooses "Not now" for 3 months; a second nudge is refused kindly; once the pause is over,
"I'm interested" leads into the questionnaire.
"""

from __future__ import annotations

import json
import re
import uuid

from playwright.sync_api import Page, expect

from e2e.helpers import assert_controls_clear_of_text, check_a11y, js_enabled, watch_console


def sign_in(page: Page, email: str, password: str) -> None:
    page.goto("/accounts/sign-in")
    page.get_by_label("Work email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")


def sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Sign in")).to_be_visible()


def roster_csv(people: dict, *, broken: bool) -> bytes:
    tag = people["tag"]
    quiet, colleague = people["quiet"], people["colleague"]
    lines = [
        "name,email,team,manager_email",
        f"{colleague['name']},{colleague['email']},Design {tag},",
        f"{quiet['name']},{quiet['email']},Support {tag},{colleague['email']}",
        f"Ines Moreau {tag},{'' if broken else f'ines.{tag}@example.com'},Finance {tag},",
        f'"=HYPERLINK(""http://x"")",formula.{tag}@example.com,Finance {tag},',
    ]
    return ("\n".join(lines) + "\n").encode()


def upload(page: Page, data: bytes) -> None:
    page.get_by_label("Roster file (CSV)").set_input_files(
        {"name": "roster.csv", "mimeType": "text/csv", "buffer": data}
    )
    page.get_by_role("button", name="Preview the changes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Roster preview")


def test_a_roster_import_a_kind_nudge_not_now_and_later_interested(page: Page, new_context, run_python):
    people = json.loads(run_python("nudge_scenario.py", "people", uuid.uuid4().hex[:6]))
    password = people["password"]
    quiet = people["quiet"]

    # The director imports the roster, sees the bad row, fixes the file and applies it.
    sign_in(page, people["director"]["email"], password)
    page.get_by_role("link", name="Cycles").click()
    page.get_by_role("link", name="The company roster").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("The company roster")
    check_a11y(page, "the roster page")
    upload(page, roster_csv(people, broken=True))
    problems = page.get_by_role("table").first
    expect(problems.locator("tbody tr")).to_have_count(1)
    expect(problems.locator("tbody tr").first).to_contain_text("4")
    expect(problems.locator("tbody tr").first).to_contain_text("The email is missing.")
    expect(page.get_by_role("button", name="Apply")).to_have_count(0)
    check_a11y(page, "a roster preview with a bad row")
    upload(page, roster_csv(people, broken=False))
    expect(page.locator("#count-problems")).to_have_text("0")
    expect(page.locator("#count-added")).to_have_text("4")
    expect(page.get_by_text('=HYPERLINK("http://x")')).to_be_visible()  # shown as text, never run
    check_a11y(page, "a clean roster preview")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#status")).to_contain_text("The roster is updated: 4 added")
    check_a11y(page, "the roster after applying")
    sign_out(page)

    # A colleague nudges the quiet person, signed "a colleague".
    sign_in(page, people["colleague"]["email"], password)
    page.get_by_role("link", name="Invite a colleague").click()
    check_a11y(page, "invite a colleague")
    page.get_by_label("Name or work email").fill(quiet["name"])
    page.get_by_role("button", name="Find").click()
    page.get_by_role("link", name=f"Write to {quiet['name']}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"A note to {quiet['name']}")
    check_a11y(page, "the nudge form")
    page.get_by_role("button", name="Send my note").click()  # nothing written yet
    expect(page.locator("#message-error")).to_contain_text("Please write a line or two")
    check_a11y(page, "the nudge form with an error")
    page.get_by_label("A short, personal note").fill("You explain things so patiently. I think you'd enjoy this.")
    page.get_by_label("As a mentee").check()
    page.get_by_label("As “a colleague”").check()
    page.get_by_role("button", name="Send my note").click()
    expect(page.locator("#status")).to_contain_text(f"Your note to {quiet['name']} is delivered")
    check_a11y(page, "after sending a nudge")

    # At the same time, the quiet person opens their card in their own browser and asks for a pause.
    other = new_context()
    other.e2e_js_enabled = js_enabled(page)
    them = other.new_page()
    watch_console(them)
    sign_in(them, quiet["email"], password)
    them.get_by_role("link", name="Notifications").click()
    expect(them.get_by_text("A colleague wrote you a short note about mentoring.")).to_be_visible()
    them.get_by_role("link", name=re.compile(r"^Open")).first.click()
    expect(them.get_by_role("heading", level=1)).to_have_text("A note from a colleague")
    expect(them.get_by_text("You explain things so patiently.")).to_be_visible()
    expect(them.get_by_text(people["colleague"]["name"])).to_have_count(0)
    check_a11y(them, "the nudge card")
    # The four choices line up; "Pause for" sits under "Not now", not floating above the buttons.
    tops = [them.get_by_role("button", name=name).bounding_box()["y"]
            for name in ("I’m interested", "Tell me more", "Not now", "No thanks")]  # fmt: skip
    assert max(tops) - min(tops) < 2 or them.viewport_size["width"] < 600, tops
    not_now = them.get_by_role("button", name="Not now").bounding_box()
    assert them.locator("#months").bounding_box()["y"] >= not_now["y"] + not_now["height"]
    assert_controls_clear_of_text(them, "#nudge-card")
    them.get_by_label("3 months").check()
    them.get_by_role("button", name="Not now").click()
    expect(them.locator("#status")).to_contain_text("Nobody can nudge you until the pause ends")
    expect(them.get_by_text(re.compile(r"You asked for a pause until"))).to_be_visible()
    check_a11y(them, "the card after not now")

    # A second nudge is refused kindly, without saying why, as soon as the person is chosen: nothing to write.
    page.get_by_role("link", name="Home").click()
    page.get_by_role("link", name="Invite a colleague").click()
    page.get_by_label("Name or work email").fill(quiet["name"])
    page.get_by_role("button", name="Find").click()
    page.get_by_role("link", name=f"Write to {quiet['name']}").click()
    expect(page.get_by_role("alert")).to_contain_text("This person can’t receive a nudge right now.")
    expect(page.get_by_label("A short, personal note")).to_have_count(0)
    expect(page.get_by_text("not now", exact=False)).to_have_count(0)
    check_a11y(page, "a refused second nudge")

    # Months later the pause is over; "I'm interested" leads into the questionnaire, role prefilled.
    run_python("nudge_scenario.py", "end-pause", quiet["email"])
    them.reload()
    expect(them.get_by_text(re.compile(r"You asked for a pause until"))).to_have_count(0)
    them.get_by_role("button", name="I’m interested").click()
    expect(them.locator("#step-progress")).to_have_text("Step 2 of 11")
    expect(them.locator("#status")).to_contain_text("every question can be skipped")
    check_a11y(them, "the questionnaire after I'm interested")
    them.goto("/onboarding/step/participation")
    expect(them.get_by_label("Be mentored")).to_be_checked()
    other.close()


def test_just_curious_is_quiet_private_and_offers_three_equal_choices(page: Page, run_python):
    people = json.loads(run_python("nudge_scenario.py", "people", uuid.uuid4().hex[:6]))
    sign_in(page, people["quiet"]["email"], people["password"])
    page.get_by_role("link", name="Curious about mentoring?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Curious about mentoring?")
    expect(page.get_by_text("30 minutes a month")).to_be_visible()
    check_a11y(page, "curious about mentoring")
    page.get_by_role("button", name="Tell me more").click()
    expect(page.locator("#status")).to_contain_text("A short note from the program director is on its way")
    check_a11y(page, "after tell me more")
    page.get_by_role("button", name="Not now").click()
    expect(page.locator("#status")).to_contain_text("This page is here whenever you are curious again")
    page.get_by_role("link", name="Your invitation settings").click()
    check_a11y(page, "invitation settings")
    page.get_by_role("button", name="Switch nudges off").click()
    expect(page.locator("#status")).to_contain_text("Nudges are switched off")
    expect(page.get_by_role("button", name="Switch nudges on")).to_be_visible()
    check_a11y(page, "settings after switching off")
