"""The monthly report (/scorecard/report?year=&month=): the scorecard as of the month's last day
(today for the current month), a page to print and a spreadsheet, through the served app.

The condition-based share shows which day the report is drawn as of: orders raised on the
month's last day count, those raised the day after do not. The plant's today is fixed per test."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from fastapi.testclient import TestClient
from python_calamine import CalamineWorkbook
from sqlmodel import Session

from maintenance.assets.models import Asset
from maintenance.budget.models import BudgetYear
from maintenance.exceptions import ValidationFailed
from maintenance.orders.choices import OrderType
from maintenance.org.models import Role, User
from maintenance.scorecard import routes
from maintenance.scorecard.report import report_month
from tests import factories
from tests.budget.conftest import MakeOrder, plant
from tests.conftest import login

DECEMBER_5 = date(2026, 12, 5)


@pytest.fixture
def today(monkeypatch: pytest.MonkeyPatch) -> date:
    """The plant's today as the routes read it: 5 December 2026 unless a test sets another."""
    monkeypatch.setattr(routes, "plant_today", lambda: DECEMBER_5)
    return DECEMBER_5


def set_today(monkeypatch: pytest.MonkeyPatch, day: date) -> None:
    monkeypatch.setattr(routes, "plant_today", lambda: day)


def tile(page: str, code: str) -> str:
    match = re.search(rf'data-testid="tile-{code}" data-state="(\w+)">(.*?)</article>', page, re.S)
    assert match, f"no tile {code}"
    return f"{match[1]} {match[2]}"


def value_of(page: str, code: str) -> str:
    match = re.search(r'data-testid="value">([^<]*)<', tile(page, code))
    assert match, f"no value in {code}"
    return match[1]


# --- Which day the month is reported as of ----------------------------------------------------


@pytest.mark.parametrize(
    ("year", "month", "today", "as_of"),
    [
        ("2026", "1", DECEMBER_5, date(2026, 1, 31)),
        ("2026", "2", DECEMBER_5, date(2026, 2, 28)),
        ("2028", "2", date(2028, 3, 10), date(2028, 2, 29)),  # a leap year
        ("2026", "04", DECEMBER_5, date(2026, 4, 30)),
        ("2026", "12", DECEMBER_5, DECEMBER_5),  # the current month: as of today
        ("2025", "12", DECEMBER_5, date(2025, 12, 31)),
        ("", "", DECEMBER_5, DECEMBER_5),  # nothing asked: this month
        ("2025", "", DECEMBER_5, date(2025, 12, 31)),  # a past year alone: its December
    ],
)
def test_a_month_is_reported_as_of_its_last_day_or_today(year: str, month: str, today: date, as_of: date) -> None:
    assert report_month(year, month, today).as_of == as_of


