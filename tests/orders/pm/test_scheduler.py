"""The PM scheduler: when plans fall due, and the orders it raises for them, idempotently."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlmodel import Session, col

from maintenance.assets import service as asset_service
from maintenance.assets.choices import AssetStatus
from maintenance.assets.models import Asset
from maintenance.orders import service
from maintenance.orders.choices import (
    ChecklistResult,
    CostKind,
    IntervalUnit,
    OrderState,
    OrderType,
    PlanBasis,
    Priority,
    Provider,
)
from maintenance.orders.models import PmPlan, PmPlanCostLine, PmPlanCreate, WorkOrder
from maintenance.orders.pm import scheduler
from maintenance.orders.pm import service as pm
from maintenance.orders.pm.scheduler import add_months
from tests import factories
from tests.orders.conftest import SYSTEM

MakePlan = Callable[..., PmPlan]


def new_plan(session: Session, asset: Asset, **fields: Any) -> PmPlan:
    data: dict[str, Any] = {
        "asset_id": asset.id,
        "title": "润滑油更换",
        "basis": PlanBasis.FIXED,
        "interval": 1,
        "interval_unit": IntervalUnit.MONTH,
        "start_date": date(2026, 1, 31),
        "lead_days": 0,
    }
    data.update(fields)
    return pm.create_plan(session, PmPlanCreate.model_validate(data), actor=SYSTEM)


@pytest.fixture
def make_plan(session: Session, asset: Asset) -> MakePlan:
    """``make_plan(**fields)``: a fixed monthly plan on ``asset`` starting 2026-01-31, no lead time."""
    return lambda **fields: new_plan(session, asset, **fields)


def orders_of(session: Session, plan: PmPlan) -> list[WorkOrder]:
    return list(
        session.scalars(
            select(WorkOrder).where(col(WorkOrder.pm_plan_id) == plan.id).order_by(col(WorkOrder.plan_due_date))
        )
    )


def due_dates_of(session: Session, plan: PmPlan) -> list[date]:
    return [order.plan_due_date for order in orders_of(session, plan)]  # type: ignore[misc]


def complete(session: Session, order: WorkOrder, at: datetime) -> None:
    """Work an order through to completion at ``at`` (answering its checks OK)."""
    for item in service.checklist_of(session, order):
        service.record_check(session, order, item, result=ChecklistResult.OK, value=Decimal("1"), note="", actor=SYSTEM)
    if order.state == OrderState.DRAFT:
        service.perform(session, order, "approve", actor=SYSTEM)
    service.perform(session, order, "start", actor=SYSTEM, at=at)
    service.perform(session, order, "complete", actor=SYSTEM, at=at)


# --- Calendar arithmetic ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2026, 1, 31), 2, date(2026, 3, 31)),
        (date(2026, 1, 31), 3, date(2026, 4, 30)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2026, 3, 15), -3, date(2025, 12, 15)),
        (date(2026, 5, 31), 12, date(2027, 5, 31)),
        (date(2028, 2, 29), 12, date(2029, 2, 28)),
        (date(2027, 1, 31), -11, date(2026, 2, 28)),
    ],
)
def test_months_are_added_on_the_calendar_and_clamped_to_the_month_end(
    start: date, months: int, expected: date
) -> None:
    assert add_months(start, months) == expected


# --- Fixed calendar plans -----------------------------------------------------------------


def test_a_fixed_monthly_plan_counts_every_month_from_its_start_and_keeps_the_month_end(
    session: Session, make_plan: MakePlan
) -> None:
    plan = make_plan(start_date=date(2026, 1, 31))

    report = scheduler.generate_orders(session, date(2026, 1, 20), 100)

    assert due_dates_of(session, plan) == [date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31), date(2026, 4, 30)]
    assert report.orders_created == 4
    assert report.plans_checked == 1


@pytest.mark.parametrize(
    ("unit", "interval", "expected"),
    [
        (IntervalUnit.DAY, 10, [date(2026, 3, 7), date(2026, 3, 17), date(2026, 3, 27)]),
        (IntervalUnit.WEEK, 2, [date(2026, 3, 3), date(2026, 3, 17), date(2026, 3, 31)]),
    ],
)
def test_a_fixed_plan_in_days_or_weeks_raises_each_date_within_the_horizon(
    session: Session, make_plan: MakePlan, unit: IntervalUnit, interval: int, expected: list[date]
) -> None:
    plan = make_plan(start_date=date(2026, 1, 6), interval=interval, interval_unit=unit)

    scheduler.generate_orders(session, date(2026, 3, 1), 30)

    assert due_dates_of(session, plan) == expected


def test_the_horizon_is_extended_by_the_plan_lead_time_and_missed_past_dates_are_not_raised(
    session: Session, make_plan: MakePlan
) -> None:
    plan = make_plan(start_date=date(2025, 12, 1), lead_days=10)

    scheduler.generate_orders(session, date(2026, 1, 25), 7)

    # 2026-01-01 is past; 2026-02-01 is within 7 + 10 days; 2026-03-01 is not.
    assert due_dates_of(session, plan) == [date(2026, 2, 1)]
    [order] = orders_of(session, plan)
    assert order.due_date == date(2026, 2, 1)
    assert order.planned_start_date == date(2026, 1, 25)  # due − 10 days is past: today
    assert order.planned_finish_date == date(2026, 2, 1)


def test_a_generated_order_is_a_pm_order_titled_after_its_plan(session: Session, make_plan: MakePlan) -> None:
    plan = make_plan(
        title="机封冲洗检查",
        start_date=date(2026, 3, 20),
        lead_days=7,
        priority=Priority.HIGH,
        provider=Provider.CONTRACTOR,
        assignee_name="检修一班",
    )

    scheduler.generate_orders(session, date(2026, 3, 1), 14)

    [order] = orders_of(session, plan)
    assert order.order_type == OrderType.PM
    assert order.title == "机封冲洗检查"
    assert (order.priority, order.provider, order.assignee_name) == (Priority.HIGH, Provider.CONTRACTOR, "检修一班")
    assert (order.asset_id, order.workshop_id) == (plan.asset_id, plan.workshop_id)
    assert (order.plan_due_date, order.due_date) == (date(2026, 3, 20), date(2026, 3, 20))
    assert order.planned_start_date == date(2026, 3, 13)


def test_running_the_scheduler_twice_gives_the_same_orders(session: Session, make_plan: MakePlan) -> None:
    plan = make_plan(start_date=date(2026, 1, 5), interval=1, interval_unit=IntervalUnit.WEEK)
    first = scheduler.generate_orders(session, date(2026, 1, 1), 30)
    numbers = [order.number for order in orders_of(session, plan)]

    second = scheduler.generate_orders(session, date(2026, 1, 1), 30)

    assert first.orders_created == 4  # 5, 12, 19 and 26 January
    assert second.orders_created == 0
    assert second.skipped_existing == 4
    assert [order.number for order in orders_of(session, plan)] == numbers


def test_a_later_run_adds_only_the_dates_that_came_into_the_horizon(session: Session, make_plan: MakePlan) -> None:
    plan = make_plan(start_date=date(2026, 1, 5), interval=1, interval_unit=IntervalUnit.WEEK)
    scheduler.generate_orders(session, date(2026, 1, 1), 14)

    report = scheduler.generate_orders(session, date(2026, 1, 8), 14)

    assert due_dates_of(session, plan) == [date(2026, 1, 5), date(2026, 1, 12), date(2026, 1, 19)]
    assert report.orders_created == 1


def test_an_order_made_meanwhile_by_another_scheduler_is_skipped_not_an_error(
    session: Session, make_plan: MakePlan
) -> None:
    plan = make_plan(start_date=date(2026, 2, 1))
    scheduler.generate_orders(session, date(2026, 2, 1), 1)

    # As if the existence check had missed it: the insert hits the unique key in its savepoint.
    again = scheduler._create_once(session, plan, date(2026, 2, 1), date(2026, 2, 1), [], actor=SYSTEM)

    assert again is None
    assert due_dates_of(session, plan) == [date(2026, 2, 1)]
    assert session.scalar(select(func.count()).select_from(WorkOrder)) == 1  # the session is still usable


def test_inactive_plans_and_retired_assets_are_skipped(session: Session, asset: Asset, make_plan: MakePlan) -> None:
    inactive = make_plan(start_date=date(2026, 2, 1), is_active=False)
    retired_asset = factories.AssetFactory(workshop_id=asset.workshop_id)
    on_retired = new_plan(session, retired_asset, start_date=date(2026, 2, 1))
    asset_service.set_status(
        session,
        retired_asset,
        AssetStatus.RETIRED,
        actor=SYSTEM,
        cascade=False,
        retired_date=date(2026, 1, 15),
        retire_reason="报废",
    )

    report = scheduler.generate_orders(session, date(2026, 2, 1), 7)

    assert orders_of(session, inactive) == []
    assert orders_of(session, on_retired) == []
    assert report.plans_checked == 0


# --- Estimated cost, checklist and approval -----------------------------------------------


def test_an_order_gets_the_plan_estimated_lines_as_planned_lines_and_its_checklist(
    session: Session, make_plan: MakePlan
) -> None:
    plan = make_plan(start_date=date(2026, 2, 1), checklist_template="轴承温度 | ℃\n\n联轴器对中\n  振动 | mm/s  ")
    pm.add_estimated_line(
        session,
        plan,
        PmPlanCostLine(kind=CostKind.LABOUR, description="钳工", quantity=Decimal("4"), unit_price_cny=Decimal("85")),
        actor=SYSTEM,
    )
    pm.add_estimated_line(
        session,
        plan,
        PmPlanCostLine(
            kind=CostKind.MATERIAL,
            description="46# 汽轮机油",
            item_code="OIL-46",
            uom="L",
            quantity=Decimal("20"),
            unit_price_cny=Decimal("18.50"),
        ),
        actor=SYSTEM,
    )

    scheduler.generate_orders(session, date(2026, 2, 1), 1)

    [order] = orders_of(session, plan)
    lines = service.cost_lines_of(session, order)
    assert [(line.kind, line.description, line.planned_quantity, line.planned_cny) for line in lines] == [
        (CostKind.LABOUR, "钳工", Decimal("4"), Decimal("340.00")),
        (CostKind.MATERIAL, "46# 汽轮机油", Decimal("20"), Decimal("370.00")),
    ]
    assert lines[1].item_code == "OIL-46"
    assert all(line.actual_cny == 0 for line in lines)
    assert order.planned_cost_cny == Decimal("710.00")
    checks = service.checklist_of(session, order)
    assert [(item.position, item.text, item.value_unit) for item in checks] == [
        (1, "轴承温度", "℃"),
        (2, "联轴器对中", ""),
        (3, "振动", "mm/s"),
    ]


def test_an_order_within_the_approval_limit_is_approved_by_the_scheduler(session: Session, make_plan: MakePlan) -> None:
    plan = make_plan(start_date=date(2026, 2, 1))

    report = scheduler.generate_orders(session, date(2026, 2, 1), 1)

    [order] = orders_of(session, plan)
    assert order.state == OrderState.APPROVED
    assert [t.to_state for t in service.transitions_of(session, order)] == [OrderState.DRAFT, OrderState.APPROVED]
    assert report.awaiting_approval == 0


def test_an_order_above_the_approval_limit_waits_as_a_draft_for_a_manager(
    session: Session, make_plan: MakePlan
) -> None:
    plan = make_plan(start_date=date(2026, 2, 1))
    pm.add_estimated_line(
        session,
        plan,
        PmPlanCostLine(kind=CostKind.SERVICE, description="外委解体检修", unit_price_cny=Decimal("80000")),
        actor=SYSTEM,
    )

    report = scheduler.generate_orders(session, date(2026, 2, 1), 1)

    [order] = orders_of(session, plan)
    assert order.state == OrderState.DRAFT
    assert report.awaiting_approval == 1


# --- Floating plans -----------------------------------------------------------------------


def test_a_floating_plan_is_due_on_its_start_date_until_first_done(session: Session, make_plan: MakePlan) -> None:
    plan = make_plan(basis=PlanBasis.FLOATING, start_date=date(2026, 2, 10), interval=3, lead_days=7)

    scheduler.generate_orders(session, date(2026, 1, 25), 14)

    assert due_dates_of(session, plan) == [date(2026, 2, 10)]


def test_a_floating_plan_has_one_open_order_at_a_time(session: Session, make_plan: MakePlan) -> None:
    plan = make_plan(basis=PlanBasis.FLOATING, start_date=date(2026, 2, 1), interval=1, interval_unit=IntervalUnit.DAY)
    scheduler.generate_orders(session, date(2026, 2, 1), 30)

    report = scheduler.generate_orders(session, date(2026, 2, 1), 30)

    assert due_dates_of(session, plan) == [date(2026, 2, 1)]
    assert report.orders_created == 0
    assert report.skipped_open == 1


def test_a_floating_plan_runs_from_the_last_completion(session: Session, make_plan: MakePlan) -> None:
    plan = make_plan(
        basis=PlanBasis.FLOATING, start_date=date(2026, 2, 1), interval=3, interval_unit=IntervalUnit.MONTH
    )
    scheduler.generate_orders(session, date(2026, 1, 25), 14)
    [first] = orders_of(session, plan)

    # Done late, on 20 February (plant time): the next one is due three months after that.
    complete(session, first, datetime(2026, 2, 20, 3, 0, tzinfo=UTC))
    session.refresh(plan)
    assert plan.last_done_date == date(2026, 2, 20)
    assert scheduler.next_due_date(plan, date(2026, 2, 21)) == date(2026, 5, 20)
    scheduler.generate_orders(session, date(2026, 2, 21), 14)
    assert due_dates_of(session, plan) == [date(2026, 2, 1)]  # not within the horizon yet

    scheduler.generate_orders(session, date(2026, 5, 10), 14)

    assert due_dates_of(session, plan) == [date(2026, 2, 1), date(2026, 5, 20)]


def test_an_overdue_floating_plan_is_raised_with_its_overdue_date(session: Session, make_plan: MakePlan) -> None:
    plan = make_plan(basis=PlanBasis.FLOATING, start_date=date(2026, 1, 10))

    scheduler.generate_orders(session, date(2026, 2, 1), 14)

    [order] = orders_of(session, plan)
    assert order.plan_due_date == date(2026, 1, 10)
    assert order.planned_start_date == date(2026, 1, 10)


def test_a_floating_date_whose_order_was_cancelled_is_stepped_over(session: Session, make_plan: MakePlan) -> None:
    plan = make_plan(basis=PlanBasis.FLOATING, start_date=date(2026, 2, 1), interval=1, interval_unit=IntervalUnit.WEEK)
    scheduler.generate_orders(session, date(2026, 2, 1), 14)
    [first] = orders_of(session, plan)
    service.perform(session, first, "cancel", actor=SYSTEM, note="停车期间不做")

    scheduler.generate_orders(session, date(2026, 2, 1), 14)

    assert due_dates_of(session, plan) == [date(2026, 2, 1), date(2026, 2, 8)]


# --- Runtime plans ------------------------------------------------------------------------


def runtime_plan(make_plan: MakePlan, **fields: Any) -> PmPlan:
    return make_plan(**{"basis": PlanBasis.RUNTIME, "interval_hours": 2000, "lead_days": 7, **fields})


def reading_at(day: int) -> datetime:
    return datetime(2026, 3, day, 8, 0, tzinfo=UTC)


def test_a_runtime_plan_is_due_the_lead_time_of_round_the_clock_running_before_its_interval(
    session: Session, asset: Asset, make_plan: MakePlan
) -> None:
    plan = runtime_plan(make_plan)  # 2000 h, lead 7 days × 24 h = 168 h: due from 1832 h run

    scheduler.record_runtime(session, asset.id, Decimal("1831.9"), reading_at(1))  # type: ignore[arg-type]
    scheduler.generate_orders(session, date(2026, 3, 1), 14)
    assert orders_of(session, plan) == []

    scheduler.record_runtime(session, asset.id, Decimal("1832"), reading_at(2))  # type: ignore[arg-type]
    report = scheduler.generate_orders(session, date(2026, 3, 2), 14)

    [order] = orders_of(session, plan)
    assert order.plan_due_date == date(2026, 3, 2)  # the day it was raised
    assert order.order_type == OrderType.PM
    assert report.orders_created == 1


def test_a_runtime_plan_lead_is_at_most_half_its_interval(session: Session, make_plan: MakePlan) -> None:
    plan = runtime_plan(make_plan, interval_hours=100, lead_days=7)

    assert scheduler.runtime_lead_hours(plan) == 50


def test_a_runtime_plan_restarts_from_the_meter_at_completion(
    session: Session, asset: Asset, make_plan: MakePlan
) -> None:
    plan = runtime_plan(make_plan)
    scheduler.record_runtime(session, asset.id, Decimal("1900"), reading_at(1))  # type: ignore[arg-type]
    scheduler.generate_orders(session, date(2026, 3, 1), 14)
    scheduler.record_runtime(session, asset.id, Decimal("1990"), reading_at(3))  # type: ignore[arg-type]
    again = scheduler.generate_orders(session, date(2026, 3, 3), 14)
    assert again.skipped_open == 1
    [first] = orders_of(session, plan)

    complete(session, first, reading_at(4))

    session.refresh(plan)
    assert plan.last_done_meter_hours == Decimal("1990")
    scheduler.record_runtime(session, asset.id, Decimal("3800"), reading_at(20))  # type: ignore[arg-type]
    scheduler.generate_orders(session, date(2026, 3, 20), 14)
    assert len(orders_of(session, plan)) == 1  # 1810 h since completion: not yet
    scheduler.record_runtime(session, asset.id, Decimal("3822"), reading_at(21))  # type: ignore[arg-type]
    scheduler.generate_orders(session, date(2026, 3, 21), 14)
    assert due_dates_of(session, plan) == [date(2026, 3, 1), date(2026, 3, 21)]


def test_a_runtime_plan_without_a_meter_reading_is_never_due(session: Session, make_plan: MakePlan) -> None:
    plan = runtime_plan(make_plan)

    scheduler.generate_orders(session, date(2026, 3, 1), 14)

    assert orders_of(session, plan) == []


def test_a_meter_reading_moves_every_runtime_plan_of_the_asset_and_ignores_older_readings(
    session: Session, asset: Asset, make_plan: MakePlan
) -> None:
    oil = runtime_plan(make_plan, title="换油")
    overhaul = runtime_plan(make_plan, title="解体检修", interval_hours=16000)
    calendar_plan = make_plan(title="月度巡检")

    moved = scheduler.record_runtime(session, asset.id, Decimal("1234.56"), reading_at(5))  # type: ignore[arg-type]
    older = scheduler.record_runtime(session, asset.id, Decimal("1000"), reading_at(4))  # type: ignore[arg-type]

    assert {plan.id for plan in moved} == {oil.id, overhaul.id}
    assert older == []
    assert (oil.meter_hours, oil.meter_read_at) == (Decimal("1234.6"), reading_at(5))
    assert overhaul.meter_hours == Decimal("1234.6")
    assert calendar_plan.meter_hours is None
    assert oil.version == 1  # a reading is not an edit: nobody's open form goes stale


# --- Next due dates for pages -------------------------------------------------------------


def test_next_and_upcoming_due_dates_come_from_the_plan_alone(session: Session, make_plan: MakePlan) -> None:
    fixed = make_plan(start_date=date(2025, 8, 31))
    floating = make_plan(basis=PlanBasis.FLOATING, start_date=date(2026, 1, 1), interval=2)
    floating.last_done_date = date(2026, 1, 31)

    assert scheduler.next_due_date(fixed, date(2026, 2, 1)) == date(2026, 2, 28)
    assert scheduler.upcoming_due_dates(fixed, date(2026, 2, 1)) == [
        date(2026, 2, 28),
        date(2026, 3, 31),
        date(2026, 4, 30),
        date(2026, 5, 31),
        date(2026, 6, 30),
    ]
    assert scheduler.upcoming_due_dates(floating, date(2026, 2, 1), 3) == [
        date(2026, 3, 31),
        date(2026, 5, 31),
        date(2026, 7, 31),
    ]
    assert scheduler.next_due_date(runtime_plan(make_plan), date(2026, 2, 1)) is None


# --- Two schedulers at once on PostgreSQL --------------------------------------------------


@pytest.mark.postgres
def test_two_schedulers_running_at_once_on_postgresql_never_duplicate_and_both_succeed(
    committed_postgresql: Engine,
) -> None:
    with Session(committed_postgresql, expire_on_commit=False) as setup:
        factories.bind(setup)
        workshop = factories.WorkshopFactory()
        plans = []
        for n in range(4):
            asset = factories.AssetFactory(workshop_id=workshop.id)
            plans.append(
                new_plan(
                    setup,
                    asset,
                    start_date=date(2026, 1, 5),
                    interval=1 + n,
                    interval_unit=IntervalUnit.WEEK,
                    checklist_template="外观检查\n振动 | mm/s",
                )
            )
        setup.commit()
    barrier = threading.Barrier(2)
    reports: list[scheduler.SchedulerReport] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with Session(committed_postgresql, expire_on_commit=False) as session:
                barrier.wait(timeout=30)
                report = scheduler.generate_orders(session, date(2026, 1, 1), 60)
                session.commit()
                reports.append(report)
        except BaseException as error:  # reported below, with the thread's traceback
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert len(reports) == 2
    with Session(committed_postgresql) as check:
        keys = check.execute(select(col(WorkOrder.pm_plan_id), col(WorkOrder.plan_due_date))).all()
        numbers = check.scalars(select(col(WorkOrder.number))).all()
    # Weekly from 5 Jan to 2 Mar: 9 dates; every 2 weeks: 5; every 3: 3; every 4: 3.
    assert len(keys) == len(set(keys)) == 9 + 5 + 3 + 3
    assert len(numbers) == len(set(numbers))
    assert sum(report.orders_created for report in reports) == len(keys)
    assert all(report.plans_checked == 4 for report in reports)
