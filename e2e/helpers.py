"""Helpers shared by the browser tests: accessibility checks, console watching and common journeys."""

from __future__ import annotations

import re
import sqlite3
import uuid
from contextlib import closing

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import ConsoleMessage, Page, Route, expect

AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
}
_axe = Axe()

# Chromium used to say "Refused to apply inline style because it violates ... Content Security Policy";
# recent versions say "Applying inline style violates the following Content Security Policy directive".
CSP_MESSAGE = re.compile(r"Refused to|Content[ -]Security[ -]Policy", re.IGNORECASE)

# A password long enough and not on the common list.
PASSWORD = "a gentle morning swim 42"


# --- the browser's console -----------------------------------------------------------------------------


def watch_console(page: Page) -> None:
    """Record the page's console messages and uncaught errors on ``page.e2e_console``."""
    page.e2e_console = []

    def on_console(message: ConsoleMessage) -> None:
        page.e2e_console.append(f"console.{message.type}: {message.text} ({page.url})")

    def on_page_error(error) -> None:
        page.e2e_console.append(f"uncaught error: {error} ({page.url})")

    page.on("console", on_console)
    page.on("pageerror", on_page_error)


def assert_no_csp_violations(page: Page) -> None:
    """Fail when the page reported a Content-Security-Policy violation or an uncaught script error."""
    logged = getattr(page, "e2e_console", [])
    problems = [line for line in logged if CSP_MESSAGE.search(line) or line.startswith("uncaught error")]
    assert not problems, "The page reported:\n" + "\n".join(problems)


# --- axe-core -------------------------------------------------------------------------------------------


def js_enabled(page: Page) -> bool:
    """Whether the page's context runs scripts (set by the ``context`` fixture in conftest)."""
    return getattr(page.context, "e2e_js_enabled", True)


def _axe_results(page: Page) -> dict:
    if js_enabled(page):
        return _axe.run(page, options=AXE_OPTIONS).response
    return _axe_on_snapshot(page)


def _axe_on_snapshot(page: Page) -> dict:
    """Run axe on a copy of a page whose context has JavaScript disabled.

    page.evaluate still works without JavaScript, so axe can be injected, but Chromium runs no timers
    then and axe.run() (which schedules its work with setTimeout) never settles. So the page's current
    DOM is serialised and served, through a route, to a fresh JavaScript-enabled context of the same
    browser with the same viewport; the page's own scripts are blocked there, so it looks and behaves
    like the JavaScript-free original while axe runs. Stylesheets load from the live server as usual.
    """
    html = page.content()
    auditor = page.context.browser.new_context(java_script_enabled=True, viewport=page.viewport_size)
    served = []

    def handle(route: Route) -> None:
        request = route.request
        if request.resource_type == "document" and not served:
            served.append(request.url)
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)
        elif request.resource_type == "script":
            route.abort()
        else:
            route.continue_()

    try:
        auditor.route("**/*", handle)
        copy = auditor.new_page()
        copy.goto(page.url.split("#", 1)[0], wait_until="load")
        return _axe.run(copy, options=AXE_OPTIONS).response
    finally:
        auditor.close()


def _describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation.get('impact')}): {violation['help']}")
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            lines.append(f"    at {target}: {node.get('failureSummary', '').strip()}".replace("\n", " "))
    return "\n".join(lines)


def check_a11y(page: Page, label: str) -> None:
    """Assert that axe finds no WCAG 2.x A/AA violation on the page as it is now, and no CSP report."""
    # A click that follows a link returns once the next page has started loading, not once it has
    # loaded: without this wait, axe could read the empty document of a page still on its way.
    page.wait_for_load_state("load")
    assert_no_csp_violations(page)
    violations = _axe_results(page)["violations"]
    assert not violations, (
        f"axe found {len(violations)} accessibility violation(s) on {label} ({page.url}):\n" + _describe(violations)
    )


# --- journeys -------------------------------------------------------------------------------------------


def unique_email(prefix: str = "e2e") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.com"


# The live server's database URL (a SQLite file), set by the ``server_env`` fixture in conftest.
SERVER_DATABASE: dict[str, str] = {}


def newest_email(address: str) -> str:
    """The body of the newest email to ``address`` in the live server's outbox."""
    url = SERVER_DATABASE["url"]
    assert url.startswith("sqlite:///"), url
    with closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as connection:
        row = connection.execute(
            "SELECT body FROM outbox_emails WHERE to_address = ? ORDER BY id DESC LIMIT 1", (address.lower(),)
        ).fetchone()
    assert row, f"no email to {address}"
    return row[0]


