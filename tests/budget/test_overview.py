"""The budget overview (/budget), its burn-up chart, its XLSX export and the home card, served on a
small plant computed by hand, as of 2026-04-15 (day 105 of 365; April half gone: 15 of 30 days).

Target 1560万 against baselines 3000万, 3200万, 3160万 (average 3120万): −50.0 %.
Plan: SYN materials 10万 in each of January–April and 20万 in December (year 60万, to date
30万 + 5万 = 35万); UTL labour 5万 in January and 4万 in April (year 9万, to date 5万 + 2万 = 7万).
Plant: year plan 69万, plan to date 42万, unallocated 1560万 − 69万 = 1491万.
Actual to 04-15: SYN an order finished 02-10 with 38万 of material and a journal entry of 2万 of
services on 03-20 (40万: +5万 on 35万 = +14.3 %, drifting); UTL an order finished 04-02 with 7.2万
of labour (+0.2万 on 7万 = +2.9 %, over plan). An SYN order finished 04-20 is after the date.
Committed: UTL's approved order planned to finish 06-10 with 3万 of services.
Plant actual 47.2万, variance +5.2万 (+12.4 %). Forecast = 472,000 + 30,000 + 472,000 ÷ 105 × 260
(1,168,761.90) = 1,670,761.90 (167.08万); SYN 400,000 + 990,476.19 = 1,390,476.19; UTL 72,000 +
30,000 + 178,285.71 = 280,285.71.
"""

from __future__ import annotations

import html
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest
from fastapi.testclient import TestClient
from python_calamine import CalamineWorkbook
from sqlmodel import Session

from maintenance.assets.models import Asset
from maintenance.budget.models import BudgetYear
from maintenance.orders.choices import CostCategory, CostKind
from maintenance.org.models import Role, User, UserWorkshop, Workshop
from tests import factories
from tests.budget.conftest import YEAR, MakeOrder, plant
from tests.conftest import login

AS_OF = "2026-04-15"
VIEW = {"year": "2026", "as_of": AS_OF}


@dataclass
class Plant:
    syn: Workshop
    utl: Workshop


def sign_in(client: TestClient, role: Role) -> User:
    user = factories.UserFactory(role=role)
    login(client, user)
    return user


@pytest.fixture
def budget_plant(
    workshop: Workshop,
    other_workshop: Workshop,
    pump: Asset,
    other_pump: Asset,
    make_order: MakeOrder,
    book: Callable[..., object],
    budget: BudgetYear,
    allocate: Callable[..., object],
) -> Plant:
    for month in (1, 2, 3, 4):
        allocate(workshop, CostCategory.MATERIALS, month, "100000.00")
    allocate(workshop, CostCategory.MATERIALS, 12, "200000.00")
    allocate(other_workshop, CostCategory.LABOUR, 1, "50000.00")
    allocate(other_workshop, CostCategory.LABOUR, 4, "40000.00")
    make_order(pump, lines=[(CostKind.MATERIAL, "300000", "380000")], finished=plant(YEAR, 2, 10))
    book(workshop, "2026-03-20", CostCategory.SERVICES, "20000.00", "PZ-2026-0320")
    make_order(other_pump, lines=[(CostKind.LABOUR, "70000", "72000")], finished=plant(YEAR, 4, 2))
    make_order(pump, lines=[(CostKind.MATERIAL, "10000", "10000")], finished=plant(YEAR, 4, 20))
    make_order(
        other_pump,
        lines=[(CostKind.SERVICE, "30000", "0")],
        approved=plant(YEAR, 4, 1),
        planned_finish_date=date(YEAR, 6, 10),
    )
    return Plant(workshop, other_workshop)


def text_of(fragment: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)).strip())


def row_of(page: str, table: str, code: str) -> str:
    match = re.search(rf'<tr[^>]*data-testid="{table}-row" data-code="{code}"[^>]*>(.*?)</tr>', page, re.S)
    assert match, (table, code)
    return match.group(0)


def figure(fragment: str, testid: str) -> str:
    match = re.search(rf'<(a|span)[^>]*data-testid="{testid}"[^>]*>(.*?)</\1>', fragment, re.S)
    assert match, testid
    return text_of(match.group(2))


def href(fragment: str, testid: str) -> str:
    match = re.search(rf'<a[^>]*href="([^"]*)"[^>]*data-testid="{testid}"', fragment, re.S)
    assert match, testid
    return html.unescape(match.group(1))


