"""The accident register's list through the served app: the year (this year by default), class,
workshop and search filters, sorting, pagination in a fixed number of queries, the empty state,
the htmx fragment, the year's accident-rate card, and the CSV/XLSX export of the filtered list."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from maintenance.assets.models import Asset
from maintenance.db import plant_today
from maintenance.org.models import User, Workshop
from maintenance.scorecard.accidents.models import AccidentClass
from tests.conftest import login
from tests.scorecard.accidents.conftest import Record

LIST = "/scorecard/accidents"


@pytest.fixture
def register(pump: Asset, other_pump: Asset, record: Record) -> None:
    """2026: three accidents and an incident; 2025: two accidents by 30 June."""
    record(pump, "2026-03-05", AccidentClass.GENERAL, title="合成液泵机封泄漏着火", loss_cny=Decimal("125000.00"))
    record(pump, "2026-05-20", AccidentClass.SERIOUS, title="反应器超温", downtime_hours=Decimal("36.5"))
    record(other_pump, "2026-04-11", AccidentClass.GENERAL, title="循环水泵抱轴")
    record(other_pump, "2026-02-14", AccidentClass.INCIDENT, title="冷却塔风机振动高")
    record(pump, "2025-03-01", AccidentClass.GENERAL, title="去年一")
    record(other_pump, "2025-06-01", AccidentClass.GENERAL, title="去年二")


def _titles(html: str) -> list[str]:
    return re.findall(r'<tr data-accident="([^"]+)"', html)


def test_the_year_is_listed_newest_first_with_its_rate(client: TestClient, auditor: User, register: None) -> None:
    login(client, auditor)

    page = client.get(f"{LIST}?year=2026")

    assert page.status_code == 200
    assert _titles(page.text) == ["反应器超温", "循环水泵抱轴", "合成液泵机封泄漏着火", "冷却塔风机振动高"]
    # 2026 is a past year on the test's clock or this year: either way counted through a day
    # at or after 20 May 2026 against the same span of 2025: 3 against 2 → +50 %.
    assert 'data-change="0.5000"' in page.text
    assert 'data-state="red"' in page.text  # +50 % against a −10 % target


@pytest.mark.parametrize(
    ("query", "titles"),
    [
        ("&accident_class=incident", ["冷却塔风机振动高"]),
        ("&q=机封", ["合成液泵机封泄漏着火"]),
        ("&q=P-201", ["循环水泵抱轴", "冷却塔风机振动高"]),
        ("&sort=date", ["冷却塔风机振动高", "合成液泵机封泄漏着火", "循环水泵抱轴", "反应器超温"]),
        ("&sort=-loss", ["合成液泵机封泄漏着火", "反应器超温", "循环水泵抱轴", "冷却塔风机振动高"]),
        # ties on the figure: the later day first
        ("&sort=-downtime", ["反应器超温", "循环水泵抱轴", "合成液泵机封泄漏着火", "冷却塔风机振动高"]),
        ("&accident_class=nonsense", ["反应器超温", "循环水泵抱轴", "合成液泵机封泄漏着火", "冷却塔风机振动高"]),
    ],
)
def test_filters_and_sorting(client: TestClient, auditor: User, register: None, query: str, titles: list[str]) -> None:
    login(client, auditor)

    page = client.get(f"{LIST}?year=2026{query}")

    assert page.status_code == 200
    assert _titles(page.text) == titles


def test_a_workshop_filter_scopes_the_rate_card_too_and_htmx_gets_the_fragment(
    client: TestClient, auditor: User, register: None, other_workshop: Workshop
) -> None:
    login(client, auditor)

    fragment = client.get(f"{LIST}?year=2026&workshop_id={other_workshop.id}", headers={"HX-Request": "true"})

    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert _titles(fragment.text) == ["循环水泵抱轴", "冷却塔风机振动高"]
    assert 'data-change="0.0000"' in fragment.text  # 1 against 1
    assert 'data-state="amber"' in fragment.text  # 0 % against −10 %: within the scorecard's 10 points


def test_without_a_year_the_list_shows_this_year(
    client: TestClient, auditor: User, pump: Asset, record: Record
) -> None:
    today = plant_today()
    record(pump, today.isoformat(), title="今天")
    record(pump, f"{today.year - 1}-12-31", title="去年底")
    login(client, auditor)

    page = client.get(LIST)

    assert _titles(page.text) == ["今天"]


def test_an_empty_year_says_so_and_meets_the_target(client: TestClient, auditor: User) -> None:
    login(client, auditor)

    page = client.get(f"{LIST}?year=2024")

    assert page.status_code == 200
    assert _titles(page.text) == []
    assert 'class="bi bi-inbox' in page.text
    assert 'data-change=""' in page.text
    assert 'data-state="green"' in page.text


def test_pages_run_a_fixed_number_of_queries(
    client: TestClient, manager: User, pump: Asset, record: Record, count_queries: list[str]
) -> None:
    def add(first: int, count: int) -> None:
        for number in range(first, first + count):
            record(pump, "2026-03-01", title=f"A-{number:03}")

    def queries() -> int:
        count_queries.clear()
        assert client.get(f"{LIST}?year=2026&sort=date").status_code == 200
        return len(count_queries)

    login(client, manager)
    add(1, 2)
    few = queries()
    add(3, 58)
    many = queries()
    second = client.get(f"{LIST}?year=2026&sort=date&page=2")

    assert many == few
    assert _titles(second.text)[0] == "A-051"  # 50 a page, the id breaks the tie oldest first


def test_the_csv_export_holds_the_filtered_accidents(
    client: TestClient, auditor: User, register: None, workshop: Workshop
) -> None:
    client.cookies.set("lang", "en")
    login(client, auditor)

    response = client.get(f"{LIST}?year=2026&workshop_id={workshop.id}&sort=date&export=csv")

    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:8] == ["Date", "Workshop", "Asset tag", "Asset", "Class", "Title", "Downtime (h)", "Loss (CNY)"]
    assert [row[:8] for row in rows[1:]] == [
        ["2026-03-05", "合成车间", "P-101", "合成液泵", "General accident", "合成液泵机封泄漏着火", "0.0", "125000.00"],
        ["2026-05-20", "合成车间", "P-101", "合成液泵", "Serious accident", "反应器超温", "36.5", "0.00"],
    ]


def test_the_xlsx_export_is_a_workbook_and_an_unknown_format_a_422(
    client: TestClient, auditor: User, register: None
) -> None:
    login(client, auditor)

    workbook = client.get(f"{LIST}?year=2026&export=xlsx")
    unknown = client.get(f"{LIST}?year=2026&export=pdf")

    assert workbook.status_code == 200
    assert workbook.content.startswith(b"PK")
    assert workbook.headers["x-export-rows"] == "4"
    assert unknown.status_code == 422
