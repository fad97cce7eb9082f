"""The work-order page as the browser treats it: it passes the Content Security Policy (no inline
style or script the policy refuses, nothing else in the console) whatever the order's type and
state, a condition-based order links to its point's trend, and a toast leaves the navbar's
language button and user menu free to click.

The orders are found the way a user finds them (the order list's filters, the alarm board), so
the test does not depend on ids of the demo data.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import ConsoleMessage, Page, expect

from tests.e2e.conftest import log_in

# (what the page is, the order list's query that finds one)
ORDER_LISTS = [
    ("corrective in progress (failure report form)", "order_type=CM&state=in_progress"),
    ("planned, completed (checklist)", "order_type=PM&state=completed"),
    ("turnaround work, closed", "order_type=TA&state=closed"),
    ("a draft", "state=draft"),
]


@pytest.fixture
def console_errors(page: Page) -> list[str]:
    """Every console error and uncaught exception of ``page`` (a CSP refusal is a console error)."""
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def first_order_of(page: Page, base_url: str, query: str) -> str:
    page.goto(f"{base_url}/orders?{query}")
    link = page.locator("#order-table tbody a[href^='/orders/']").first
    expect(link).to_be_visible()
    href = link.get_attribute("href")
    assert href
    assert re.fullmatch(r"/orders/\d+", href), href
    return href


def test_order_pages_log_no_console_errors(page: Page, base_url: str, console_errors: list[str]) -> None:
    log_in(page, base_url, "wangzr")
    addresses = [first_order_of(page, base_url, query) for _name, query in ORDER_LISTS]
    page.goto(f"{base_url}/monitoring/alarms")
    cbm = page.get_by_test_id("open-order").first
    expect(cbm).to_be_visible()
    addresses.append(cbm.get_attribute("href") or "")
    console_errors.clear()  # only what the order pages log

    for address in addresses:
        page.goto(f"{base_url}{address}")
        expect(page.locator("#order-header h1")).to_contain_text(re.compile(r"WO-\d{4}-\d{6}"))
        page.wait_for_load_state("networkidle")  # htmx parts pulled in on load
        assert console_errors == [], f"{address}: {console_errors}"

    # The last one is the alarm's CBM order: its alert links to the point's trend.
    trend = page.get_by_test_id("order-trend")
    expect(trend).to_be_visible()
    expect(trend).to_have_attribute("href", re.compile(r"^/monitoring/points/\d+$"))
    trend.click()
    expect(page).to_have_url(re.compile(r"/monitoring/points/\d+$"))


def test_a_toast_leaves_the_language_button_and_the_user_menu_free(page: Page, base_url: str) -> None:
    log_in(page, base_url, "wangzr")
    page.goto(f"{base_url}{first_order_of(page, base_url, 'order_type=CM&state=in_progress')}")
    page.locator("#notes").get_by_role("button", name=re.compile("^(保存记录|Save notes)$")).click()

    toast = page.locator("#toasts .toast").first
    expect(toast).to_be_visible()
    page.evaluate("window.scrollTo(0, 0)")  # back up to the navbar (the save returns to #notes)
    toast_box = toast.bounding_box()
    navbar_box = page.locator("nav.navbar").bounding_box()
    assert toast_box
    assert navbar_box
    assert toast_box["y"] >= navbar_box["y"] + navbar_box["height"], "the toast is below the navbar"
    for control in (
        page.locator("form[action='/language'] button"),
        page.get_by_test_id("current-user").locator("button[data-bs-toggle='dropdown']"),
    ):
        box = control.bounding_box()
        assert box
        overlaps = (
            box["x"] < toast_box["x"] + toast_box["width"]
            and toast_box["x"] < box["x"] + box["width"]
            and box["y"] < toast_box["y"] + toast_box["height"]
            and toast_box["y"] < box["y"] + box["height"]
        )
        assert not overlaps
    # While the toast shows, the language button takes the click (nothing lies over it).
    page.locator("form[action='/language'] button").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