def chart_option(page: str) -> dict[str, object]:
    match = re.search(r'<template id="budget-burn-up" data-chart-option>(.*?)</template>', page, re.S)
    assert match
    return json.loads(html.unescape(match.group(1)))  # type: ignore[no-any-return]


def test_the_cards_show_target_baseline_plan_actual_variance_committed_and_forecast_in_10k_cny(
    client: TestClient, budget_plant: Plant
) -> None:
    sign_in(client, Role.MANAGER)
    page = client.get("/budget", params=VIEW)
    assert page.status_code == 200
    text = page.text

    assert re.search(r'data-testid="target"[^>]*>1,560.00 万元<', text)
    baseline = text_of(text.split('data-testid="baseline"')[1].split("</div>\n  </div>")[0])
    assert "3,120.00 万元" in baseline
    assert "2023: 3,000.00 万元; 2024: 3,200.00 万元; 2025: 3,160.00 万元" in baseline
    assert "-50.0%" in baseline
    assert figure(text, "allocated") == "69.00 万元"
    assert 'data-testid="unallocated" data-amount="14910000.00"' in text
    assert figure(text, "card-plan-to-date") == "42.00 万元"
    assert figure(text, "card-actual") == "47.20 万元"
    assert figure(text, "card-variance") == "+52,000.00 元"
    assert figure(text, "card-committed") == "3.00 万元"
    assert figure(text, "card-forecast") == "167.08 万元"
    method = text_of(text.split('data-testid="forecast-method">')[1].split("</div>")[0])
    assert method == "实际 47.20 万元 + 已承诺 3.00 万元 + 日均 4,495.24 元/天 × 剩余 260 天（116.88 万元）"
    assert 'data-testid="forecast-vs-target" data-amount="-13929238.10"' in text


def test_each_workshop_and_category_row_has_its_figures_and_over_plan_rows_are_highlighted(
    client: TestClient, budget_plant: Plant
) -> None:
    sign_in(client, Role.MANAGER)
    page = client.get("/budget", params=VIEW).text

    syn = row_of(page, "by-workshop", "SYN")
    assert 'class="table-danger"' in syn
    assert 'data-state="drifting"' in syn
    assert figure(syn, "year-plan") == "60.00 万元"
    assert figure(syn, "plan-to-date") == "35.00 万元"
    assert figure(syn, "actual") == "40.00 万元"
    assert figure(syn, "variance") == "+50,000.00 元"
    assert "+14.3%" in text_of(syn)
    assert figure(syn, "committed") == "0.00 万元"
    assert figure(syn, "forecast") == "139.05 万元"  # 1,390,476.19

    utl = row_of(page, "by-workshop", "UTL")
    assert 'class="table-warning"' in utl
    assert 'data-state="over"' in utl
    assert figure(utl, "actual") == "7.20 万元"
    assert figure(utl, "variance") == "+2,000.00 元"
    assert "+2.9%" in text_of(utl)
    assert figure(utl, "committed") == "3.00 万元"
    assert figure(utl, "forecast") == "28.03 万元"  # 280,285.71

    total = page.split('data-testid="by-workshop-total"')[1].split("</tr>")[0]
    assert figure(total, "actual") == "47.20 万元"
    assert figure(total, "forecast") == "167.08 万元"

    # Services were planned nothing and spent 2万: drifting; labour is 2.9 % over; spare parts untouched.
    assert 'data-state="drifting"' in row_of(page, "by-category", "services")
    assert figure(row_of(page, "by-category", "materials"), "actual") == "38.00 万元"
    assert 'data-state="over"' in row_of(page, "by-category", "labour")
    assert 'data-state="within"' in row_of(page, "by-category", "spares")
    assert 'data-testid="legend"' in page


def test_the_month_table_compares_each_begun_month_with_its_passed_plan(
    client: TestClient, budget_plant: Plant
) -> None:
    sign_in(client, Role.MANAGER)
    page = client.get("/budget", params=VIEW).text

    def month(number: int) -> str:
        match = re.search(rf'<tr[^>]*data-month="{number}"[^>]*>(.*?)</tr>', page, re.S)
        assert match
        return match.group(0)

    assert figure(month(2), "actual") == "38.00 万元"
    assert figure(month(2), "variance") == "+280,000.00 元"
    assert figure(month(4), "plan") == "14.00 万元"
    assert figure(month(4), "variance") == "+2,000.00 元"  # 7.2万 against half of 14万
    assert 'data-state="not-started"' in month(5)
    assert figure(month(6), "committed") == "3.00 万元"


