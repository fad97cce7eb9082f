"""A corrective order from raise to sign-off (issue 5's "done when"), and the KPIs counting it.

The engineer 张工 (zhanggong, SYN and DIS) raises a CM order from the page of the pump
P-1101A (he may not approve his own order), plans an outsourced repair above the approval
threshold (50,000 元), which needs a manager; the manager 王主任 (wangzr) approves it in his own browser; the
engineer starts the work, books labour and materials, reports the ISO 14224 failure and
downtime, and completes it with his sign-off. The order mix on the KPI page then counts one
more CM order with its labour hours and cost.

The title carries a random suffix and the KPI figures are read before and after, so the test
depends neither on the demo history nor on other tests. Screenshots of the completed order
(desktop and phone) and of the KPI page go to ``$E2E_SCREENSHOT_DIR`` (default /tmp/e2e_shots).
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import BrowserContext, Locator, Page, expect

from tests.e2e.conftest import ACTION_TIMEOUT_MS, NAVIGATION_TIMEOUT_MS, PHONE, log_in

SHOTS_DIR = Path(os.environ.get("E2E_SCREENSHOT_DIR") or Path(tempfile.gettempdir()) / "e2e_shots")
PLANT_TZ = ZoneInfo("Asia/Shanghai")
DESKTOP = {"width": 1280, "height": 800}

ASSET_TAG, ASSET_NAME = "P-1101A", "合成液泵A"  # SYN, in service (seed/assets/assets.csv)
ENGINEER, MANAGER = "zhanggong", "wangzr"


# The browser asks for zh-CN (tests/e2e/conftest.py), so every text is the Chinese one: an English
# string on the page is an untranslated one, and fails the test.


def exactly(text: str) -> re.Pattern[str]:
    return re.compile("^" + re.escape(text) + "$")


def starting(text: str) -> re.Pattern[str]:
    """A form label, which may end in a " *" required marker."""
    return re.compile("^" + re.escape(text) + "( \\*)?$")


# Form labels.
TYPE = starting("类型")
ASSET = starting("设备（位号）")
TITLE = starting("标题")
KIND = exactly("类别")
DESCRIPTION = starting("描述")
SIGNED_OFF = exactly("已签字确认")
FAILURE_MODE = exactly("故障模式")
DOWNTIME_START = exactly("停机开始")
DOWNTIME_END = exactly("停机结束")

# Buttons.
RAISE_ORDER = exactly("创建工单")
ADD_LINE = exactly("添加")
APPROVE = exactly("批准")
START_WORK = exactly("开工")
SAVE_FAILURE = exactly("保存故障报告")
COMPLETE = exactly("完工并签字确认")

# Badges (choice labels: zh and en are in choices.py).
DRAFT, APPROVED, IN_PROGRESS, COMPLETED = exactly("草稿"), exactly("已批准"), exactly("进行中"), exactly("已完工")
CM_BADGE = exactly("故障维修")


def open_session(new_context: Any, base_url: str, username: str) -> Page:
    """A browser context of its own for one user (as two people at two desks), logged in."""
    context: BrowserContext = new_context()
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
    page = context.new_page()
    log_in(page, base_url, username)
    expect(page.get_by_test_id("current-user")).to_be_visible()
    return page


# --- The KPI page -------------------------------------------------------------------------


@dataclass(frozen=True)
class MixRow:
    count: int
    hours: Decimal
    cost_wan: Decimal  # 10k CNY, two decimals as shown


def _number(cell: Locator) -> Decimal:
    return Decimal((cell.text_content() or "").strip().replace(",", ""))


def cm_mix_row(page: Page, base_url: str) -> MixRow:
    """The CM row of "orders raised in the period by type" for this year (the page's default)."""
    page.goto(f"{base_url}/orders/kpis")
    row = page.locator("#mix-table tbody tr").filter(has=page.locator(".badge", has_text=CM_BADGE))
    expect(row).to_have_count(1)
    cells = row.locator("td")
    return MixRow(count=int(_number(cells.nth(1))), hours=_number(cells.nth(2)), cost_wan=_number(cells.nth(3)))


# --- The order page -----------------------------------------------------------------------


def state_badge(page: Page, state: re.Pattern[str]) -> Locator:
    return page.locator("#order-header .badge").filter(has_text=state)


def add_cost_line(page: Page, kind: str, description: str, fields: dict[str, str]) -> None:
    """Fill the "add a cost line" form (it shows the fields of the chosen kind) and submit it.

    ``fields`` maps the inputs' names to values; their labels change with the kind (hours
    worked / issued quantity / quantity), so the form is addressed by its field names here.
    """
    form = page.locator("#costs form[data-cost-form][action$='/costs']")
    form.get_by_label(KIND).select_option(kind)
    form.get_by_label(DESCRIPTION).fill(description)
    for name, value in fields.items():
        field = form.locator(f"[name={name}]")
        expect(field).to_be_enabled()  # fields of other kinds are hidden and disabled
        if field.evaluate("element => element.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    form.get_by_role("button", name=ADD_LINE).click()
    expect(page.locator("#cost-table").get_by_text(description)).to_be_visible()


def plant_input(moment: datetime) -> str:
    return moment.astimezone(PLANT_TZ).strftime("%Y-%m-%dT%H:%M")


def test_engineer_raises_a_cm_order_a_manager_approves_it_the_engineer_completes_it_and_kpis_count_it(
    new_context: Any, base_url: str
) -> None:
    SHOTS_DIR.mkdir(parents=True, exist_ok=True)
    engineer = open_session(new_context, base_url, ENGINEER)
    before = cm_mix_row(engineer, base_url)

    # 1. From the asset's page, raise an order: CM is preselected for a raise from an asset.
    engineer.goto(f"{base_url}/assets?q={ASSET_TAG}")
    engineer.locator("#asset-table").get_by_role("link", name=ASSET_TAG, exact=True).click()
    expect(engineer.get_by_role("heading", level=1)).to_contain_text(ASSET_NAME)
    engineer.get_by_test_id("raise-order").click()
    form = engineer.locator("form[action='/orders/new']")
    expect(form.get_by_label(TYPE)).to_have_value("CM")
    expect(form.get_by_label(ASSET)).to_have_value(ASSET_TAG)
    title = f"E2E 机封泄漏 {secrets.token_hex(4)}"
    form.get_by_label(TITLE).fill(title)
    form.get_by_role("button", name=RAISE_ORDER).click()

    expect(engineer).to_have_url(re.compile(r"/orders/\d+$"))
    order_url = engineer.url
    header = engineer.locator("#order-header")
    expect(header.get_by_role("heading", level=1)).to_contain_text(title)
    expect(header.get_by_role("heading", level=1)).to_contain_text(re.compile(r"WO-\d{4}-\d{6}"))
    expect(state_badge(engineer, DRAFT)).to_be_visible()
    # He raised it, so he may not approve it himself (four eyes): the page says who may.
    expect(header.get_by_role("button", name=APPROVE)).to_have_count(0)
    expect(header.get_by_role("note")).to_have_text("需由申请人以外的工程师或经理审批。")

    # 2. Once an outsourced repair of 60,000 元 is planned (threshold 50,000 元), only a manager may.
    add_cost_line(
        engineer,
        "service",
        "外委机封修复",
        {"provider": "contractor", "planned_quantity": "1", "planned_unit_price_cny": "60000"},
    )
    expect(header.get_by_test_id("planned-total")).to_contain_text("60,000.00")  # the header reloaded
    expect(header.get_by_role("note")).to_have_text(
        "需由申请人以外的工程师或经理审批。 计划费用超过 50,000 元：本工单须由管理人员批准。"
    )
    expect(header.get_by_role("button", name=APPROVE)).to_have_count(0)
    expect(state_badge(engineer, DRAFT)).to_be_visible()

    # 3. The manager approves it in his own browser.
    manager = open_session(new_context, base_url, MANAGER)
    manager.goto(order_url)
    expect(state_badge(manager, DRAFT)).to_be_visible()
    manager.locator("#order-header").get_by_role("button", name=APPROVE).click()
    expect(state_badge(manager, APPROVED)).to_be_visible()
    expect(manager.locator("#timeline")).to_contain_text(MANAGER)

    # 4. The engineer starts, books labour and materials, reports the failure and signs off.
    engineer.goto(order_url)
    expect(state_badge(engineer, APPROVED)).to_be_visible()
    header.get_by_role("button", name=START_WORK).click()
    expect(state_badge(engineer, IN_PROGRESS)).to_be_visible()

    add_cost_line(engineer, "labour", "钳工更换机械密封", {"quantity": "8", "unit_price_cny": "120"})
    expect(header.get_by_test_id("actual-total")).to_contain_text("960.00")
    add_cost_line(
        engineer,
        "material",
        "机械密封 200AY",
        {
            "item_code": "MS-200AY",
            "uom": "套",
            "planned_quantity": "2",
            "planned_unit_price_cny": "1500",
            "quantity": "2",
            "unit_price_cny": "1500",
            "used_quantity": "1",
            "returned_quantity": "1",
        },
    )
    expect(header.get_by_test_id("actual-total")).to_contain_text("3,960.00")  # 8 h × 120 + 2 × 1,500
    expect(header.get_by_test_id("planned-total")).to_contain_text("63,000.00")  # 60,000 + 2 × 1,500

    failure = engineer.locator("#failure")
    failure.get_by_label(FAILURE_MODE).select_option("ELP")
    stopped = datetime.now(PLANT_TZ).replace(second=0, microsecond=0) - timedelta(hours=6)
    failure.get_by_label(DOWNTIME_START).fill(plant_input(stopped))
    failure.get_by_label(DOWNTIME_END).fill(plant_input(stopped + timedelta(hours=4, minutes=30)))
    failure.get_by_role("button", name=SAVE_FAILURE).click()
    expect(failure.get_by_label(FAILURE_MODE)).to_have_value("ELP")
    expect(failure).to_contain_text("停机 4.5 小时。")

    header.get_by_role("button", name=COMPLETE).click()
    expect(state_badge(engineer, COMPLETED)).to_be_visible()
    expect(engineer.get_by_test_id("action-error")).to_have_count(0)
    expect(header.get_by_test_id("actual-total")).to_contain_text("3,960.00")
    expect(engineer.locator("#costs").get_by_test_id("costs-actual")).to_contain_text("3,960.00")
    signed_off = engineer.locator("#details tr").filter(has=engineer.get_by_role("rowheader", name=SIGNED_OFF))
    expect(signed_off).to_contain_text("张工")
    expect(failure.get_by_label(FAILURE_MODE)).to_have_value("ELP")

    engineer.set_viewport_size(DESKTOP)
    engineer.screenshot(path=SHOTS_DIR / "order-completed-desktop.png", full_page=True)
    engineer.set_viewport_size(PHONE)
    expect(state_badge(engineer, COMPLETED)).to_be_visible()
    engineer.screenshot(path=SHOTS_DIR / "order-completed-phone.png", full_page=True)
    engineer.set_viewport_size(DESKTOP)

    # 5. The order mix of this year counts one more CM order, with its hours and cost.
    after = cm_mix_row(engineer, base_url)
    assert after.count == before.count + 1
    assert after.hours == before.hours + Decimal("8.0")
    # 3,960 元 = 0.396 万元; both figures are rounded to 0.01 万元 on the page.
    assert abs(after.cost_wan - before.cost_wan - Decimal("0.396")) <= Decimal("0.01")
    engineer.screenshot(path=SHOTS_DIR / "kpis-desktop.png", full_page=True)
