"""A manager (王主任, wangzr) reads the year's scorecard on the demo plant: finds a tile off target
(red), follows it to the page behind the figure, comes back, opens the month's report and prints
it: on paper the navbar and the buttons are gone, the tiles and their states in words stay, and
Chromium makes a PDF of it.

The red tile is picked by its state, not by a fixed indicator (which figures miss their targets
depends on the seed day), and the report's month is the one of the scorecard's own day, so the
test holds on any calendar day."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Page, expect
from python_calamine import CalamineWorkbook

from tests.e2e.conftest import log_in

MANAGER = "wangzr"

# The heading of each page a tile may lead to (zh_CN, the demo's language), by the link's path.
HEADINGS: dict[str, re.Pattern[str]] = {
    "/budget": re.compile(r"\d{4} 年检修费用预算"),
    "/orders/kpis": re.compile("工单 KPI 指标"),
    "/leakfree/board": re.compile("无泄漏车间认证看板"),
    "/scorecard/operating": re.compile(r"\d{4}年装置运行记录"),
    "/scorecard/accidents": re.compile("设备事故"),
    "/scorecard/projects": re.compile(r"\d{4}年重点项目"),
    "/scorecard/savings": re.compile("创效台账"),
    "/special-equipment/coverage": re.compile("特种设备检验覆盖率"),
}


def test_a_manager_follows_a_red_tile_then_prints_the_monthly_report(page: Page, base_url: str) -> None:
    log_in(page, base_url, MANAGER)
    expect(page.get_by_test_id("current-user")).to_be_visible()

    # 1. The scorecard: at least one tile is off target (the demo plant misses some every day).
    page.goto(f"{base_url}/scorecard")
    red_tiles = page.locator("[data-testid^='tile-'][data-state='red']")
    expect(red_tiles.first).to_be_visible()
    links = [tile.locator("h3 a").get_attribute("href") or "" for tile in red_tiles.all()]
    known = [link for link in links if urlsplit(link).path in HEADINGS]
    assert known, f"no red tile leads to a page this test knows: {links}"
    link = known[0]
    as_of = page.locator("input[name='as_of']").input_value()  # the scorecard's day: YYYY-MM-DD
    year, month = int(as_of[:4]), int(as_of[5:7])

    # 2. Its link opens the figure's page.
    page.locator(f"[data-testid^='tile-'][data-state='red'] h3 a[href='{link}']").click()
    expect(page).to_have_url(re.compile(re.escape(urlsplit(link).path)))
    expect(page.locator("main h1").first).to_contain_text(HEADINGS[urlsplit(link).path])

    # 3. Back to the scorecard, then the report of its month.
    page.go_back()
    expect(page).to_have_url(re.compile(r"/scorecard$"))
    page.get_by_test_id("monthly-report").click()
    expect(page).to_have_url(re.compile(rf"/scorecard/report\?year={year}&month={month}$"))
    expect(page.get_by_test_id("report-title")).to_contain_text(f"{year}年{month}月")
    report_tiles = page.locator("article[data-testid^='tile-']")
    expect(report_tiles).to_have_count(15)
    expect(page.locator("nav.navbar")).to_be_visible()
    expect(page.get_by_test_id("print")).to_be_visible()

    # 4. On paper: no navbar, no buttons; every tile with its state in words, the colours kept.
    page.emulate_media(media="print")
    expect(page.locator("nav.navbar")).to_be_hidden()
    expect(page.get_by_test_id("report-actions")).to_be_hidden()
    expect(page.get_by_test_id("print")).to_be_hidden()
    for tile in report_tiles.all():
        expect(tile).to_be_visible()
    red = page.locator("article[data-testid^='tile-'][data-state='red']").first
    expect(red.get_by_test_id("state")).to_have_text("未达标")
    adjust = red.get_by_test_id("state").evaluate("badge => getComputedStyle(badge).printColorAdjust")
    assert adjust == "exact"
    family = page.locator(".scorecard-report").evaluate("report => getComputedStyle(report).fontFamily")
    assert family.startswith('"WenQuanYi Micro Hei", "Noto Sans CJK SC"'), family

    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF-")
    assert len(pdf) > 10_000


# --- The workshop assessment (考核) ------------------------------------------------------------

WORKSHOPS = ("SYN", "DIS", "UTL", "PWR", "TNK", "PKG")  # seed/org/workshops.csv


def _ranks(page: Page) -> list[int]:
    return [int(text) for text in page.locator("[data-testid^='workshop-'] [data-testid='rank']").all_inner_texts()]


def test_a_manager_opens_the_assessment_from_the_scorecard_and_exports_it(
    page: Page, base_url: str, tmp_path: Path
) -> None:
    log_in(page, base_url, MANAGER)
    page.goto(f"{base_url}/scorecard")
    page.get_by_test_id("workshop-assessment").click()

    expect(page).to_have_url(re.compile(r"/scorecard/assessment\?year=\d{4}&month=\d{1,2}$"))
    expect(page.get_by_test_id("assessment-title")).to_contain_text("车间考核")
    rows = page.locator("tr[data-testid^='workshop-']")
    expect(rows).to_have_count(len(WORKSHOPS))
    ranks = _ranks(page)
    assert ranks[0] == 1
    assert ranks == sorted(ranks)
    # A manager sees every workshop's cells, each judged or saying why not.
    expect(page.locator("td[data-state='hidden']")).to_have_count(0)
    expect(page.locator("td[data-state='green'], td[data-state='amber'], td[data-state='red']").first).to_be_visible()

    with page.expect_download() as info:
        page.get_by_test_id("export-xlsx").click()
    download = info.value
    assert download.failure() is None
    assert download.suggested_filename.endswith(".xlsx")
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(1).to_python()  # after the header sheet
    codes = [str(row[1])[:3] for row in sheet if row and str(row[1])[:3] in WORKSHOPS]
    page_codes = [
        (rows.nth(n).get_attribute("data-testid") or "").removeprefix("workshop-") for n in range(len(WORKSHOPS))
    ]
    assert codes == page_codes  # the same workshops in the same ranking order


def test_an_engineer_finds_the_assessment_in_the_menu_and_sees_only_their_own_workshops_cells(
    page: Page, base_url: str
) -> None:
    log_in(page, base_url, "zhanggong")  # an engineer of SYN and DIS (seed/org/users.csv)
    page.locator("#nav-programme > a").click()
    page.locator("#nav-programme").get_by_role("link", name="车间考核").click()

    expect(page).to_have_url(re.compile(r"/scorecard/assessment$"))
    expect(page.locator("tr[data-testid^='workshop-']")).to_have_count(len(WORKSHOPS))
    for code in ("SYN", "DIS"):
        expect(page.locator(f"tr[data-testid='workshop-{code}'] td[data-state='hidden']")).to_have_count(0)
    for code in ("UTL", "PWR", "TNK", "PKG"):
        hidden = page.locator(f"tr[data-testid='workshop-{code}'] td[data-state='hidden']")
        expect(hidden.first).to_be_visible()
        expect(page.locator(f"tr[data-testid='workshop-{code}'] [data-testid='score']")).not_to_have_text("")
    expect(page.get_by_test_id("export-xlsx")).to_have_count(0)
