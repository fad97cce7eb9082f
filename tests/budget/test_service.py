"""The budget's figures on hand-computed cases (exact Decimal): the actual from completed orders'
lines by finish month and from the journal, commitments moving to actual when an order completes,
a cancelled order leaving the commitments, the plan to date pro rata, variance and forecast."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from sqlmodel import Session

from maintenance.assets.models import Asset
from maintenance.budget import service
from maintenance.orders import service as orders
from maintenance.orders.choices import CostCategory, CostKind, OrderType
from maintenance.org.models import Workshop
from tests.budget.conftest import SYSTEM, YEAR, MakeOrder, plant

MAR = 2  # month indexes of the year's cells
APR = 3


def test_completed_orders_count_in_the_month_they_finished_on_the_plant_clock(
    session: Session, pump: Asset, workshop: Workshop, make_order: MakeOrder
) -> None:
    # 31 March 23:30 at the plant is 15:30 UTC: still March.
    make_order(
        pump,
        lines=[(CostKind.MATERIAL, "900", "1000.50"), (CostKind.LABOUR, "300", "250")],
        finished=plant(YEAR, 3, 31, 23),
    )
    make_order(pump, lines=[(CostKind.SERVICE, "5000", "4800")], finished=plant(YEAR, 4, 1, 0))

    report = service.budget_report(session, YEAR, date(YEAR, 12, 31))

    assert report.actual.sum(months=[MAR]) == Decimal("1250.50")
    assert report.actual.sum(months=[APR], category=CostCategory.SERVICES) == Decimal("4800.00")
    assert report.actual.sum(category=CostCategory.MATERIALS, workshop_id=workshop.id) == Decimal("1000.50")
    assert report.actual.total == Decimal("6050.50")


def test_every_line_of_a_turnaround_order_is_turnaround_cost(
    session: Session, pump: Asset, make_order: MakeOrder
) -> None:
    make_order(
        pump,
        order_type=OrderType.TA,
        lines=[(CostKind.MATERIAL, "0", "700"), (CostKind.LABOUR, "0", "300")],
        finished=plant(YEAR, 9, 10),
    )
    make_order(
        pump, lines=[(CostKind.REFURBISHED, "0", "120"), (CostKind.LOCALISED, "0", "80")], finished=plant(YEAR, 9, 11)
    )

    report = service.budget_report(session, YEAR, date(YEAR, 12, 31))

    assert report.actual.sum(category=CostCategory.TURNAROUND) == Decimal("1000.00")
    assert report.actual.sum(category=CostCategory.SPARES) == Decimal("200.00")
    assert report.actual.sum(category=CostCategory.LABOUR) == Decimal("0.00")


def test_the_journal_counts_on_its_booking_date_beside_the_orders(
    session: Session, pump: Asset, workshop: Workshop, make_order: MakeOrder, book: Callable[..., object]
) -> None:
    make_order(pump, lines=[(CostKind.SERVICE, "0", "1000")], finished=plant(YEAR, 3, 5))
    book(workshop, "2026-03-20", CostCategory.SERVICES, "120000.00", "PZ-2026-0301")
    book(workshop, "2026-04-02", CostCategory.SERVICES, "0.01", "PZ-2026-0402")

    report = service.budget_report(session, YEAR, date(YEAR, 3, 31))

    assert report.actual.sum(months=[MAR]) == Decimal("121000.00")
    assert report.actual.total == Decimal("121000.00")  # April's entry is after the reference date


def test_an_approved_order_is_committed_until_it_completes_then_actual(
    session: Session, pump: Asset, make_order: MakeOrder
) -> None:
    order = make_order(
        pump,
        lines=[(CostKind.MATERIAL, "8000", "7600")],
        approved=plant(YEAR, 5, 10),
        planned_finish_date=date(YEAR, 6, 20),
    )

    before = service.budget_report(session, YEAR, date(YEAR, 5, 31))
    assert before.committed.total == Decimal("8000.00")
    assert before.committed.sum(months=[5]) == Decimal("8000.00")  # June, when it is planned to finish
    assert before.actual.total == Decimal("0.00")

    orders.perform(session, order, "start", actor=SYSTEM, at=plant(YEAR, 6, 1))
    orders.perform(session, order, "complete", actor=SYSTEM, at=plant(YEAR, 6, 18))

    after = service.budget_report(session, YEAR, date(YEAR, 6, 30))
    assert after.committed.total == Decimal("0.00")
    assert after.actual.total == Decimal("7600.00")
    # Asked about a day before it finished, the order was still committed.
    assert service.budget_report(session, YEAR, date(YEAR, 6, 17)).committed.total == Decimal("8000.00")


def test_a_cancelled_order_leaves_the_commitments_and_a_draft_never_enters_them(
    session: Session, pump: Asset, make_order: MakeOrder
) -> None:
    order = make_order(pump, lines=[(CostKind.SERVICE, "5000", "0")], approved=plant(YEAR, 5, 10))
    make_order(pump, lines=[(CostKind.SERVICE, "3000", "0")])  # a draft: nobody agreed to spend it

    assert service.budget_report(session, YEAR, date(YEAR, 5, 31)).committed.total == Decimal("5000.00")

    orders.perform(session, order, "cancel", actor=SYSTEM, at=plant(YEAR, 6, 1), note="改为下年度实施")

    assert service.budget_report(session, YEAR, date(YEAR, 6, 30)).committed.total == Decimal("0.00")


def test_an_overdue_or_unplanned_commitment_falls_in_the_reference_month(
    session: Session, pump: Asset, make_order: MakeOrder
) -> None:
    make_order(
        pump, lines=[(CostKind.LABOUR, "100", "0")], approved=plant(YEAR, 2, 1), planned_finish_date=date(YEAR, 2, 28)
    )
    make_order(pump, lines=[(CostKind.LABOUR, "200", "0")], approved=plant(YEAR, 2, 1))
    make_order(
        pump,
        lines=[(CostKind.LABOUR, "400", "0")],
        approved=plant(YEAR, 2, 1),
        planned_finish_date=date(YEAR + 1, 1, 15),
    )  # next year's money

    report = service.budget_report(session, YEAR, date(YEAR, 7, 15))

    assert report.committed.sum(months=[6]) == Decimal("300.00")
    assert report.committed.total == Decimal("300.00")


def test_plan_to_date_counts_the_current_month_pro_rata_and_variance_is_actual_minus_plan(
    session: Session, pump: Asset, workshop: Workshop, make_order: MakeOrder, allocate: Callable[..., object]
) -> None:
    allocate(workshop, CostCategory.MATERIALS, 1, "31000.00")
    allocate(workshop, CostCategory.MATERIALS, 2, "28000.00")
    allocate(workshop, CostCategory.LABOUR, 2, "1000.00")
    allocate(workshop, CostCategory.MATERIALS, 3, "62000.00")
    make_order(pump, lines=[(CostKind.MATERIAL, "0", "80000")], finished=plant(YEAR, 2, 20))

    report = service.budget_report(session, YEAR, date(YEAR, 2, 14))

    # January in full, February 14/28 of 29000.
    assert report.plan_to_date() == Decimal("45500.00")
    assert report.plan_to_date(category=CostCategory.LABOUR) == Decimal("500.00")
    assert report.actual.total == Decimal("0.00")  # the order finished after the 14th

    later = service.budget_report(session, YEAR, date(YEAR, 2, 28))
    variance = later.variance(workshop_id=workshop.id)
    assert (variance.plan, variance.actual, variance.amount) == (
        Decimal("60000.00"),
        Decimal("80000.00"),
        Decimal("20000.00"),
    )
    assert variance.share == Decimal("20000") / Decimal("60000")
    assert variance.drifting
    assert later.plan.total == Decimal("122000.00")
    assert later.unallocated == Decimal("15600000.00") - Decimal("122000.00")


def test_the_forecast_is_actual_plus_commitments_plus_the_run_rate_over_the_days_left(
    session: Session, pump: Asset, make_order: MakeOrder
) -> None:
    make_order(pump, lines=[(CostKind.MATERIAL, "0", "36500")], finished=plant(YEAR, 1, 20))
    make_order(pump, lines=[(CostKind.SERVICE, "9000", "0")], approved=plant(YEAR, 3, 1))

    forecast = service.budget_report(session, YEAR, date(YEAR, 3, 1)).forecast()

    # 1 March is day 60 of 2026: 36500 ÷ 60 a day over the 305 days left = 185541.666… → 185541.67.
    assert (forecast.days_elapsed, forecast.days_left) == (60, 305)
    assert forecast.run_rate_rest == Decimal("185541.67")
    assert forecast.value == Decimal("36500.00") + Decimal("9000.00") + Decimal("185541.67")


def test_the_baseline_is_the_average_of_the_three_years_before_and_the_target_halves_it(
    session: Session, budget: object
) -> None:
    report = service.budget_report(session, YEAR, date(YEAR, 6, 30))

    assert report.baseline == Decimal("31200000.00")
    assert report.change == Decimal("-0.5")


def test_an_engineer_sees_only_their_workshops(
    session: Session, pump: Asset, other_pump: Asset, workshop: Workshop, make_order: MakeOrder
) -> None:
    make_order(pump, lines=[(CostKind.LABOUR, "0", "100")], finished=plant(YEAR, 3, 1))
    make_order(other_pump, lines=[(CostKind.LABOUR, "0", "900")], finished=plant(YEAR, 3, 1))

    report = service.budget_report(session, YEAR, date(YEAR, 12, 31), workshop_ids=[workshop.id])  # type: ignore[list-item]

    assert [w.code for w in report.workshops] == ["SYN"]
    assert report.actual.total == Decimal("100.00")


def test_the_report_runs_a_fixed_number_of_queries(
    session: Session,
    pump: Asset,
    make_order: MakeOrder,
    allocate: Callable[..., object],
    workshop: Workshop,
    count_queries: list[str],
) -> None:
    for month in range(1, 4):
        allocate(workshop, CostCategory.LABOUR, month, "100")
        make_order(pump, lines=[(CostKind.LABOUR, "10", "10")], finished=plant(YEAR, month, 3))
        make_order(pump, lines=[(CostKind.LABOUR, "10", "0")], approved=plant(YEAR, month, 3))
    session.flush()
    count_queries.clear()

    service.budget_report(session, YEAR, date(YEAR, 6, 30))

    assert len(count_queries) == 7


def test_an_order_cancelled_later_was_still_committed_on_the_days_before(
    session: Session, pump: Asset, make_order: MakeOrder
) -> None:
    order = make_order(pump, lines=[(CostKind.SERVICE, "1000", "0")], approved=plant(YEAR, 3, 1))
    orders.perform(session, order, "cancel", actor=SYSTEM, at=plant(YEAR, 5, 1), note="改为下年度实施")

    # The auditors' export as of 1 April, made before or after the cancellation, says the same.
    assert service.budget_report(session, YEAR, date(YEAR, 4, 1)).committed.total == Decimal("1000.00")
    assert service.budget_report(session, YEAR, date(YEAR, 4, 30)).committed.total == Decimal("1000.00")
    assert service.budget_report(session, YEAR, date(YEAR, 5, 1)).committed.total == Decimal("0.00")
