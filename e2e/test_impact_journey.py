"""Measured impact in a real browser, JS on and off, with axe: a participant answers the retrospective, the
director opens the report, switches cycle, downloads a table as CSV, and the program page shows the new numbers."""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from e2e.helpers import check_a11y, js_enabled


def sign_in(page: Page, email: str, password: str) -> None:
    page.goto("/accounts/sign-in")
    page.get_by_label("Work email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hello")


def recommend_on_program_page(page: Page) -> str:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Program").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("The mentorship program")
    return page.locator(".program-numbers dt:has-text('Recommend score') + dd").inner_text()


def test_a_retrospective_reaches_the_report_and_the_program_page(page: Page, run_python):
    world = json.loads(run_python("impact_scenario.py", uuid.uuid4().hex[:6]))
    password, cycle = world["password"], world["cycle"]

    # The participant looks at the program page, then answers the retrospective offered on the home page.
    sign_in(page, world["participant"]["email"], password)
    before = recommend_on_program_page(page)
    check_a11y(page, "the program page")
    page.get_by_role("link", name="Home").click()
    page.get_by_role("link", name="Look back on your pairing").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Looking back on your pairing with")
    expect(page.get_by_label(world["goal"])).to_be_checked()  # prefilled: the goal was achieved
    check_a11y(page, "the retrospective")
    page.get_by_label("4: confident").check()
    page.get_by_label("0", exact=True).check()
    page.get_by_label("What went well?").fill("Practising on the real roadmap.")
    page.get_by_role("button", name="Send my answers").click()
    expect(page.locator("#status")).to_contain_text("Thank you. Your answers help the program learn")
    expect(page.get_by_role("link", name="Look back on your pairing")).to_have_count(0)
    check_a11y(page, "the home page after the retrospective")

    # The program page shows the new numbers: five answers now, four 10s and a 0 make +60.
    after = recommend_on_program_page(page)
    assert after == "+60" and before != after
    page.get_by_role("button", name="Sign out").click()

    # The director's home leads with the program's state and links to the report.
    sign_in(page, world["director"], password)
    expect(page.get_by_role("heading", name="The program today")).to_be_visible()
    check_a11y(page, "the director's home")
    page.get_by_role("link", name="Open the impact report").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Impact report")
    check_a11y(page, "the impact report")

    # Switching to the finished cycle (an htmx swap with JS, a page load without).
    page.get_by_label("Cycle", exact=True).select_option(label=cycle["name"])
    page.get_by_role("button", name="Show this cycle").click()
    expect(page.locator("#report-title")).to_have_text(cycle["name"])
    if js_enabled(page):
        expect(page.locator("#status")).to_contain_text(f"Showing {cycle['name']}")
    assert page.url.endswith(f"/reports/?cycle={cycle['id']}")  # a link to this view, with JS too
    satisfaction = page.locator("#table-satisfaction")
    expect(satisfaction.locator("tr", has_text="Retrospectives answered").locator("td")).to_have_text("5")
    expect(satisfaction.locator("tr", has_text="Recommend score").first.locator("td")).to_have_text("+60")
    expect(page.get_by_text("Practising on the real roadmap.")).to_be_visible()
    check_a11y(page, "the report of the finished cycle")

    # The satisfaction table downloads as CSV with the same numbers.
    with page.expect_download() as download:
        page.get_by_role("link", name="Download \u201cSatisfaction\u201d as CSV").click()
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))
    assert ["Retrospectives answered", "5"] in rows and ["Recommend score", "60"] in rows

    # The one-page summary for leadership.
    page.get_by_role("link", name="For leadership: a one-page summary to print").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"The mentorship program: {cycle['name']}")
    check_a11y(page, "the leadership summary")


@pytest.mark.parametrize("js_enabled", [True], ids=["js"])
def test_the_leadership_summary_prints_on_one_a4_or_letter_page(page: Page, run_python, js_enabled):
    world = json.loads(run_python("impact_scenario.py", uuid.uuid4().hex[:6]))
    sign_in(page, world["director"], world["password"])
    page.goto(f"/reports/cycles/{world['cycle']['id']}/summary")
    expect(page.get_by_role("heading", level=1)).to_contain_text(world["cycle"]["name"])
    page.emulate_media(media="print")
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()  # the print stylesheet applies
    for paper in ("A4", "Letter"):
        pdf = page.pdf(format=paper)
        assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1, f"the summary takes more than one {paper} page"
