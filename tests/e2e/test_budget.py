"""A manager sets the year's repair-cost target and an allocation cell, a corrective order is
completed elsewhere, and the budget moves: the actual to date and the burn-up's last point grow by
exactly the order's cost; the drill-down behind the workshop's actual lands on that order.

王主任 (wangzr) manages; 张工 (zhanggong, SYN) raises the order (nobody approves their own). The
order's title carries a random suffix and every figure is read before and after, so the test does
not depend on the demo history, the calendar day or the other browser tests.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

from tests.e2e.test_work_orders import (
    APPROVE,
    COMPLETE,
    COMPLETED,
    RAISE_ORDER,
    START_WORK,
    TITLE,
    TYPE,
    add_cost_line,
    open_session,
    state_badge,
)

PLANT_TZ = ZoneInfo("Asia/Shanghai")
WORKSHOP = "SYN"
ASSET_TAG = "P-1101A"  # SYN, in service
LABOUR = ("检修人工 12 h", "12", "150")  # 1,800.00 元 planned and actual


def _amount(page: Page, selector: str) -> Decimal:
    value = page.locator(selector).first.get_attribute("data-amount")
    assert value is not None, selector
    return Decimal(value)


def _burn_up_actual(page: Page) -> list[Any]:
    """The burn-up chart's cumulative actual series, from the option the page hands ECharts."""
    option = json.loads(page.locator("template#budget-burn-up").inner_html())
    series = [s for s in option["series"] if s["name"] in ("实际（累计）", "Actual (cumulative)")]
    assert len(series) == 1, [s["name"] for s in option["series"]]
    return [point for point in series[0]["data"] if point is not None]


def _workshop_actual(page: Page) -> Decimal:
    return _amount(page, f"[data-testid='by-workshop-row'][data-code='{WORKSHOP}'] [data-testid='actual']")


def test_a_manager_sets_the_target_and_allocation_and_a_completed_order_moves_the_budget(
    new_context: Any, base_url: str
) -> None:
    year = datetime.now(PLANT_TZ).year
    month = datetime.now(PLANT_TZ).month
    manager = open_session(new_context, base_url, "wangzr")

    # 1. The target: 1,560万, half the baseline years' average.
    manager.goto(f"{base_url}/budget/{year}/target")
    form = manager.locator("#target-form")
    form.locator("input[name='target']").fill("1560")
    form.locator("input[name='note']").fill("检修费用降本50%")
    form.get_by_role("button", name="保存").click()
    expect(manager.locator("#target-value")).to_have_text("1,560.00 万元")

    # 2. One cell of the allocation: SYN's materials this month, the totals follow at once.
    manager.goto(f"{base_url}/budget?year={year}")
    drill = manager.locator(f"[data-testid='by-workshop-row'][data-code='{WORKSHOP}'] [data-testid='actual']")
    workshop_id = re.search(r"workshop=(\d+)", drill.get_attribute("href") or "")
    assert workshop_id is not None
    manager.goto(f"{base_url}/budget/{year}/allocation")
    cell = manager.locator(f"#cell-{workshop_id.group(1)}-materials-{month} input")
    before_total = manager.get_by_test_id("grid-total").inner_text()
    cell.fill("12.34")
    cell.press("Enter")
    expect(manager.get_by_test_id("grid-total")).not_to_have_text(before_total)
    expect(manager.locator(f"#cell-{workshop_id.group(1)}-materials-{month} input")).to_have_value("12.34")

    # 3. The budget before: SYN's actual to date, the plant's, and the burn-up's last point.
    manager.goto(f"{base_url}/budget?year={year}")
    syn_before = _workshop_actual(manager)
    plant_before = _amount(manager, "[data-testid='by-workshop-total'] [data-testid='actual']")
    burn_up_before = _burn_up_actual(manager)

    # 4. Elsewhere, an order is raised, approved, worked and completed.
    engineer = open_session(new_context, base_url, "zhanggong")
    engineer.goto(f"{base_url}/orders/new")
    new_order = engineer.locator("form[action='/orders/new']")
    new_order.get_by_label(TYPE).select_option("PM")
    new_order.locator("[name='asset_tag']").fill(ASSET_TAG)
    title = f"E2E 预算 {secrets.token_hex(4)}"
    new_order.get_by_label(TITLE).fill(title)
    new_order.get_by_role("button", name=RAISE_ORDER).click()
    expect(engineer).to_have_url(re.compile(r"/orders/\d+$"))
    order_url = engineer.url
    number = re.search(r"WO-\d{4}-\d{6}", engineer.locator("#order-header h1").inner_text())
    assert number is not None
    description, hours, rate = LABOUR
    add_cost_line(
        engineer,
        "labour",
        description,
        {"planned_quantity": hours, "planned_unit_price_cny": rate, "quantity": hours, "unit_price_cny": rate},
    )

    manager.goto(order_url)
    header = manager.locator("#order-header")
    header.get_by_role("button", name=APPROVE).click()
    header.get_by_role("button", name=START_WORK).click()
    header.get_by_role("button", name=COMPLETE).click()
    expect(state_badge(manager, COMPLETED)).to_be_visible()

    # 5. The budget after: SYN's and the plant's actual grow by exactly 1,800.00 元, as does the
    # burn-up's last point (10k CNY, two decimals).
    manager.goto(f"{base_url}/budget?year={year}")
    cost = Decimal(hours) * Decimal(rate)
    assert _workshop_actual(manager) == syn_before + cost
    assert _amount(manager, "[data-testid='by-workshop-total'] [data-testid='actual']") == plant_before + cost
    burn_up_after = _burn_up_actual(manager)
    assert len(burn_up_after) == len(burn_up_before)
    assert Decimal(str(burn_up_after[-1])) > Decimal(str(burn_up_before[-1]))

    # 6. The drill-down behind SYN's actual lists the order first (the latest finished), and
    # its number opens it.
    manager.locator(f"[data-testid='by-workshop-row'][data-code='{WORKSHOP}'] [data-testid='actual']").click()
    expect(manager).to_have_url(re.compile(r"/budget/drill\?"))
    manager.get_by_role("link", name=number.group(0)).first.click()
    expect(manager).to_have_url(order_url)
    expect(manager.locator("#order-header h1")).to_contain_text(title)