def open_emailed_link(page: Page, address: str, path: str) -> None:
    """Open the link starting with ``path`` in the newest email to ``address``, as its reader would."""
    match = re.search(r"https?://[^/\s]+(" + re.escape(path) + r"\S*)", newest_email(address))
    assert match, f"no link to {path} in the newest email to {address}"
    page.goto(match.group(1))


def finish_registration(page: Page, email: str) -> None:
    """After the register form: check the page, follow the emailed link and create the account."""
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    expect(page.get_by_text(f"We sent a link to {email.lower()}.")).to_be_visible()
    open_emailed_link(page, email, "/accounts/register/finish/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Finish creating your account")
    page.get_by_role("button", name="Create my account").click()


def register(page: Page, *, name: str = "Robin Ellis", email: str | None = None, team: str = "Data Platform"):
    """Create an account through the form and the emailed link; returns the email used. Lands on step 1 of
    the questionnaire."""
    email = email or unique_email()
    page.goto("/accounts/register")
    page.get_by_label("Your name, as colleagues know you").fill(name)
    page.get_by_label("Work email").fill(email)
    page.get_by_label("Team").fill(team)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    finish_registration(page, email)
    expect(page.locator("#step-progress")).to_have_text("Step 1 of 11")
    page.wait_for_load_state("load")
    return email


def expect_step(page: Page, number: int, title: str) -> None:
    """Wait until step ``number`` is shown (after a page load or an htmx swap)."""
    expect(page.locator("#step-progress")).to_have_text(f"Step {number} of 11")
    expect(page.locator("#step-title")).to_have_text(title)
    expect(page.locator("#step")).to_have_count(1)
    # The document title follows the step, after a swap too (the fragment carries a <title> for htmx).
    expect(page).to_have_title(f"Step {number} of 11: {title} · Mentorship program")
    if js_enabled(page):
        # After an htmx swap portal.js moves focus to the new step's heading; wait for the swap to settle.
        page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping')")
    else:
        page.wait_for_load_state("load")


# --- layout: controls never cover text ------------------------------------------------------------------

_OVERLAPS_JS = """
(scope) => {
  const roots = scope ? Array.from(document.querySelectorAll(scope)) : [document.body];
  const visible = (r) => r.width > 0.5 && r.height > 0.5;
  const meets = (a, b) => a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
  const inside = (a, b) =>
    a.left >= b.left - 1 && a.right <= b.right + 1 && a.top >= b.top - 1 && a.bottom <= b.bottom + 1;
  const textRects = (node) => {
    const range = document.createRange();
    range.selectNodeContents(node);
    return Array.from(range.getClientRects()).filter(visible);
  };
  const problems = [];
  for (const root of roots) {
    const texts = [];
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
      const node = walker.currentNode;
      if (!node.textContent.trim() || node.parentElement.closest('.visually-hidden, script, style, option')) continue;
      texts.push(node);
    }
    const controls = root.querySelectorAll('button, a.button, input:not([type=hidden]), select, textarea');
    for (const control of controls) {
      const box = control.getBoundingClientRect();
      if (!visible(box)) continue;
      const name = (control.innerText || control.value || control.name || control.tagName).trim().slice(0, 40);
      for (const node of texts) {
        const own = control.contains(node);
        for (const rect of textRects(node)) {
          if (own && !inside(rect, box)) {
            problems.push(`the text of "${name}" spills out of its control`);
          } else if (!own && !control.contains(node.parentElement) && meets(rect, box)) {
            problems.push(`"${name}" covers the text "${node.textContent.trim().slice(0, 40)}"`);
          }
        }
      }
    }
  }
  return Array.from(new Set(problems));
}
"""

WIDTHS = (320, 375, 768, 1280)


def assert_controls_clear_of_text(page: Page, scope: str | None = None, *, widths=WIDTHS) -> None:
    """At each width, no control covers text and no control's own text spills out of it (no screenshots).

    Compares bounding boxes: every button, link styled as a button and field in ``scope`` against every
    visible text in ``scope``. The viewport is put back afterwards.
    """
    original = page.viewport_size
    try:
        for width in widths:
            page.set_viewport_size({"width": width, "height": original["height"] if original else 900})
            problems = page.evaluate(_OVERLAPS_JS, scope)
            assert not problems, f"At {width} px:\n" + "\n".join(problems)
    finally:
        if original:
            page.set_viewport_size(original)
