"""An engineer walks today's round on a phone: starts it, enters a normal value, an alarm value and
a check, sees the alarm at once with the condition-based order it raised, finishes with the stops
not walked listed as missed, opens the order, and then the point's trend, which carries the limits.

RT-SYN-D is the demo's daily round of the synthesis workshop (zhanggong's). Its stops include
P-1103A-NDE-V, the non-drive-end vibration of a pump with the ISO 10816-3 group 2 / rigid preset
(warning 2.8, alarm 4.5 mm/s), healthy in the demo, so the alarm value raises a new CBM order.
The demo leaves today's rounds unstarted.

A round is headed with its period in plant time: a daily round with the plant's calendar day,
which is not the UTC date of its start (the plant's midnight is 16:00 UTC the day before).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

from tests.e2e.conftest import PHONE, limit_lines, log_in

ROUTE = "RT-SYN-D"
NORMAL_POINT = "P-1103A-DE-T"
ALARM_POINT = "P-1103A-NDE-V"


def test_an_engineer_walks_a_round_on_a_phone_and_an_alarm_raises_a_linked_cbm_order(page: Page, base_url: str) -> None:
    page.set_viewport_size(PHONE)
    log_in(page, base_url, "zhanggong")
    page.goto(f"{base_url}/rounds")
    card = page.locator(f"[data-testid='current-round'][data-route='{ROUTE}']")
    card.get_by_role("button", name=re.compile("开始点检|Start round")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("机泵日常点检")
    progress = page.get_by_test_id("round-progress-text")
    expect(progress).to_have_text(re.compile(r"^已检 0 / \d+ 个点位$"))
    due = int(re.findall(r"\d+", progress.inner_text())[1])

    normal = page.locator(f"[data-testid='stop'][data-stop='{NORMAL_POINT}']")
    normal.get_by_placeholder(re.compile("数值|Value")).fill("61.5")
    normal.get_by_role("button", name=re.compile("保存|Save")).click()
    expect(normal.get_by_test_id("stop-result")).to_contain_text(re.compile("正常|Normal"))
    expect(progress).to_have_text(f"已检 1 / {due} 个点位")  # the saved stop counted, once

    alarm = page.locator(f"[data-testid='stop'][data-stop='{ALARM_POINT}']")
    alarm.get_by_placeholder(re.compile("数值|Value")).fill("6.3")
    alarm.get_by_role("button", name=re.compile("保存|Save")).click()
    result = alarm.get_by_test_id("stop-result")
    expect(result).to_contain_text(re.compile("报警|Alarm"))
    expect(result.get_by_role("alert")).to_be_visible()
    expect(progress).to_have_text(f"已检 2 / {due} 个点位")
    order_link = alarm.get_by_test_id("stop-order").get_by_role("link")
    expect(order_link).to_have_text(re.compile(r"WO-\d{4}-\d{6}"))
    number = order_link.inner_text()

    check = page.locator("[data-testid='stop'][data-stop='机封无泄漏']").first
    check.get_by_text(re.compile("^ ?(正常|OK)$")).click()
    check.get_by_role("button", name=re.compile("保存|Save")).click()
    expect(check.get_by_test_id("stop-result")).to_contain_text(re.compile("正常|OK"))
    expect(progress).to_have_text(f"已检 3 / {due} 个点位")

    page.once("dialog", lambda dialog: dialog.accept())  # "finish with stops not walked?"
    page.get_by_test_id("finish-round").click()
    expect(page.get_by_test_id("round-state")).to_contain_text(re.compile("已完成|Completed"))
    expect(page.get_by_test_id("missed-stops")).to_be_visible()
    expect(page.locator("[data-testid='stop'][data-entered='true']")).to_have_count(3)

    page.locator(f"[data-testid='stop'][data-stop='{ALARM_POINT}']").get_by_role("link", name=number).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(number)
    expect(page.locator("main")).to_contain_text(re.compile("状态维修|Condition-based"))
    page.go_back()
    page.locator(f"[data-testid='stop'][data-stop='{ALARM_POINT}']").get_by_role("link", name=ALARM_POINT).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(ALARM_POINT)
    option = json.loads(page.locator("template#trend-chart").inner_html().replace("&#34;", '"'))
    assert {2.8, 4.5} <= limit_lines(option)


def _plant_day_in_chinese() -> str:
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    return f"{today.year}年{today.month}月{today.day}日"


def test_a_daily_round_is_headed_with_todays_plant_date(page: Page, base_url: str) -> None:
    """zhaogong's tank-farm round (RT-TNK-D), used by no other test."""
    log_in(page, base_url, "zhaogong")
    page.goto(f"{base_url}/rounds")
    card = page.locator("[data-testid='current-round'][data-route='RT-TNK-D']")
    before = _plant_day_in_chinese()
    card.get_by_role("button", name=re.compile("开始点检|Start round")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("罐区机泵日常点检")
    shown = page.get_by_test_id("round-period").inner_text().strip()
    assert shown in {before, _plant_day_in_chinese()}  # the same, unless the plant's midnight passed meanwhile

    page.goto(f"{base_url}/rounds")
    history = page.locator("#round-history [data-testid='round-row']", has_text="罐区机泵日常点检").first
    expect(history.get_by_test_id("round-period")).to_have_text(shown)