def test_every_figure_links_to_its_drill_down(client: TestClient, budget_plant: Plant) -> None:
    sign_in(client, Role.MANAGER)
    page = client.get("/budget", params=VIEW).text
    view = f"/budget/drill?year=2026&as_of={AS_OF}"

    assert href(page, "card-actual") == f"{view}&measure=actual"
    assert href(page, "card-committed") == f"{view}&measure=committed"
    # Plan to date (pro rata) and the forecast are computed: no listing totals them, so no link.
    assert "href" not in re.search(r'<[^>]*data-testid="card-plan-to-date"[^>]*>', page).group(0)  # type: ignore[union-attr]
    assert "href" not in re.search(r'<[^>]*data-testid="card-forecast"[^>]*>', page).group(0)  # type: ignore[union-attr]
    syn = row_of(page, "by-workshop", "SYN")
    assert href(syn, "actual") == f"{view}&measure=actual&workshop={budget_plant.syn.id}"
    assert href(syn, "year-plan") == f"{view}&measure=plan&workshop={budget_plant.syn.id}"
    assert href(row_of(page, "by-category", "services"), "committed") == f"{view}&measure=committed&category=services"
    june = page.split('data-month="6"')[1].split("</tr>")[0]
    assert href(june, "committed") == f"{view}&measure=committed&month=6"


def test_the_burn_up_chart_carries_the_cumulative_series_and_the_target(
    client: TestClient, budget_plant: Plant
) -> None:
    sign_in(client, Role.MANAGER)
    option = chart_option(client.get("/budget", params=VIEW).text)
    series = {s["name"]: s for s in option["series"]}  # type: ignore[attr-defined]

    assert series["计划（累计）"]["data"] == [15, 25, 35, 49, 49, 49, 49, 49, 49, 49, 49, 69]
    assert series["实际（累计）"]["data"] == [0, 38, 40, 47.2, *[None] * 8]
    assert series["实际 + 已承诺"]["data"] == [None, None, None, 47.2, 47.2, *[50.2] * 7]
    assert series["预测"]["data"] == [None, None, None, 47.2, *[None] * 7, 167.08]
    assert series["计划（累计）"]["markLine"]["data"] == [{"yAxis": 1560.0}]


def test_an_engineer_sees_only_his_workshop(session: Session, client: TestClient, budget_plant: Plant) -> None:
    engineer = factories.UserFactory(role=Role.ENGINEER)
    session.add(UserWorkshop(user_id=engineer.id, workshop_id=budget_plant.syn.id))
    session.flush()
    login(client, engineer)
    page = client.get("/budget", params=VIEW).text

    assert 'data-code="SYN"' in page
    assert 'data-code="UTL"' not in page
    assert figure(page, "card-actual") == "40.00 万元"
    assert figure(page, "allocated") == "60.00 万元"
    assert 'data-testid="unallocated"' not in page
    # His workshops' forecast is judged against their year plan: 1,390,476.19 − 600,000.
    assert 'data-testid="forecast-vs-target" data-amount="790476.19"' in page

    workbook = CalamineWorkbook.from_filelike(
        io.BytesIO(client.get("/budget", params=VIEW | {"export": "xlsx"}).content)
    )
    assert {row[0] for row in workbook.get_sheet_by_index(1).to_python()[1:]} == {"SYN"}