@pytest.mark.parametrize(
    ("year", "month", "field"),
    [
        ("2026", "13", "month"),
        ("2026", "0", "month"),
        ("2026", "x", "month"),
        ("2026", "1.5", "month"),
        ("2026", "-1", "month"),
        ("26", "1", "year"),
        ("2026", "", "month"),  # no month in a year to come: its December is after this month
    ],
)
def test_a_bad_month_or_year_is_refused_naming_the_field(year: str, month: str, field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        report_month(year, month, date(2025, 6, 15))
    assert [error.field for error in refused.value.errors] == [field]


def test_the_january_report_counts_the_orders_of_january_31_and_not_of_february_1(
    in_english: TestClient, manager: User, today: date, pump: Asset, make_order: MakeOrder
) -> None:
    for day in (5, 6, 7):
        make_order(pump, lines=[], order_type=OrderType.PM, raised=plant(2026, 1, day))
    make_order(pump, lines=[], order_type=OrderType.CBM, raised=plant(2026, 1, 31, hour=23))
    make_order(pump, lines=[], order_type=OrderType.CBM, raised=plant(2026, 2, 1, hour=0))
    login(in_english, manager)

    january = in_english.get("/scorecard/report?year=2026&month=1")
    february = in_english.get("/scorecard/report?year=2026&month=2")

    assert january.status_code == 200
    assert "Equipment management report, January 2026" in january.text
    assert "Figures as of Jan 31, 2026" in january.text
    assert value_of(january.text, "cbm_share") == "25.0 %"  # 1 CBM of 4 orders
    assert tile(january.text, "cbm_share").startswith("amber ")  # 5 points under 30 %: the band's edge
    assert value_of(february.text, "cbm_share") == "40.0 %"  # 2 of 5
    assert "Figures as of Feb 28, 2026" in february.text


def test_the_february_report_of_a_leap_year_ends_on_the_29th(
    in_english: TestClient, manager: User, monkeypatch: pytest.MonkeyPatch, pump: Asset, make_order: MakeOrder
) -> None:
    set_today(monkeypatch, date(2028, 3, 10))
    make_order(pump, lines=[], order_type=OrderType.PM, raised=plant(2028, 2, 1))
    make_order(pump, lines=[], order_type=OrderType.CBM, raised=plant(2028, 2, 29))
    make_order(pump, lines=[], order_type=OrderType.CBM, raised=plant(2028, 3, 1))
    login(in_english, manager)

    page = in_english.get("/scorecard/report?year=2028&month=2").text

    assert "Figures as of Feb 29, 2028" in page
    assert value_of(page, "cbm_share") == "50.0 %"  # 1 CBM of 2 orders


def test_the_current_month_is_reported_as_of_today(
    in_english: TestClient, manager: User, monkeypatch: pytest.MonkeyPatch, pump: Asset, make_order: MakeOrder
) -> None:
    set_today(monkeypatch, date(2026, 3, 18))
    make_order(pump, lines=[], order_type=OrderType.PM, raised=plant(2026, 3, 2))
    make_order(pump, lines=[], order_type=OrderType.CBM, raised=plant(2026, 3, 18))
    make_order(pump, lines=[], order_type=OrderType.CBM, raised=plant(2026, 3, 19))  # booked ahead
    login(in_english, manager)

    page = in_english.get("/scorecard/report?year=2026&month=3").text

    assert "Figures as of Mar 18, 2026" in page
    assert value_of(page, "cbm_share") == "50.0 %"


# --- Refusals -----------------------------------------------------------------------------------


def test_a_month_after_the_current_one_is_a_422_saying_so(in_english: TestClient, manager: User, today: date) -> None:
    login(in_english, manager)
    response = in_english.get("/scorecard/report?year=2027&month=1")
    assert response.status_code == 422
    assert "The report for 2027-01 cannot be drawn yet: choose a month up to 2026-12." in response.text
    assert in_english.get("/scorecard/report?year=2027&month=1&export=xlsx").status_code == 422


@pytest.mark.parametrize(
    ("query", "words"),
    [("year=2026&month=13", "month as a number from 1 to 12"), ("year=26&month=1", "Enter the year as a number")],
)
def test_a_bad_month_or_year_is_a_422_page_naming_it(
    in_english: TestClient, manager: User, today: date, query: str, words: str
) -> None:
    login(in_english, manager)
    response = in_english.get(f"/scorecard/report?{query}")
    assert response.status_code == 422
    assert words in response.text


def test_an_unknown_export_format_is_a_422(in_english: TestClient, manager: User, today: date) -> None:
    login(in_english, manager)
    response = in_english.get("/scorecard/report?year=2026&month=11&export=pdf")
    assert response.status_code == 422
    assert "csv or xlsx" in response.text


def test_an_engineer_is_refused_the_report_and_its_spreadsheet(
    in_english: TestClient, engineer: User, today: date
) -> None:
    login(in_english, engineer)
    page = in_english.get("/scorecard/report?year=2026&month=11")
    assert page.status_code == 403
    assert "monthly assessment" in page.text
    assert in_english.get("/scorecard/report?year=2026&month=11&export=xlsx").status_code == 403


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.ADMIN])
def test_auditors_and_admins_read_the_report(client: TestClient, today: date, role: Role) -> None:
    login(client, factories.UserFactory(role=role))
    assert client.get("/scorecard/report?year=2026&month=11").status_code == 200


# --- The page to print ------------------------------------------------------------------------


def test_the_page_is_made_for_printing(in_english: TestClient, manager: User, today: date) -> None:
    login(in_english, manager)
    page = in_english.get("/scorecard/report?year=2026&month=11").text

    assert '<h1 class="h4 mb-1" data-testid="report-title">Equipment management report, November 2026</h1>' in page
    # The buttons are not printed; the Print button calls window.print() through print.js (CSP).
    actions = re.search(r'<div class="[^"]*no-print" data-testid="report-actions">(.*?)</div>', page, re.S)
    assert actions
    assert 'data-action="print"' in actions[1]
    assert 'href="/scorecard/report?year=2026&amp;month=11&amp;export=xlsx"' in actions[1]
    assert '<script src="/static/print.js" defer></script>' in page
    assert '<link rel="stylesheet" href="/static/scorecard_report.css">' in page
    assert re.search(r'data-testid="printed-on">Printed on .+ by ', page)
    # Grouped as the scorecard: five sections, fifteen tiles, each with its state in words.
    assert re.findall(r'data-group="(\w+)"', page) == ["target", "focuses", "projects", "works", "measures"]
    assert len(re.findall(r'<article class="report-tile', page)) == 15
    assert len(re.findall(r'data-testid="state">', page)) == 15


