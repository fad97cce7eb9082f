"""On a 390 px phone the lists an engineer opens at the equipment fit the screen: the order list
and the round history become cards, one a row, each value under its column's label, and the
order page's section tabs keep every label on one line (they scroll sideways as one strip)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import PHONE, choose_language, log_in


def _page_scrolls_sideways(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth > window.innerWidth"))


def test_the_order_list_is_a_stack_of_cards_on_a_phone(page: Page, base_url: str) -> None:
    page.set_viewport_size(PHONE)
    choose_language(page, base_url, "zh_CN")
    log_in(page, base_url, "zhanggong")
    page.goto(f"{base_url}/orders")
    first = page.locator("#order-table tbody tr").first
    expect(first).to_be_visible()
    assert not _page_scrolls_sideways(page)
    table = page.locator("#order-table")
    assert table.evaluate("t => t.scrollWidth <= t.clientWidth")  # nothing hidden to the right either
    expect(page.locator("#order-table thead")).to_be_hidden()  # the labels are on the cards
    card = first.bounding_box()
    assert card is not None
    assert card["width"] <= PHONE["width"]
    state = first.locator("td[data-label='状态']")
    expect(state).to_be_visible()
    assert state.evaluate("td => getComputedStyle(td, '::before').content") == '"状态"'
    number = first.get_by_role("link", name=re.compile(r"^WO-\d{4}-\d{6}$"))
    number_box, state_box = number.bounding_box(), state.bounding_box()
    assert number_box is not None
    assert state_box is not None
    assert state_box["y"] > number_box["y"]  # one value under another, not side by side


def test_the_order_page_tabs_keep_each_label_on_one_line_on_a_phone(page: Page, base_url: str) -> None:
    page.set_viewport_size(PHONE)
    choose_language(page, base_url, "zh_CN")
    log_in(page, base_url, "zhanggong")
    page.goto(f"{base_url}/orders")
    page.locator("#order-table tbody tr").first.get_by_role("link", name=re.compile(r"^WO-")).click()
    tabs = page.get_by_role("navigation", name=re.compile("^(页面分区|Sections)$")).get_by_role("link")
    expect(tabs.first).to_be_visible()
    heights = {round(box["height"]) for box in (tabs.nth(i).bounding_box() for i in range(tabs.count())) if box}
    tops = {round(box["y"]) for box in (tabs.nth(i).bounding_box() for i in range(tabs.count())) if box}
    assert len(tops) == 1, tops  # one strip
    assert max(heights) < 2 * min(heights), heights  # no label broken over several lines
    assert not _page_scrolls_sideways(page)


def test_the_round_history_fits_a_phone(page: Page, base_url: str) -> None:
    page.set_viewport_size(PHONE)
    log_in(page, base_url, "zhanggong")
    page.goto(f"{base_url}/rounds")
    expect(page.get_by_test_id("round-row").first).to_be_visible()
    assert not _page_scrolls_sideways(page)
    assert page.locator("#round-history").evaluate("t => t.scrollWidth <= t.clientWidth")
