"""The same actual everywhere: the repair cost on the served KPI page equals the budget's actual
(``budget_report``) to the fen, for years, months, a range of months and a workshop filter.

The plant (plant time):
- synthesis (SYN): order A finished 2026-03-31 23:00 (1000.50 + 250.00), order B finished
  2026-04-01 00:00 (4800.00), order F raised 2025-12-20 and finished 2026-01-05 (77.00), order G
  finished 2025-12-31 23:30 (123.45); journal FIN-001 2026-03-20 (300.25);
- utilities (UTL): order C finished 2026-03-10 (700.00); journal FIN-002 2026-03-05 (999.00),
  FIN-000 2025-06-01 (10.00).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from maintenance.assets.models import Asset
from maintenance.budget.service import budget_report
from maintenance.orders.choices import CostCategory, CostKind
from maintenance.org.models import User, Workshop
from tests.budget.conftest import PLANT, YEAR, MakeOrder, plant
from tests.conftest import login


@pytest.fixture(autouse=True)
def costs(
    pump: Asset,
    other_pump: Asset,
    make_order: MakeOrder,
    book: Callable[..., object],
    workshop: Workshop,
    other_workshop: Workshop,
) -> None:
    make_order(
        pump,
        lines=[(CostKind.MATERIAL, "0", "1000.50"), (CostKind.LABOUR, "0", "250")],
        finished=plant(YEAR, 3, 31, 23),
    )
    make_order(pump, lines=[(CostKind.SERVICE, "0", "4800")], finished=plant(YEAR, 4, 1, 0))
    make_order(pump, lines=[(CostKind.MATERIAL, "0", "77")], raised=plant(2025, 12, 20), finished=plant(YEAR, 1, 5))
    late_2025 = datetime(2025, 12, 31, 23, 30, tzinfo=PLANT).astimezone(UTC)
    make_order(pump, lines=[(CostKind.LABOUR, "0", "123.45")], finished=late_2025)
    make_order(other_pump, lines=[(CostKind.MATERIAL, "0", "700")], finished=plant(YEAR, 3, 10))
    book(workshop, "2026-03-20", CostCategory.MATERIALS, "300.25", "FIN-001")
    book(other_workshop, "2026-03-05", CostCategory.SERVICES, "999.00", "FIN-002")
    book(other_workshop, "2025-06-01", CostCategory.SERVICES, "10.00", "FIN-000")


def kpi_repair_cost(client: TestClient, **params: object) -> Decimal:
    response = client.get("/orders/kpis", params={k: str(v) for k, v in params.items()})
    assert response.status_code == 200, response.text[:2000]
    match = re.search(r'id="repair-cost-total" data-actual-cny="([^"]+)"', response.text)
    assert match, "the KPI page shows the repair cost with its exact amount"
    return Decimal(match[1])


def test_a_year_on_the_kpi_page_is_the_budget_years_actual(client: TestClient, session: Session, admin: User) -> None:
    login(client, admin)
    # 1250.50 + 4800.00 + 77.00 + 700.00 + 300.25 + 999.00
    assert kpi_repair_cost(client, year=YEAR) == Decimal("8126.75")
    assert budget_report(session, YEAR, date(YEAR, 12, 31)).actual.total == Decimal("8126.75")
    # 123.45 + 10.00: order F was raised in 2025 but its cost is 2026's
    assert kpi_repair_cost(client, year=2025) == Decimal("133.45")
    assert budget_report(session, 2025, date(2025, 12, 31)).actual.total == Decimal("133.45")


def test_a_workshop_on_the_kpi_page_is_its_budget_actual(
    client: TestClient, session: Session, admin: User, workshop: Workshop
) -> None:
    login(client, admin)
    expected = Decimal("6427.75")  # 1250.50 + 4800.00 + 77.00 + 300.25
    assert kpi_repair_cost(client, year=YEAR, workshop_id=workshop.id) == expected
    report = budget_report(session, YEAR, date(YEAR, 12, 31), workshop_ids=[workshop.id])  # type: ignore[list-item]
    assert report.actual.total == expected


@pytest.mark.parametrize(
    ("start", "end", "months", "workshop_filter", "expected"),
    [
        ("2026-03-01", "2026-03-31", [2], False, "3249.75"),  # 1250.50 + 700.00 + 300.25 + 999.00
        ("2026-03-01", "2026-04-30", [2, 3], True, "6350.75"),  # SYN: 1250.50 + 4800.00 + 300.25
        ("2026-01-01", "2026-01-31", [0], False, "77.00"),
    ],
)
def test_a_range_of_months_on_the_kpi_page_is_the_sum_of_the_budgets_months(
    client: TestClient,
    session: Session,
    admin: User,
    workshop: Workshop,
    start: str,
    end: str,
    months: list[int],
    workshop_filter: bool,
    expected: str,
) -> None:
    login(client, admin)
    params: dict[str, object] = {"start_date": start, "end_date": end}
    workshop_ids = None
    if workshop_filter:
        params["workshop_id"] = workshop.id
        workshop_ids = [workshop.id]
    shown = kpi_repair_cost(client, **params)
    report = budget_report(session, YEAR, date(YEAR, 12, 31), workshop_ids=workshop_ids)  # type: ignore[arg-type]
    assert shown == report.actual.sum(months=months) == Decimal(expected)


def test_the_kpi_card_splits_orders_and_journal_and_links_to_the_budget(client: TestClient, admin: User) -> None:
    login(client, admin)
    html = client.get("/orders/kpis", params={"year": "2025"}, headers={"Accept-Language": "en"}).text
    card = html[html.index('id="tile-repair-cost"') :][:3000]
    assert 'href="/budget?year=2025"' in card
    assert "0.01" in card
    assert "0.00" in card
