"""A year's savings per ledger: the work orders' refurbished and localised lines (their stored
saving) of orders completed or closed, counted on the plant-local day the order finished, plus
the entries made by hand; cancelled and unfinished orders do not count; the tender ledger is the
entries alone. Each figure on the scorecard is the ledger's total from 1 January through the day,
against the year's target pro rata to the days gone by.

Every expected value is worked out by hand in the comments. In ``make_order`` a refurbished or
localised line of actual price a has a reference price of 2a: it saves a."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import Session

from maintenance.assets.models import Asset
from maintenance.orders import service as orders
from maintenance.orders.choices import CostKind
from maintenance.org.models import Workshop
from maintenance.scorecard.figures import ScorecardScope
from maintenance.scorecard.indicators import Indicator
from maintenance.scorecard.savings.figures import (
    localisation_savings,
    localisation_savings_by_workshop,
    refurbish_savings,
    refurbish_savings_by_workshop,
    tender_savings,
    tender_savings_by_workshop,
)
from maintenance.scorecard.savings.ledger import LedgerTotal, savings_totals
from maintenance.scorecard.savings.models import SavingsKind
from maintenance.scorecard.savings.rules import saving_of, target_due
from tests import factories
from tests.budget.conftest import SYSTEM, MakeOrder, plant
from tests.scorecard.savings.conftest import MakeEntry

R, L, T = SavingsKind.REFURBISH, SavingsKind.LOCALISATION, SavingsKind.TENDER
MILLION = Decimal("1000000")


@pytest.fixture
def year_2026(
    session: Session, make_order: MakeOrder, entry: MakeEntry, pump: Asset, other_pump: Asset, workshop: Workshop
) -> None:
    # Orders of the pump's workshop (合成车间)
    make_order(pump, lines=[(CostKind.REFURBISHED, "0", "300"), (CostKind.LOCALISED, "0", "1200"),
                            (CostKind.MATERIAL, "500", "500")], finished=plant(2026, 3, 10))  # fmt: skip
    make_order(pump, lines=[(CostKind.REFURBISHED, "0", "50")], finished=plant(2025, 12, 31, 23))  # last year
    make_order(pump, lines=[(CostKind.REFURBISHED, "0", "30")], finished=plant(2026, 12, 31, 23))  # this year
    make_order(pump, lines=[(CostKind.REFURBISHED, "0", "40")], finished=plant(2027, 1, 1, 0))  # next year
    unfinished = make_order(pump, lines=[(CostKind.REFURBISHED, "0", "8000")], approved=plant(2026, 2, 1))
    orders.perform(session, unfinished, "start", actor=SYSTEM, at=plant(2026, 2, 2))
    cancelled = make_order(pump, lines=[(CostKind.LOCALISED, "0", "9000")], approved=plant(2026, 2, 1))
    orders.perform(session, cancelled, "cancel", actor=SYSTEM, note="改为整机更换", at=plant(2026, 2, 3))
    # The other workshop's order finished at midnight plant time on 1 January (16:00 UTC on 31 December)
    make_order(other_pump, lines=[(CostKind.REFURBISHED, "0", "70")], finished=plant(2026, 1, 1, 0))
    # Entries
    entry(R, "2026-02-01", "1000.00", "400.00", quantity="2", of=workshop)  # (1000 − 400) × 2 = 1200
    entry(R, "2025-12-31", "200.00", "100.00")  # last year
    entry(L, "2026-05-05", "850.50", "320.25", quantity="4")  # 530.25 × 4 = 2121.00
    entry(T, "2026-06-30", "500000.00", "438000.00")  # 62000
    entry(T, "2026-07-01", "10000.00", "9000.00", of=workshop)  # 1000


def test_the_years_ledgers_add_finished_orders_and_entries(session: Session, year_2026: None) -> None:
    totals = savings_totals(session, date(2026, 1, 1), date(2026, 12, 31))

    assert totals == {
        # orders 300 (10 Mar) + 30 (31 Dec 23:00) + 70 (1 Jan 00:00); entered 1200
        R: LedgerTotal(Decimal("400.00"), Decimal("1200.00")),
        # orders 1200 (the cancelled order's 9000 left out); entered 2121.00
        L: LedgerTotal(Decimal("1200.00"), Decimal("2121.00")),
        T: LedgerTotal(Decimal("0.00"), Decimal("63000.00")),
    }
    assert totals[R].total_cny == Decimal("1600.00")
    assert totals[L].total_cny == Decimal("3321.00")


def test_the_day_an_order_finished_is_the_plants(session: Session, year_2026: None) -> None:
    last_day = savings_totals(session, date(2025, 12, 31), date(2025, 12, 31))
    first_day = savings_totals(session, date(2026, 1, 1), date(2026, 1, 1))

    assert (last_day[R].from_orders_cny, last_day[R].entered_cny) == (Decimal("50.00"), Decimal("100.00"))
    assert first_day[R] == LedgerTotal(Decimal("70.00"), Decimal("0.00"))


def test_one_workshops_ledgers(session: Session, year_2026: None, workshop: Workshop) -> None:
    totals = savings_totals(session, date(2026, 1, 1), date(2026, 12, 31), workshop.id)

    # The other workshop's 70 and the plant-wide entries are left out.
    assert totals[R] == LedgerTotal(Decimal("330.00"), Decimal("1200.00"))
    assert totals[L] == LedgerTotal(Decimal("1200.00"), Decimal("0.00"))
    assert totals[T] == LedgerTotal(Decimal("0.00"), Decimal("1000.00"))


def test_an_empty_period_saves_nothing(session: Session, year_2026: None) -> None:
    assert savings_totals(session, date(2026, 3, 1), date(2026, 2, 1)) == dict.fromkeys(SavingsKind, LedgerTotal())


@pytest.mark.parametrize(
    ("reference", "actual", "quantity", "saving"),
    [
        ("850.50", "320.25", "4", "2121.00"),
        ("10.00", "3.33", "0.5", "3.34"),  # 6.67 × 0.5 = 3.335 → half up
        ("10.00", "3.33", "0.125", "0.83"),  # 6.67 × 0.125 = 0.83375
        ("100.00", "100.00", "3", "0.00"),
    ],
)
def test_a_saving_is_rounded_half_up_to_the_fen(reference: str, actual: str, quantity: str, saving: str) -> None:
    assert saving_of(Decimal(reference), Decimal(actual), Decimal(quantity)) == Decimal(saving)


@pytest.mark.parametrize(
    ("as_of", "due"),
    [
        (date(2025, 12, 31), "0.00"),  # the year has not begun
        (date(2026, 1, 1), "2739.73"),  # 1 000 000 × 1/365 = 2739.726…
        (date(2026, 6, 30), "495890.41"),  # × 181/365 = 495890.410…
        (date(2026, 12, 31), "1000000.00"),  # × 365/365
        (date(2027, 3, 1), "1000000.00"),  # a year gone by stays whole
    ],
)
def test_the_target_due_is_the_share_of_the_year_gone_by(as_of: date, due: str) -> None:
    assert target_due(MILLION, 2026, as_of) == Decimal(due)


@pytest.mark.parametrize(
    ("as_of", "due"),
    [
        (date(2028, 2, 29), "163934.43"),  # 1 000 000 × 60/366 = 163934.426…
        (date(2028, 6, 30), "497267.76"),  # × 182/366 = 497267.759…
        (date(2028, 12, 31), "1000000.00"),  # × 366/366
    ],
)
def test_a_leap_year_has_366_days(as_of: date, due: str) -> None:
    assert target_due(MILLION, 2028, as_of) == Decimal(due)


def test_the_figures_through_30_june(session: Session, year_2026: None, english: None) -> None:
    scope = ScorecardScope(year=2026, as_of=date(2026, 6, 30))
    targets = {Indicator.REFURBISH_SAVINGS: MILLION, Indicator.TENDER_SAVINGS: Decimal("50000")}

    refurbish = refurbish_savings(session, scope, targets)
    localisation = localisation_savings(session, scope, targets)
    tender = tender_savings(session, scope, targets)

    # 70 (1 Jan) + 300 (10 Mar) from orders + 1200 entered; the 31 December order not yet
    assert (refurbish.indicator, refurbish.value, refurbish.target) == (
        Indicator.REFURBISH_SAVINGS,
        Decimal("1570.00"),
        Decimal("495890.41"),
    )
    assert refurbish.link == "/scorecard/savings?kind=refurbish&year=2026"
    assert refurbish.detail == "Year target 100.00 10k CNY"
    # 1200 + 2121.00, no target
    assert (localisation.value, localisation.target, localisation.detail) == (Decimal("3321.00"), None, "No target set")
    # 62000 (30 Jun), not the 1000 of 1 July; 50 000 × 181/365 = 24794.520…
    assert (tender.value, tender.target) == (Decimal("62000.00"), Decimal("24794.52"))


def test_a_workshops_figure_links_to_its_ledger(session: Session, year_2026: None, workshop: Workshop) -> None:
    scope = ScorecardScope(year=2026, as_of=date(2026, 12, 31), workshop_id=workshop.id)

    figure = refurbish_savings(session, scope, {Indicator.REFURBISH_SAVINGS: MILLION})

    assert (figure.value, figure.target) == (Decimal("1530.00"), MILLION.quantize(Decimal("0.01")))
    assert figure.link == f"/scorecard/savings?kind=refurbish&year=2026&workshop_id={workshop.id}"


def test_each_workshops_figures_at_once(
    session: Session, year_2026: None, workshop: Workshop, other_workshop: Workshop
) -> None:
    empty = factories.WorkshopFactory(code="ZZZ")
    ids: list[int] = [workshop.id, other_workshop.id, empty.id]  # type: ignore[list-item]
    scope = ScorecardScope(year=2026, as_of=date(2026, 12, 31))
    targets = {Indicator.REFURBISH_SAVINGS: MILLION}

    refurbish = refurbish_savings_by_workshop(session, scope, ids, targets)
    localisation = localisation_savings_by_workshop(session, scope, ids, targets)
    tender = tender_savings_by_workshop(session, scope, ids, targets)

    # 合成车间: orders 300 + 30, entered 1200; the other workshop's order of 70; the plant-wide
    # entries belong to no workshop.
    assert [refurbish[w].value for w in ids] == [Decimal("1530.00"), Decimal("70.00"), Decimal("0.00")]
    # 合成车间's order 1200 (the cancelled one's 9000 left out)
    assert [localisation[w].value for w in ids] == [Decimal("1200.00"), Decimal("0.00"), Decimal("0.00")]
    # 合成车间's entry of 1 July: 1000
    assert [tender[w].value for w in ids] == [Decimal("1000.00"), Decimal("0.00"), Decimal("0.00")]
    assert refurbish[ids[1]].link == f"/scorecard/savings?kind=refurbish&year=2026&workshop_id={ids[1]}"
    assert refurbish[ids[1]].target == MILLION
