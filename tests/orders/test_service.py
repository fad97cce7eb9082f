"""Raising, numbering, costing and completing work orders (the state machine has its own tests)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlmodel import Session

from maintenance.exceptions import ValidationFailed
from maintenance.orders import service
from maintenance.orders.choices import CostKind, FailureMode, OrderState, Provider
from maintenance.orders.models import CostLineCreate, FailureReportUpdate
from tests.orders.conftest import SYSTEM, MakeOrder


def test_orders_are_numbered_per_year_without_gaps(session: Session, make_order: MakeOrder) -> None:
    first, second = make_order(), make_order()
    year = first.created_at.year
    assert first.number.startswith(f"WO-{year}-")
    assert int(second.number[-6:]) == int(first.number[-6:]) + 1
    assert first.state == OrderState.DRAFT
    assert [t.to_state for t in service.transitions_of(session, first)] == [OrderState.DRAFT]


def test_cost_lines_keep_the_order_totals(session: Session, make_order: MakeOrder) -> None:
    order = make_order()
    service.add_cost_line(
        session,
        order,
        CostLineCreate(kind=CostKind.LABOUR, description="钳工", quantity=Decimal("6"), unit_price_cny=Decimal("85")),
        actor=SYSTEM,
    )
    material = service.add_cost_line(
        session,
        order,
        CostLineCreate(
            kind=CostKind.MATERIAL,
            description="机械密封",
            planned_quantity=Decimal("2"),
            planned_unit_price_cny=Decimal("1500"),
            quantity=Decimal("2"),
            unit_price_cny=Decimal("1450"),
            used_quantity=Decimal("1"),
        ),
        actor=SYSTEM,
    )
    localised = service.add_cost_line(
        session,
        order,
        CostLineCreate(
            kind=CostKind.LOCALISED,
            description="国产轴承 6312",
            provider=Provider.IN_HOUSE,
            quantity=Decimal("2"),
            unit_price_cny=Decimal("800"),
            reference_price_cny=Decimal("2300"),
        ),
        actor=SYSTEM,
    )
    assert material.actual_cny == Decimal("2900.00")
    assert localised.saving_cny == Decimal("3000.00")
    assert order.planned_cost_cny == Decimal("3000.00")
    assert order.actual_cost_cny == Decimal("510.00") + Decimal("2900.00") + Decimal("1600.00")
    assert order.labour_hours == Decimal("6")


def test_used_and_returned_cannot_exceed_issued(session: Session, make_order: MakeOrder) -> None:
    order = make_order()
    with pytest.raises(ValidationFailed) as raised:
        service.add_cost_line(
            session,
            order,
            CostLineCreate(
                kind=CostKind.MATERIAL,
                description="垫片",
                quantity=Decimal("4"),
                used_quantity=Decimal("3"),
                returned_quantity=Decimal("2"),
            ),
            actor=SYSTEM,
        )
    assert raised.value.errors[0].field == "used_quantity"


def test_a_corrective_order_completes_only_with_a_failure_mode(session: Session, make_order: MakeOrder) -> None:
    order = make_order()
    for action in ("approve", "start"):
        service.perform(session, order, action, actor=SYSTEM)
    with pytest.raises(ValidationFailed) as raised:
        service.perform(session, order, "complete", actor=SYSTEM)
    assert [e.field for e in raised.value.errors] == ["failure_mode"]
    report = FailureReportUpdate.model_validate(order.model_dump() | {"failure_mode": FailureMode.ELP})
    service.record_failure(session, order, report, actor=SYSTEM)
    service.perform(session, order, "complete", actor=SYSTEM)
    assert order.state == OrderState.COMPLETED
    assert order.actual_finish_at is not None
