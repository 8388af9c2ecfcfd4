"""Assets travel once: the first page brings compressed CSS and scripts, the next page costs one request."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

RESOURCES = "() => performance.getEntriesByType('resource').map(e => [e.name, e.transferSize, e.encodedBodySize])"
NAVIGATION = "() => performance.getEntriesByType('navigation')[0].transferSize"


@pytest.mark.parametrize("js_enabled", [True], ids=["js"])
def test_the_second_page_costs_one_request_and_the_first_arrives_compressed(page: Page):
    page.goto("/accounts/sign-in")
    first = page.evaluate(RESOURCES)
    assert len([name for name, _, _ in first if "/static/" in name]) == 3
    assert all(transferred > 0 for _, transferred, _ in first)  # fetched over the network, once
    transferred = page.evaluate(NAVIGATION) + sum(size for _, size, _ in first)
    assert transferred < 30_000  # htmx alone is 52 KB before compression

    page.get_by_role("link", name="Create an account").first.click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    again = page.evaluate(RESOURCES)
    assert len([name for name, _, _ in again if "/static/" in name]) == 3
    assert [name for name, size, _ in again if size > 0] == []  # all three from the browser's cache
