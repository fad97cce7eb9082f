"""An engineer of the utilities workshop records a leak survey with two leaks (a flange packing
seep and a circulating-water pump's mechanical seal), raises a work order for the pump seal from
its leak page, and the manager sees the workshop's rates change on the overview and the
certificate flagged at risk on the certification board.

The demo plant (seed/leakfree) certifies 公用工程车间 (UTL) with a latest survey within the
thresholds, over 2,301 static and 21 dynamic seal points, on any seed day; ligong is its engineer.
One pump-seal leak in 21 dynamic points is 47.62‰, over the 2‰ limit; one static leak in 2,301
is 0.43‰, within 0.5‰.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import log_in

WORKSHOP = "UTL"
STATIC_LINE = "LF-UTL-004"  # UTL-CW valve packing
PUMP_SEAL_LINE = "LF-UTL-022"  # P-3101A mechanical seal


def _choose(page: Page, row: int, line: str, severity: str, description: str) -> None:
    select = page.locator(f"select[name='leaks-{row}-seal_point_id']")
    value = select.locator("option", has_text=line).get_attribute("value")
    assert value is not None, line
    select.select_option(value)
    page.locator(f"select[name='leaks-{row}-severity']").select_option(severity)
    page.locator(f"input[name='leaks-{row}-description']").fill(description)


def test_a_survey_with_two_leaks_raises_an_order_and_moves_the_rates_and_the_board(page: Page, base_url: str) -> None:
    log_in(page, base_url, "wangzr")
    page.goto(f"{base_url}/leakfree")
    overview_row = page.locator(f"[data-testid='overview-row'][data-code='{WORKSHOP}']")
    expect(overview_row.locator("[data-testid='meets'] [data-meets]")).to_have_attribute("data-meets", "yes")
    page.goto(f"{base_url}/leakfree/board")
    board_row = page.locator(f"[data-testid='board-row'][data-code='{WORKSHOP}']")
    expect(board_row).to_have_attribute("data-standing", "certified")
    at_risk_before = int(page.locator("[data-count='at_risk']").inner_text())

    page.context.clear_cookies()
    log_in(page, base_url, "ligong")
    page.goto(f"{base_url}/leakfree/surveys/new")
    with page.expect_response(re.compile(r"/leakfree/surveys/new\?workshop_id=")):
        page.locator("#f-workshop").select_option(label="公用工程车间")
    page.locator("input[name='surveyed_by']").fill("李工、王班长")
    _choose(page, 1, STATIC_LINE, "seep", "阀门填料处渗液")
    with page.expect_response(re.compile(r"/leakfree/surveys/new/row")):
        page.get_by_role("button", name=re.compile("添加泄漏行")).click()
    _choose(page, 2, PUMP_SEAL_LINE, "drip", "机封滴漏约 10 滴/分")
    page.get_by_role("button", name=re.compile("保存")).click()

    expect(page.locator("[data-static-rate]")).to_have_text("0.43")
    expect(page.locator("[data-dynamic-rate]")).to_have_text("47.62")
    expect(page.locator("[data-meets]")).to_have_attribute("data-meets", "false")

    page.locator("tr[data-leak-id]", has_text=PUMP_SEAL_LINE).get_by_role("link").first.click()
    page.get_by_role("button", name=re.compile("新建工单")).click()
    expect(page).to_have_url(re.compile(r"/orders/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("泄漏处理")

    page.context.clear_cookies()
    log_in(page, base_url, "wangzr")
    page.goto(f"{base_url}/leakfree")
    expect(overview_row.locator("[data-testid='static-rate']")).to_contain_text("0.43‰")
    expect(overview_row.locator("[data-testid='dynamic-rate']")).to_contain_text("47.62‰")
    expect(overview_row.locator("[data-testid='meets'] [data-meets]")).to_have_attribute("data-meets", "no")
    page.goto(f"{base_url}/leakfree/board")
    expect(board_row).to_have_attribute("data-standing", "at_risk")
    expect(page.locator("[data-count='at_risk']")).to_have_text(str(at_risk_before + 1))
