"""An engineer finds an asset in the registry, opens it and reads its history."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import log_in


def test_engineer_filters_the_list_opens_an_asset_and_sees_its_history(page: Page, base_url: str) -> None:
    log_in(page, base_url, "zhanggong")
    page.goto(f"{base_url}/assets")
    table = page.locator("#asset-table")
    expect(table).to_be_visible()

    # Marks the document: a full reload would lose it, an htmx swap keeps it.
    page.evaluate("document.body.dataset.untouched = 'yes'")
    page.get_by_role("searchbox").fill("xhsb")  # pinyin initials of 循环水泵
    expect(table.get_by_role("link", name="P-3101A", exact=True)).to_be_visible()
    expect(table.get_by_role("link", name="C-1201", exact=True)).to_have_count(0)
    expect(page).to_have_url(re.compile(r"q=xhsb"))  # the filter is bookmarkable
    assert page.evaluate("document.body.dataset.untouched") == "yes"

    page.locator("select[name=workshop_id]").select_option(label="公用工程车间")
    expect(table.get_by_role("link", name="P-3101A", exact=True)).to_be_visible()

    table.get_by_role("link", name="P-3101A", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("循环水泵A")
    page.get_by_role("tab", name=re.compile("历史|History")).click()
    history = page.locator("[hx-get^='/audit/history/asset/']")
    expect(history.get_by_text("cli:seed").first).to_be_visible()
