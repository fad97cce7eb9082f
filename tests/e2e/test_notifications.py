"""A manager (王主任, wangzr) sees the navbar bell's unread count on the demo plant (its open
alarms, special equipment due and the budget), opens the notification centre, marks everything
read, and the count is gone from the bell."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import log_in

MANAGER = "wangzr"


def test_a_manager_opens_the_centre_from_the_bell_and_marks_all_read(page: Page, base_url: str) -> None:
    log_in(page, base_url, MANAGER)
    expect(page.get_by_test_id("current-user")).to_be_visible()

    # 1. The bell's count arrives after the page (htmx loads it).
    count = page.locator("#nav-bell").get_by_test_id("unread-count")
    expect(count).to_have_text(re.compile(r"^[1-9]\d*$"))
    unread = int(count.inner_text())

    # 2. The bell opens the centre, which lists as many unread, in bold.
    page.locator("#nav-bell a").click()
    expect(page).to_have_url(f"{base_url}/notifications")
    expect(page.locator("#notification-list")).to_be_visible()
    expect(page.locator("#unread-count")).to_have_attribute("data-unread", str(unread))
    expect(page.locator("#notification-list li.fw-bold").first).to_be_visible()

    # 3. Mark all read: nothing is bold, the bell shows no count.
    with page.expect_navigation():
        page.locator("#mark-all-read").click()
    expect(page.locator("#unread-count")).to_have_attribute("data-unread", "0")
    expect(page.locator("#notification-list li.fw-bold")).to_have_count(0)
    expect(page.locator("#nav-bell a")).to_be_visible()
    expect(page.locator("#nav-bell").get_by_test_id("unread-count")).to_have_count(0)
