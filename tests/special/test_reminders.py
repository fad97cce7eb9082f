"""The scheduler's inspection orders: one per (asset, inspection type, due date), raised when the
due date is at most the type's reminder_days (60 for the seeded types) away, or past.

The item throughout is a safety valve (one required inspection, SV-CALIBRATION, yearly) last
calibrated on 2024-03-10, so its calibration falls due on 2025-03-10 and the 60-day window opens
on 2025-01-09 (22 days left in January + 28 in February + 10 in March = 60)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlmodel import Session

from maintenance.assets.choices import AssetClass, AssetStatus, SpecialCategory
from maintenance.assets.models import Asset
from maintenance.orders.choices import OrderType
from maintenance.orders.models import WorkOrder
from maintenance.special.models import InspectionReminder
from maintenance.special.reminders import raise_inspection_orders
from tests.special.conftest import SYSTEM, MakeItem, Report


@pytest.fixture
def valve(make_item: MakeItem, report: Report) -> Asset:
    asset = make_item(tag="PSV-101", asset_class=AssetClass.VALVE, special_category=SpecialCategory.SAFETY_VALVE)
    report(asset, "SV-CALIBRATION", date(2024, 3, 10))
    return asset


def _orders(session: Session) -> list[tuple[int, OrderType, date | None, str]]:
    return [
        (order.asset_id, order.order_type, order.due_date, order.title)
        for order in session.scalars(select(WorkOrder).order_by(WorkOrder.id))
    ]


def test_the_order_is_raised_once_when_the_window_opens(session: Session, valve: Asset) -> None:
    first = raise_inspection_orders(session, date(2025, 1, 9), SYSTEM)

    assert first.orders_created == 1
    assert _orders(session) == [
        (valve.id, OrderType.PM, date(2025, 3, 10), "特种设备定期检验: 安全阀校验 到期 2025-03-10")
    ]
    [reminder] = session.scalars(select(InspectionReminder)).all()
    assert (reminder.asset_id, reminder.due_date, reminder.order_id) == (
        valve.id,
        date(2025, 3, 10),
        first.created[0].id,
    )

    second = raise_inspection_orders(session, date(2025, 1, 10), SYSTEM)
    assert (second.orders_created, second.skipped_existing) == (0, 1)
    assert len(_orders(session)) == 1


def test_nothing_is_raised_the_day_before_the_window(session: Session, valve: Asset) -> None:
    report = raise_inspection_orders(session, date(2025, 1, 8), SYSTEM)

    assert (report.items_checked, report.orders_created) == (1, 0)
    assert _orders(session) == []


def test_an_overdue_inspection_gets_its_order(session: Session, valve: Asset) -> None:
    raise_inspection_orders(session, date(2025, 4, 1), SYSTEM)

    assert [(due, title) for _asset, _type, due, title in _orders(session)] == [
        (date(2025, 3, 10), "特种设备定期检验: 安全阀校验 到期 2025-03-10")
    ]


def test_a_new_inspection_brings_a_new_due_date_and_a_new_order(session: Session, valve: Asset, report: Report) -> None:
    raise_inspection_orders(session, date(2025, 1, 9), SYSTEM)
    report(valve, "SV-CALIBRATION", date(2025, 3, 1))  # next due 2026-03-01: 60 days from 2025-12-31 (1 + 31 + 28)

    assert raise_inspection_orders(session, date(2025, 12, 30), SYSTEM).orders_created == 0
    assert raise_inspection_orders(session, date(2025, 12, 31), SYSTEM).orders_created == 1
    assert [due for _asset, _type, due, _title in _orders(session)] == [date(2025, 3, 10), date(2026, 3, 1)]


def test_retired_equipment_gets_no_order(session: Session, make_item: MakeItem, report: Report) -> None:
    retired = make_item(
        tag="PSV-102",
        asset_class=AssetClass.VALVE,
        special_category=SpecialCategory.SAFETY_VALVE,
        status=AssetStatus.RETIRED,
        retired_date=date(2024, 6, 1),
        retire_reason="更换",
    )
    report(retired, "SV-CALIBRATION", date(2024, 3, 10))

    assert raise_inspection_orders(session, date(2025, 4, 1), SYSTEM).items_checked == 0
    assert _orders(session) == []
