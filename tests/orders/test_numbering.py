"""Order numbers: one counter row per year, created on the year's first order. Two first orders
of a year raised at once on PostgreSQL both succeed with consecutive numbers (the second one's
insert of the counter row waits for the first and then does nothing, instead of failing on the
primary key)."""

from __future__ import annotations

import threading
import time
from datetime import datetime

import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session, col

from maintenance.assets.models import Asset
from maintenance.db import plant_timezone
from maintenance.orders import service
from maintenance.orders.choices import OrderType
from maintenance.orders.models import OrderNumberCounter, WorkOrder, WorkOrderCreate
from tests import factories
from tests.orders.conftest import SYSTEM


def raised(session: Session, asset: Asset, at: datetime) -> WorkOrder:
    data = WorkOrderCreate(order_type=OrderType.CM, asset_id=asset.id, title="泵体泄漏")  # type: ignore[call-arg]
    return service.create_order(session, data, actor=SYSTEM, at=at)


def test_the_first_order_of_a_year_creates_its_counter_and_the_next_continues_it(
    session: Session, asset: Asset
) -> None:
    new_year = datetime(2031, 1, 1, 0, 5, tzinfo=plant_timezone())
    raised(session, asset, datetime(2030, 12, 31, 23, 55, tzinfo=plant_timezone()))

    first, second = raised(session, asset, new_year), raised(session, asset, new_year)

    assert (first.number, second.number) == ("WO-2031-000001", "WO-2031-000002")
    assert session.get(OrderNumberCounter, 2031).last_number == 2  # type: ignore[union-attr]


@pytest.mark.postgres
def test_the_first_orders_of_a_year_raised_at_once_on_postgresql_both_get_consecutive_numbers(
    committed_postgresql: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Session(committed_postgresql, expire_on_commit=False) as setup:
        factories.bind(setup)
        asset = factories.AssetFactory()
        setup.commit()
    draw = service.next_order_number

    def draw_and_hold(session: Session, year: int) -> str:
        # Keep the drawn number's transaction open a moment, so the other raise draws meanwhile.
        number = draw(session, year)
        time.sleep(0.3)
        return number

    monkeypatch.setattr(service, "next_order_number", draw_and_hold)
    new_year = datetime(2031, 1, 1, 0, 5, tzinfo=plant_timezone())
    barrier = threading.Barrier(2)
    numbers: list[str] = []
    errors: list[BaseException] = []

    def raise_order(title: str) -> None:
        try:
            with Session(committed_postgresql, expire_on_commit=False) as session:
                data = WorkOrderCreate(order_type=OrderType.CM, asset_id=asset.id, title=title)  # type: ignore[call-arg]
                barrier.wait(timeout=30)
                order = service.create_order(session, data, actor=SYSTEM, at=new_year)
                session.commit()
                numbers.append(order.number)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=raise_order, args=(title,)) for title in ("泵体泄漏", "机封泄漏")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(numbers) == ["WO-2031-000001", "WO-2031-000002"]
    with Session(committed_postgresql) as check:
        assert check.get(OrderNumberCounter, 2031).last_number == 2  # type: ignore[union-attr]
        assert sorted(check.scalars(select(col(WorkOrder.number)))) == sorted(numbers)