def test_the_reference_date_is_kept_and_an_htmx_request_gets_the_results_alone(
    client: TestClient, budget_plant: Plant
) -> None:
    sign_in(client, Role.MANAGER)
    fragment = client.get("/budget", params={"year": "2026", "as_of": "2026-04-30"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    # The order finished on 04-20 now counts: 48.2万.
    assert figure(fragment.text, "card-actual") == "48.20 万元"


def test_a_year_without_a_target_says_so_and_offers_managers_to_set_it(client: TestClient, workshop: Workshop) -> None:
    sign_in(client, Role.MANAGER)
    page = client.get("/budget", params={"year": "2027"}).text
    assert 'data-testid="no-target"' in page
    assert 'href="/budget/2027/target"' in page
    assert 'href="/budget/2027/allocation"' in page
    assert 'data-testid="previous-year"' in page
    assert 'href="/budget?year=2026"' in page

    client.cookies.clear()
    sign_in(client, Role.AUDITOR)
    page = client.get("/budget", params={"year": "2027"}).text
    assert 'data-testid="no-target"' in page
    assert 'href="/budget/2027/target"' not in page


# "²" is a digit to str.isdigit() but not to int(): it was a 500.
@pytest.mark.parametrize(
    "params",
    [{"year": "abc"}, {"year": "1999"}, {"year": "²"}, {"as_of": "2026-02-30"}, {"as_of": "yesterday"}],
)
def test_a_bad_year_or_reference_date_is_a_422_page(client: TestClient, params: dict[str, str]) -> None:
    sign_in(client, Role.MANAGER)
    for path in ("/budget", "/budget/card"):
        response = client.get(path, params=params)
        assert response.status_code == 422, path
        assert "year" in response.text or "as_of" in response.text or "日期" in response.text
    assert client.get("/budget", params=VIEW | {"export": "pdf"}).status_code == 422


def test_the_export_has_the_summary_and_one_row_per_workshop_category_and_month(
    client: TestClient, budget_plant: Plant
) -> None:
    sign_in(client, Role.AUDITOR)
    response = client.get("/budget", params=VIEW | {"export": "xlsx"})
    assert response.status_code == 200
    assert response.headers["X-Export-Rows"] == "120"  # 2 workshops × 5 categories × 12 months
    workbook = CalamineWorkbook.from_filelike(io.BytesIO(response.content))

    about = {row[0]: row[1] for row in workbook.get_sheet_by_index(0).to_python() if len(row) > 1 and row[0]}
    assert about["年度"] == "2026"
    assert str(about["截至日期"])[:10] == AS_OF
    assert about["目标（元）"] == 15600000
    assert about["基准（元）"] == 31200000
    assert about["至今计划（元）"] == 420000
    assert about["至今实际（元）"] == 472000
    assert about["已承诺（元）"] == 30000
    assert about["至今偏差（元）"] == 52000
    assert about["至今偏差率（百分数）"] == 12.38  # 52,000 ÷ 420,000
    assert about["年末预测（元）"] == 1670761.9

    rows = workbook.get_sheet_by_index(1).to_python()
    assert rows[0] == [
        "车间代码", "车间", "费用科目", "月份", "计划（元）", "至今计划（元）",
        "实际（元）", "已承诺（元）", "偏差（元）", "偏差率",
    ]  # fmt: skip
    by_key = {(row[0], row[2], row[3]): row[4:] for row in rows[1:]}
    assert by_key[("SYN", "材料费", 2)] == [100000, 100000, 380000, 0, 280000, 2.8]
    assert by_key[("SYN", "材料费", 4)] == [100000, 50000, 0, 0, -50000, -1]  # nothing of the 5万 passed
    assert by_key[("UTL", "外委服务费", 6)] == [0, "", 0, 30000, "", ""]
    assert by_key[("SYN", "外委服务费", 3)] == [0, 0, 20000, 0, 20000, ""]


def test_the_home_card_shows_target_actual_and_forecast(client: TestClient, budget_plant: Plant) -> None:
    sign_in(client, Role.MANAGER)
    assert 'hx-get="/budget/card"' in client.get("/").text
    card = client.get("/budget/card", params=VIEW)
    assert card.status_code == 200
    assert re.search(r'data-testid="card-target">1,560.00 万元<', card.text)
    assert re.search(r'data-testid="card-actual">47.20 万元<', card.text)
    assert re.search(r'data-testid="card-forecast">167.08 万元<', card.text)
    assert "-1,392.92 万元" in card.text  # 1,670,761.90 − 15,600,000


def test_the_page_runs_a_fixed_number_of_queries(
    session: Session,
    client: TestClient,
    budget_plant: Plant,
    make_order: MakeOrder,
    allocate: Callable[..., object],
    count_queries: list[str],
) -> None:
    sign_in(client, Role.MANAGER)

    def counts() -> list[int]:
        found = []
        for params in (VIEW, VIEW | {"export": "xlsx"}):
            count_queries.clear()
            assert client.get("/budget", params=params).status_code == 200
            found.append(len(count_queries))
        count_queries.clear()
        assert client.get("/budget/card", params=VIEW).status_code == 200
        return [*found, len(count_queries)]

    with_two = counts()
    for n in range(3):
        extra = factories.WorkshopFactory()
        asset = factories.AssetFactory(workshop_id=extra.id)
        allocate(extra, CostCategory.SPARES, n + 1, "1000.00")
        make_order(asset, lines=[(CostKind.LOCALISED, "10", "10")], finished=plant(YEAR, 3, 1 + n))
        make_order(asset, lines=[(CostKind.LABOUR, "10", "0")], approved=plant(YEAR, 3, 1 + n))
    session.flush()  # the orders' last writes are the fixtures', not the page's
    assert counts() == with_two
