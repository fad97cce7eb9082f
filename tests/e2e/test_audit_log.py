"""An auditor reads the change log at a desktop width: object types, fields and values in Chinese,
every column inside the page (the changes wrap), and the hash chain checked on request.

chensj is the demo's auditor; the demo plant's log holds thousands of rows.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import log_in

TABLE_CODE = re.compile(r"\b[a-z]+_[a-z_]+\b")  # work_order, stocktake_line, is_active …


def test_an_auditor_reads_the_change_log_in_words_and_verifies_the_chain(page: Page, base_url: str) -> None:
    log_in(page, base_url, "chensj")
    page.goto(f"{base_url}/audit?object_type=work_order")

    expect(page.get_by_role("heading", level=1)).to_have_text("变更记录")
    table = page.locator("#results table")
    expect(table.locator("tbody tr").first).to_be_visible()
    first = table.locator("tbody tr").first
    expect(first.locator("td").nth(3)).to_contain_text(re.compile(r"^工单 WO-\d{4}-\d{6}"))
    assert not TABLE_CODE.search(table.locator("tbody").inner_text())
    # Nothing runs off the right edge: the table needs no horizontal scrolling at 1280 px.
    widths = page.locator(".table-responsive").evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert widths[0] <= widths[1], widths

    page.get_by_test_id("verify-chain").click()
    expect(page.get_by_test_id("chain-state")).to_have_text(re.compile(r"链完整，已校验 [\d,]+ 行。"), timeout=30_000)
