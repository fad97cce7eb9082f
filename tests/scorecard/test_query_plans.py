"""The scorecard's CBM share reads the year's orders through an index, never by scanning the
work-order table: over 200,000 orders (bench/bench_scorecard.py) the order mix was the one
statement of the scorecard that read a large table without an index. It now reads
``ix_work_order_requested_mix`` (the time the order was raised and the columns the mix sums). The
statements checked are the ones the figure really runs, caught on their way to the database, then
explained (SQLite ``EXPLAIN QUERY PLAN``; PostgreSQL ``EXPLAIN`` with sequential scans priced out)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal

import pytest
from sqlmodel import Session

from maintenance.assets.models import Asset
from maintenance.orders.choices import CostKind, OrderType
from maintenance.org.models import Workshop
from maintenance.scorecard.figures import ScorecardScope
from maintenance.scorecard.indicators import DEFAULT_TARGETS
from maintenance.scorecard.sources import cbm_share
from tests.budget.conftest import YEAR, MakeOrder, plant
from tests.query_plans import Statement, full_scans, statements_of


@pytest.fixture
def scans_orders(session: Session) -> Iterator[Callable[[Statement], bool]]:
    """Whether a statement's plan passes over the whole work-order table."""
    with full_scans(session) as scans:
        yield lambda statement: scans(statement, "work_order")


def test_the_plan_check_sees_a_full_scan_of_orders(session: Session, scans_orders: Callable[[Statement], bool]) -> None:
    # The check itself: orders picked by a column no index starts with are a scan; by their id not.
    assert scans_orders(("SELECT count(*) FROM work_order WHERE title = 'x'", ()))
    assert not scans_orders(("SELECT title FROM work_order WHERE id = 1", ()))


@pytest.mark.parametrize("for_workshop", [False, True])
def test_the_cbm_share_reads_the_years_orders_through_an_index(
    session: Session,
    scans_orders: Callable[[Statement], bool],
    make_order: MakeOrder,
    pump: Asset,
    workshop: Workshop,
    for_workshop: bool,
) -> None:
    make_order(pump, lines=[(CostKind.LABOUR, "100", "100")], order_type=OrderType.CBM, raised=plant(YEAR, 3, 2))
    make_order(pump, lines=[(CostKind.LABOUR, "100", "100")], raised=plant(YEAR, 4, 2))
    scope = ScorecardScope(YEAR, date(YEAR, 6, 30), workshop.id if for_workshop else None)
    figures = []

    statements = statements_of(session, lambda: figures.append(cbm_share(session, scope, DEFAULT_TARGETS)))

    assert figures[0].value == Decimal("0.5")  # one CBM order of the two raised by 30 June
    assert any("work_order" in sql for sql, _ in statements)
    assert [sql for sql, parameters in statements if scans_orders((sql, parameters))] == []
