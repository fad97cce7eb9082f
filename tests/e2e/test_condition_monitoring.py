"""An engineer at the pump, on a phone, enters an alarm value: the reading is judged at once and
a condition-based order appears, linked to the point, whose trend chart carries the limits.

P-1102A-DE-V is the drive-end vibration of 闪蒸液泵A (SYN, zhanggong's workshop) with the ISO 10816-3
group 2 / rigid preset: warning at 2.8 mm/s (B/C), alarm at 4.5 mm/s (C/D). Its demo history is
healthy, so no alert is open before the test.
"""

from __future__ import annotations

import json
import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import PHONE, limit_lines, log_in

POINT = "P-1102A-DE-V"


def test_an_alarm_value_entered_on_a_phone_raises_a_cbm_order_linked_to_the_point(page: Page, base_url: str) -> None:
    page.set_viewport_size(PHONE)
    log_in(page, base_url, "zhanggong")
    page.goto(f"{base_url}/monitoring?q={POINT}")
    page.get_by_role("link", name=POINT, exact=True).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(POINT)

    # The trend chart is drawn, and its option carries the warning and alarm lines of the preset.
    expect(page.locator("[data-chart='trend-chart'] canvas").first).to_be_attached()
    option = json.loads(page.locator("template#trend-chart").inner_html().replace("&#34;", '"'))
    assert {2.8, 4.5} <= limit_lines(option)

    page.get_by_label(re.compile("数值|Value")).fill("9.1")
    page.get_by_role("button", name=re.compile("保存读数|Save reading")).click()

    result = page.get_by_test_id("entry-result")
    expect(result).to_be_visible()
    expect(result).to_contain_text(re.compile("报警|Alarm"))
    raised = page.get_by_test_id("raised-order").get_by_role("link")
    expect(raised).to_have_text(re.compile(r"WO-\d{4}-\d{6}"))
    number = raised.inner_text()

    raised.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(number)
    expect(page.locator("main")).to_contain_text(re.compile("状态维修|Condition-based"))
    expect(page.locator("main")).to_contain_text(POINT)  # the order names the point and its trend
