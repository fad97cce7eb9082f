"""The order page's budget card: what an order does to its workshop's month, on hand-computed
cases, through the served fragment (today at the plant is 15 April 2026).

Synthesis (SYN) plans 1000.00 of labour in March and 3000.00 of materials in May. Order A finished
31 March 23:00 (materials 1000.50 + labour 250.00 actual); order D is approved to finish 20 May
(materials 2000.00 + labour 500.00 planned); a draft planned for 10 May would add 1000.00.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from maintenance.assets.models import Asset
from maintenance.budget import drilldown_routes
from maintenance.orders.choices import CostCategory, CostKind
from maintenance.org.models import Role, User, UserWorkshop, Workshop
from tests import factories
from tests.budget.conftest import YEAR, MakeOrder, plant
from tests.conftest import login

TODAY = date(YEAR, 4, 15)


@pytest.fixture(autouse=True)
def today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(drilldown_routes, "plant_today", lambda: TODAY)


@pytest.fixture
def plan(allocate: Callable[..., object], workshop: Workshop) -> None:
    allocate(workshop, CostCategory.LABOUR, 3, "1000.00")
    allocate(workshop, CostCategory.MATERIALS, 5, "3000.00")


@pytest.fixture
def committed(pump: Asset, make_order: MakeOrder) -> None:
    make_order(
        pump,
        lines=[(CostKind.MATERIAL, "2000", "0"), (CostKind.LABOUR, "500", "0")],
        approved=plant(YEAR, 2, 1),
        planned_finish_date=date(YEAR, 5, 20),
    )


def card(client: TestClient, order_id: int) -> dict[str, object]:
    response = client.get(f"/budget/orders/{order_id}/impact", headers={"HX-Request": "true"})
    assert response.status_code == 200, response.text[:2000]
    html = response.text
    assert "<html" not in html  # a fragment for the order page's card
    month = re.search(r'data-month="([^"]+)"', html)
    over = re.search(r'data-over-plan="([^"]+)"', html)
    assert month
    assert over
    return {
        "month": month[1],
        "over_plan": over[1] == "true",
        "amounts": [Decimal(value) for value in re.findall(r'data-cny="([^"]+)"', html)],
        "html": html,
    }


@pytest.mark.usefixtures("plan", "committed")
def test_an_approved_order_is_in_its_planned_month_within_plan(
    client: TestClient, admin: User, pump: Asset, make_order: MakeOrder
) -> None:
    order = make_order(
        pump, lines=[(CostKind.MATERIAL, "100", "0")], approved=plant(YEAR, 4, 1), planned_finish_date=date(YEAR, 5, 2)
    )
    login(client, admin)
    shown = card(client, order.id)  # type: ignore[arg-type]
    # plan 3000.00; actual 0; committed 2500.00 + 100.00 (this order, already counted)
    assert shown["month"] == "2026-05"
    assert shown["amounts"] == [Decimal("3000.00"), Decimal("0.00"), Decimal("2600.00")]
    assert shown["over_plan"] is False


@pytest.mark.usefixtures("plan", "committed")
def test_a_draft_adds_its_planned_cost_and_tips_the_month_over_plan(
    client: TestClient, admin: User, pump: Asset, make_order: MakeOrder
) -> None:
    draft = make_order(pump, lines=[(CostKind.MATERIAL, "1000", "0")], planned_finish_date=date(YEAR, 5, 10))
    login(client, admin)
    shown = card(client, draft.id)  # type: ignore[arg-type]
    assert shown["amounts"] == [Decimal("3000.00"), Decimal("0.00"), Decimal("2500.00")]
    assert shown["over_plan"] is True  # 2500.00 + 1000.00 > 3000.00: over by 500.00
    assert "0.05" in str(shown["html"])  # 500.00 元 = 0.05 万元


@pytest.mark.usefixtures("plan")
def test_a_completed_order_is_in_the_month_it_finished_on_the_plant_clock(
    client: TestClient, admin: User, pump: Asset, make_order: MakeOrder
) -> None:
    order = make_order(
        pump,
        lines=[(CostKind.MATERIAL, "900", "1000.50"), (CostKind.LABOUR, "300", "250")],
        finished=plant(YEAR, 3, 31, 23),
    )
    login(client, admin)
    shown = card(client, order.id)  # type: ignore[arg-type]
    assert shown["month"] == "2026-03"
    assert shown["amounts"] == [Decimal("1000.00"), Decimal("1250.50"), Decimal("0.00")]
    assert shown["over_plan"] is True


@pytest.mark.usefixtures("plan")
def test_an_overdue_or_unplanned_open_order_is_in_the_current_month(
    client: TestClient, admin: User, pump: Asset, make_order: MakeOrder
) -> None:
    overdue = make_order(
        pump, lines=[(CostKind.SERVICE, "800", "0")], approved=plant(YEAR, 1, 15), planned_finish_date=date(YEAR, 2, 10)
    )
    unplanned = make_order(pump, lines=[(CostKind.SERVICE, "50", "0")])
    login(client, admin)
    assert card(client, overdue.id)["month"] == "2026-04"  # type: ignore[arg-type]
    assert card(client, unplanned.id)["month"] == "2026-04"  # type: ignore[arg-type]


def test_without_a_budget_the_card_says_so(client: TestClient, admin: User, pump: Asset, make_order: MakeOrder) -> None:
    order = make_order(pump, lines=[(CostKind.MATERIAL, "100", "0")], planned_finish_date=date(YEAR, 5, 2))
    login(client, admin)
    shown = card(client, order.id)  # type: ignore[arg-type]
    assert 'data-testid="no-budget"' in str(shown["html"])
    assert shown["over_plan"] is False


def test_a_missing_order_is_404_and_an_id_beyond_the_database_422(client: TestClient, admin: User) -> None:
    login(client, admin)
    assert client.get("/budget/orders/999999/impact").status_code == 404
    assert client.get(f"/budget/orders/{2**40}/impact").status_code == 422


def test_the_order_page_loads_the_card(client: TestClient, admin: User, pump: Asset, make_order: MakeOrder) -> None:
    order = make_order(pump, lines=[(CostKind.MATERIAL, "100", "0")])
    login(client, admin)
    page = client.get(f"/orders/{order.id}").text
    assert f'hx-get="/budget/orders/{order.id}/impact" hx-trigger="load"' in page


def test_an_engineer_of_another_workshop_sees_the_order_but_not_its_workshop_s_budget(
    client: TestClient, session: Session, other_workshop: Workshop, pump: Asset, make_order: MakeOrder, plan: None
) -> None:
    order = make_order(pump, lines=[(CostKind.MATERIAL, "123456", "0")], approved=plant(YEAR, 4, 1))
    outsider = factories.UserFactory(role=Role.ENGINEER)
    session.add(UserWorkshop(user_id=outsider.id, workshop_id=other_workshop.id))
    session.flush()
    login(client, outsider)

    response = client.get(f"/budget/orders/{order.id}/impact")

    assert response.status_code == 200
    assert 'data-testid="budget-not-yours"' in response.text
    assert "data-cny" not in response.text
