"""The checks the other browser tests rely on really fail when they should, with and without JavaScript."""

from __future__ import annotations

import pytest
from playwright.sync_api import BrowserContext, Page, Route, expect

from e2e.helpers import CSP_MESSAGE, assert_no_csp_violations, check_a11y, js_enabled, watch_console


def test_javascript_setting_reaches_the_page(page: Page):
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Grow with a colleague who fits")
    page.wait_for_load_state("load")
    # htmx is loaded with a deferred <script>: it only exists when the context runs page scripts.
    loaded = page.evaluate("() => typeof window.htmx")
    assert loaded == ("object" if js_enabled(page) else "undefined")


def test_axe_reports_a_violation(page: Page):
    page.goto("/")
    page.wait_for_load_state("load")
    # page.evaluate works even with JavaScript off: break the page on purpose, then expect axe to notice.
    page.evaluate(
        """() => {
            const img = document.createElement("img");
            img.src = "/static/missing.png";
            document.querySelector("main").append(img);
        }"""
    )
    with pytest.raises(AssertionError, match=r"image-alt"):
        check_a11y(page, "a page with an image without alt text")


def test_csp_reports_fail_the_test(context: BrowserContext):
    # A page of its own, so that the report planted here does not also fail the ``page`` fixture.
    page = context.new_page()
    watch_console(page)

    def with_inline_style(route: Route) -> None:
        # The real response and its headers (so the portal's own policy), plus an inline style it refuses.
        response = route.fetch()
        body = response.text().replace("</main>", '<p style="color: red">styled inline</p></main>')
        route.fulfill(response=response, body=body)

    page.route("**/", with_inline_style)
    page.goto("/")
    expect(page.get_by_text("styled inline")).to_be_visible()
    for _ in range(40):
        if any(CSP_MESSAGE.search(line) for line in page.e2e_console):
            break
        page.wait_for_timeout(50)
    with pytest.raises(AssertionError, match=r"style-src"):
        assert_no_csp_violations(page)
    page.close()
