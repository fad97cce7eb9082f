"""The drill-down behind a budget figure, on a hand-computed plant, through the served app.

As of 15 April 2026:
- synthesis (SYN): order A finished 31 March 23:00 (materials 1000.50 + labour 250.00), order B
  finished 1 April 00:00 (services 4800.00); journal FIN-001 20 March materials 300.25, FIN-003
  1 July materials 50.00 (after the reference day); order D approved, planned to finish 20 May
  (materials 2000.00 + labour 500.00 planned); order E approved, planned to finish 10 February,
  overdue (services 800.00 planned: counted in April); a draft (never counted).
- utilities (UTL): order C finished 10 March (materials 700.00); journal FIN-002 5 March services
  999.00.
- plan: SYN materials March 20000.00, SYN labour March 5000.00, UTL materials March 7000.00.
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
from maintenance.budget import drilldown
from maintenance.budget.drilldown import Figure, Measure
from maintenance.budget.period import BudgetView
from maintenance.budget.service import budget_report
from maintenance.orders.choices import CostCategory, CostKind
from maintenance.orders.models import WorkOrder
from maintenance.org.models import Role, User, UserWorkshop, Workshop
from tests import factories
from tests.budget.conftest import YEAR, MakeOrder, plant
from tests.conftest import login

AS_OF = "2026-04-15"
VIEW = {"year": str(YEAR), "as_of": AS_OF}


@pytest.fixture
def orders(
    session: Session,
    pump: Asset,
    other_pump: Asset,
    make_order: MakeOrder,
    book: Callable[..., object],
    workshop: Workshop,
    other_workshop: Workshop,
) -> dict[str, WorkOrder]:
    made = {
        "A": make_order(
            pump,
            title="A 进料泵换密封",
            lines=[(CostKind.MATERIAL, "900", "1000.50"), (CostKind.LABOUR, "300", "250")],
            finished=plant(YEAR, 3, 31, 23),
        ),
        "B": make_order(
            pump, title="B 外委", lines=[(CostKind.SERVICE, "5000", "4800")], finished=plant(YEAR, 4, 1, 0)
        ),
        "C": make_order(other_pump, title="C", lines=[(CostKind.MATERIAL, "700", "700")], finished=plant(YEAR, 3, 10)),
        "D": make_order(
            pump,
            title="D 计划检修",
            lines=[(CostKind.MATERIAL, "2000", "0"), (CostKind.LABOUR, "500", "0")],
            approved=plant(YEAR, 2, 1),
            planned_finish_date=date(YEAR, 5, 20),
        ),
        "E": make_order(
            pump,
            title="E 逾期",
            lines=[(CostKind.SERVICE, "800", "0")],
            approved=plant(YEAR, 1, 15),
            planned_finish_date=date(YEAR, 2, 10),
        ),
        "draft": make_order(pump, title="草稿", lines=[(CostKind.MATERIAL, "9999", "0")]),
    }
    book(workshop, "2026-03-20", CostCategory.MATERIALS, "300.25", "FIN-001")
    book(other_workshop, "2026-03-05", CostCategory.SERVICES, "999.00", "FIN-002")
    book(workshop, "2026-07-01", CostCategory.MATERIALS, "50.00", "FIN-003")
    return made


@pytest.fixture
def plan(allocate: Callable[..., object], workshop: Workshop, other_workshop: Workshop) -> None:
    allocate(workshop, CostCategory.MATERIALS, 3, "20000.00")
    allocate(workshop, CostCategory.LABOUR, 3, "5000.00")
    allocate(other_workshop, CostCategory.MATERIALS, 3, "7000.00")


def user_of(session: Session, role: Role, *workshops: Workshop) -> User:
    user = factories.UserFactory(role=role)
    for workshop in workshops:
        session.add(UserWorkshop(user_id=user.id, workshop_id=workshop.id))  # type: ignore[arg-type]
    session.flush()
    return user


@pytest.fixture
def manager(session: Session) -> User:
    return user_of(session, Role.MANAGER)


def total_of(html: str, element_id: str = "drill-total") -> Decimal:
    match = re.search(rf'id="{element_id}"[^>]*data-total-cny="([^"]+)"', html)
    assert match, f"no #{element_id} with a data-total-cny"
    return Decimal(match[1])


def drill(client: TestClient, **params: object) -> str:
    response = client.get("/budget/drill", params={**VIEW, **{k: str(v) for k, v in params.items()}})
    assert response.status_code == 200, response.text[:2000]
    return response.text


# --- actual ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("orders")
def test_actual_of_a_workshop_category_month_lists_its_cost_lines_and_journal_entries(
    client: TestClient, manager: User, workshop: Workshop, orders: dict[str, WorkOrder]
) -> None:
    login(client, manager)
    html = drill(client, measure="actual", workshop=workshop.id, category="materials", month=3)

    assert total_of(html) == Decimal("1300.75")  # A's material 1000.50 + FIN-001 300.25
    assert total_of(html, "lines-total") == Decimal("1000.50")
    assert total_of(html, "journal-total") == Decimal("300.25")
    assert f'href="/orders/{orders["A"].id}"' in html
    assert "FIN-001" in html
    for absent in (orders["B"].number, orders["C"].number, "FIN-002", "FIN-003"):
        assert absent not in html
    described = re.search(r'id="drill-filter">(.*?)</h1>', html, re.S)
    assert described
    assert " ".join(described[1].split()) == "实际 · 合成车间 · 材料费 · 2026-03"
    assert f'href="/budget?year={YEAR}&amp;as_of={AS_OF}"' in html  # the back link keeps the view


def test_actual_of_the_year_is_everything_booked_by_the_reference_day_and_equals_the_report(
    client: TestClient, session: Session, manager: User, orders: dict[str, WorkOrder]
) -> None:
    login(client, manager)
    # 1000.50 + 250 + 4800 + 700 + 300.25 + 999 (FIN-003 is booked after 15 April)
    expected = Decimal("8049.75")
    assert total_of(drill(client, measure="actual")) == expected
    assert budget_report(session, YEAR, date(YEAR, 4, 15)).actual.total == expected


def test_every_cell_of_the_report_equals_its_drill_down_to_the_fen(
    session: Session, orders: dict[str, WorkOrder], plan: None, workshop: Workshop, other_workshop: Workshop
) -> None:
    view = BudgetView(YEAR, date(YEAR, 4, 15))
    report = budget_report(session, YEAR, view.as_of)
    for workshop_id in (workshop.id, other_workshop.id):
        for category in CostCategory:
            for month in (2, 3, 4, 5):
                figure = Figure(view, Measure.ACTUAL, [workshop_id], category, month)  # type: ignore[list-item]
                listed = (
                    drilldown.actual_lines(session, figure, 1, 50).amount
                    + drilldown.journal_entries(session, figure, 1, 50).amount
                )
                cell = report.actual.sum(workshop_id=workshop_id, category=category, months=[month - 1])
                assert listed == cell, (workshop_id, category, month)
                committed = Figure(view, Measure.COMMITTED, [workshop_id], category, month)  # type: ignore[list-item]
                assert drilldown.committed_orders(session, committed, 1, 50).amount == report.committed.sum(
                    workshop_id=workshop_id, category=category, months=[month - 1]
                ), (workshop_id, category, month)


# --- committed and plan ---------------------------------------------------------------------


def test_committed_lists_the_approved_unfinished_orders_an_overdue_one_in_the_current_month(
    client: TestClient, manager: User, workshop: Workshop, orders: dict[str, WorkOrder]
) -> None:
    login(client, manager)
    whole = drill(client, measure="committed", workshop=workshop.id)
    assert total_of(whole) == Decimal("3300.00")  # D 2500 + E 800; the draft is not committed
    assert orders["D"].number in whole
    assert orders["E"].number in whole
    assert orders["draft"].number not in whole

    assert total_of(drill(client, measure="committed", month=5)) == Decimal("2500.00")
    april = drill(client, measure="committed", month=4)
    assert total_of(april) == Decimal("800.00")
    assert orders["E"].number in april
    assert total_of(drill(client, measure="committed", month=3)) == Decimal("0.00")
    assert total_of(drill(client, measure="committed", category="labour")) == Decimal("500.00")


@pytest.mark.usefixtures("plan")
def test_plan_lists_the_allocation_cells(client: TestClient, manager: User, workshop: Workshop) -> None:
    login(client, manager)
    assert total_of(drill(client, measure="plan", workshop=workshop.id, month=3)) == Decimal("25000.00")
    assert total_of(drill(client, measure="plan", category="materials")) == Decimal("27000.00")
    assert total_of(drill(client, measure="plan", month=4)) == Decimal("0.00")


def test_plan_without_a_budget_year_is_empty(client: TestClient, manager: User) -> None:
    login(client, manager)
    assert total_of(drill(client, measure="plan", year=2025, as_of="2025-12-31")) == Decimal("0.00")


# --- who sees what --------------------------------------------------------------------------


def test_an_engineer_sees_only_their_workshops_and_is_refused_another(
    client: TestClient, session: Session, workshop: Workshop, other_workshop: Workshop, orders: dict[str, WorkOrder]
) -> None:
    login(client, user_of(session, Role.ENGINEER, workshop))
    own = drill(client, measure="actual")
    assert total_of(own) == Decimal("6350.75")  # 1000.50 + 250 + 4800 + 300.25
    assert orders["C"].number not in own
    assert "FIN-002" not in own

    response = client.get("/budget/drill", params={**VIEW, "workshop": str(other_workshop.id)})
    assert response.status_code == 403


def test_an_auditor_reads_every_workshop(client: TestClient, session: Session, orders: dict[str, WorkOrder]) -> None:
    login(client, user_of(session, Role.AUDITOR))
    assert total_of(drill(client, measure="actual")) == Decimal("8049.75")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"measure": "forecast"}, "measure"),
        ({"category": "fuel"}, "category"),
        ({"month": "13"}, "month"),
        ({"month": "三月"}, "month"),
        ({"workshop": "abc"}, "workshop"),
        ({"workshop": str(2**40)}, "workshop"),
        ({"workshop": "999999"}, "workshop"),
        ({"year": "1999"}, "year"),
        ({"as_of": "2026-02-30"}, "as_of"),
        ({"page": "0"}, "page"),
    ],
)
def test_a_bad_parameter_is_a_422_page_naming_it(
    client: TestClient, manager: User, params: dict[str, str], field: str
) -> None:
    login(client, manager)
    response = client.get("/budget/drill", params=params)
    assert response.status_code == 422
    assert f"{field}:" in response.text


# --- paging and queries ---------------------------------------------------------------------


def test_a_listing_pages_its_rows_latest_first_and_totals_all_of_them(
    session: Session, pump: Asset, make_order: MakeOrder
) -> None:
    for day in (3, 4, 5):
        make_order(pump, lines=[(CostKind.MATERIAL, "0", f"{day}00.01")], finished=plant(YEAR, 5, day))
    figure = Figure(BudgetView(YEAR, date(YEAR, 12, 31)), Measure.ACTUAL, None)

    first = drilldown.actual_lines(session, figure, 1, 2)
    last = drilldown.actual_lines(session, figure, 9, 2)  # past the last page: the last

    assert first.amount == last.amount == Decimal("1200.03")
    assert [row.amount for row in first.page.items] == [Decimal("500.01"), Decimal("400.01")]
    assert (last.page.number, [row.amount for row in last.page.items]) == (2, [Decimal("300.01")])


def test_the_drill_down_runs_the_same_queries_for_few_or_many_rows(
    client: TestClient,
    session: Session,
    pump: Asset,
    workshop: Workshop,
    make_order: MakeOrder,
    book: Callable[..., object],
    count_queries: list[str],
) -> None:
    login(client, user_of(session, Role.ENGINEER, workshop))
    make_order(pump, lines=[(CostKind.MATERIAL, "0", "1")], finished=plant(YEAR, 3, 2))
    session.flush()
    count_queries.clear()
    drill(client, measure="actual")
    few = len(count_queries)
    for n in range(12):
        make_order(pump, lines=[(CostKind.LABOUR, "0", "2"), (CostKind.SERVICE, "0", "3")], finished=plant(YEAR, 3, 3))
        book(workshop, "2026-03-04", CostCategory.SERVICES, "4", f"FIN-{n}")
    session.flush()
    count_queries.clear()
    drill(client, measure="actual")
    assert len(count_queries) == few
