"""A small plant for the budget's tests: two workshops with a pump each, orders raised, approved
and completed through the order service at given plant times, cost lines by kind, the finance
journal, and a budget year with its allocation (cells written as rows: the grid's own service is
tested on its own)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from maintenance.assets.models import Asset
from maintenance.audit.service import SystemActor
from maintenance.budget.models import Allocation, BaselineYear, BudgetYear
from maintenance.orders import service as orders
from maintenance.orders.choices import CostCategory, CostKind, OrderType
from maintenance.orders.models import CostLineCreate, JournalEntry, WorkOrder, WorkOrderCreate
from maintenance.org.models import Workshop
from maintenance.org.permissions import EVERY_CAPABILITY
from tests import factories

SYSTEM = SystemActor(username="budget-test", capabilities=EVERY_CAPABILITY)
PLANT = ZoneInfo("Asia/Shanghai")
YEAR = 2026


def plant(year: int, month: int, day: int, hour: int = 12) -> datetime:
    """A plant wall-clock time as the UTC instant it is stored as."""
    return datetime(year, month, day, hour, tzinfo=PLANT).astimezone(UTC)


@pytest.fixture
def workshop(session: Session) -> Workshop:
    return factories.WorkshopFactory(code="SYN", name="合成车间")


@pytest.fixture
def other_workshop(session: Session) -> Workshop:
    return factories.WorkshopFactory(code="UTL", name="公用工程车间")


@pytest.fixture
def pump(session: Session, workshop: Workshop) -> Asset:
    return factories.AssetFactory(workshop_id=workshop.id, tag="P-101")


@pytest.fixture
def other_pump(session: Session, other_workshop: Workshop) -> Asset:
    return factories.AssetFactory(workshop_id=other_workshop.id, tag="P-201")


MakeOrder = Callable[..., WorkOrder]


@pytest.fixture
def make_order(session: Session) -> MakeOrder:
    """``make_order(asset, lines=[(kind, planned, actual)], approved=at, finished=at, **fields)``.

    Each line is a quantity of 1 at the planned and the actual price, so its planned and actual
    amounts are the two numbers given. ``approved`` approves the order at that time (it is then
    committed); ``finished`` also starts and completes it (its cost is then actual); with neither
    it stays a draft.
    """

    def make(
        asset: Asset,
        *,
        lines: list[tuple[CostKind, str, str]],
        order_type: OrderType = OrderType.PM,
        raised: datetime | None = None,
        approved: datetime | None = None,
        finished: datetime | None = None,
        **fields: Any,
    ) -> WorkOrder:
        raised = raised or approved or finished or plant(YEAR, 1, 2)
        data = {"order_type": order_type, "asset_id": asset.id, "title": f"{order_type.value} 检修", **fields}
        order = orders.create_order(session, WorkOrderCreate.model_validate(data), actor=SYSTEM, at=raised)
        for kind, planned, actual in lines:
            line = {
                "kind": kind,
                "description": kind.en,
                "planned_quantity": Decimal(1),
                "planned_unit_price_cny": Decimal(planned),
                "quantity": Decimal(1),
                "unit_price_cny": Decimal(actual),
            }
            if kind in (CostKind.REFURBISHED, CostKind.LOCALISED):  # a saving against a new or imported part
                line["reference_price_cny"] = Decimal(actual) * 2
            orders.add_cost_line(session, order, CostLineCreate.model_validate(line), actor=SYSTEM)
        if approved or finished:
            orders.perform(session, order, "approve", actor=SYSTEM, at=approved or finished)
        if finished:
            orders.perform(session, order, "start", actor=SYSTEM, at=finished)
            orders.perform(session, order, "complete", actor=SYSTEM, at=finished)
        return order

    return make


@pytest.fixture
def book(session: Session) -> Callable[..., JournalEntry]:
    """``book(workshop, "2026-03-15", category, "1000.00", reference)``: a finance journal entry."""

    def make(workshop: Workshop, booked_on: str, category: CostCategory, amount: str, reference: str) -> JournalEntry:
        entry = JournalEntry(
            booked_on=date.fromisoformat(booked_on),
            workshop_id=workshop.id,  # type: ignore[arg-type]
            category=category,
            amount_cny=Decimal(amount),
            reference=reference,
        )
        session.add(entry)
        session.flush()
        return entry

    return make


@pytest.fixture
def budget(session: Session) -> BudgetYear:
    """2026's target of 1560万 against baseline years averaging 3120万 (a 50 % cut)."""
    year = BudgetYear(year=YEAR, target_cny=Decimal("15600000.00"), note="降本50%")
    session.add(year)
    for baseline_year, actual in ((2023, "30000000.00"), (2024, "32000000.00"), (2025, "31600000.00")):
        session.add(BaselineYear(year=baseline_year, actual_cny=Decimal(actual)))
    session.flush()
    return year


@pytest.fixture
def allocate(session: Session, budget: BudgetYear) -> Callable[..., Allocation]:
    """``allocate(workshop, category, month, "amount")``: one cell of the grid."""

    def make(workshop: Workshop, category: CostCategory, month: int, amount: str) -> Allocation:
        cell = Allocation(
            budget_year_id=budget.id,  # type: ignore[arg-type]
            workshop_id=workshop.id,  # type: ignore[arg-type]
            category=category,
            month=month,
            amount_cny=Decimal(amount),
        )
        session.add(cell)
        session.flush()
        return cell

    return make