def test_the_print_style_sheet_names_chinese_fonts_and_prints_the_colours(in_english: TestClient) -> None:
    css = in_english.get("/static/scorecard_report.css").text
    assert 'font-family: "WenQuanYi Micro Hei", "Noto Sans CJK SC", sans-serif;' in css
    assert "print-color-adjust: exact" in css
    assert "size: A4 portrait" in css


def test_the_chinese_heading_names_the_month_as_the_meeting_reads_it(
    client: TestClient, manager: User, today: date
) -> None:
    login(client, manager)
    page = client.get("/scorecard/report?year=2026&month=11").text
    title = re.search(r'data-testid="report-title">([^<]+)<', page)
    # "2026年11月 设备管理月报" once the catalog has the heading's translation (/tmp/zh/sc-report.json).
    assert title
    assert "2026年11月" in title[1]


def test_the_scorecard_links_to_the_report_of_its_month(in_english: TestClient, manager: User, today: date) -> None:
    login(in_english, manager)
    march = in_english.get("/scorecard?year=2026&as_of=2026-03-31").text
    assert 'href="/scorecard/report?year=2026&amp;month=3" data-testid="monthly-report"' in march
    next_year = in_english.get("/scorecard?year=2027").text  # 1 January 2027, not begun
    assert 'data-testid="monthly-report"' not in next_year


# --- The spreadsheet ----------------------------------------------------------------------------


def test_the_spreadsheet_has_a_row_per_indicator_as_the_page_shows_it(
    in_english: TestClient, manager: User, today: date, budget: BudgetYear, pump: Asset, make_order: MakeOrder
) -> None:
    for day in (5, 6, 7):
        make_order(pump, lines=[], order_type=OrderType.PM, raised=plant(2026, 1, day))
    make_order(pump, lines=[], order_type=OrderType.CBM, raised=plant(2026, 1, 31))
    login(in_english, manager)

    response = in_english.get("/scorecard/report?year=2026&month=1&export=xlsx")

    assert response.status_code == 200
    assert "monthly-report_2026-01_2026-01-31.xlsx" in response.headers["content-disposition"]
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(response.content))
    about = {row[0]: row[1] for row in workbook.get_sheet_by_index(0).to_python() if len(row) > 1 and row[0]}
    assert about["Month"] == "2026-01"
    assert str(about["As of"])[:10] == "2026-01-31"
    rows = workbook.get_sheet_by_index(1).to_python()
    assert rows[0] == ["Group", "Indicator", "Figure", "Target", "State", "Detail"]
    assert len(rows) == 1 + 15
    by_name = {row[1]: row for row in rows[1:]}
    cost = ["1 key target", "Repair cost", "0.00 10k CNY", "1,560.00 10k CNY", "On target"]
    assert by_name["Repair cost"][:5] == cost
    assert by_name["Condition-based share of orders"] == [
        "2 focuses",
        "Condition-based share of orders",
        "25.0 %",
        "30.0 %",
        "Near target",
        "1 of 4 orders raised this year; – of their cost.",
    ]
    assert [row[0] for row in rows[1:]].count("Measures") == 7


def test_the_csv_has_the_same_rows(in_english: TestClient, manager: User, today: date, budget: BudgetYear) -> None:
    login(in_english, manager)
    response = in_english.get("/scorecard/report?year=2026&month=1&export=csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["Group", "Indicator", "Figure", "Target", "State", "Detail"]
    assert rows[1][:5] == ["1 key target", "Repair cost", "0.00 10k CNY", "1,560.00 10k CNY", "On target"]
    assert len(rows) == 16


# --- Queries ------------------------------------------------------------------------------------


def test_the_report_runs_the_same_number_of_queries_however_many_rows_it_reads(
    client: TestClient,
    session: Session,
    manager: User,
    today: date,
    budget: BudgetYear,
    make_order: MakeOrder,
    count_queries: list[str],
) -> None:
    login(client, manager)
    made = 0

    def add_rows(count: int) -> None:
        """Per row: a workshop with a pump, a PM order done and a CBM order raised in March."""
        nonlocal made
        for _ in range(count):
            made += 1
            workshop = factories.WorkshopFactory(code=f"R{made}")
            pump = factories.AssetFactory(workshop_id=workshop.id, tag=f"P-R{made}")
            make_order(pump, lines=[], due_date=date(2026, 3, 1), finished=plant(2026, 3, 2))
            make_order(pump, lines=[], order_type=OrderType.CBM, raised=plant(2026, 3, 5))
        session.flush()

    def queries(export: str = "") -> int:
        count_queries.clear()
        response = client.get(f"/scorecard/report?year=2026&month=3{export}")
        assert response.status_code == 200
        return len(count_queries)

    add_rows(1)
    page_with_one, export_with_one = queries(), queries("&export=xlsx")
    add_rows(6)

    assert queries() == page_with_one
    assert queries("&export=xlsx") == export_with_one
