"""The budget's cost queries reach the cost-line table through an index, never by scanning it: over
a million lines (bench/bench_budget.py) a full scan would make every budget page as slow as the
table is long. The statements checked are the ones :func:`actual_costs` and
:func:`committed_costs` really run, caught on their way to the database, then explained."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

import pytest
from sqlmodel import Session

from maintenance.orders.costs import actual_costs, committed_costs
from maintenance.orders.kpis.service import Period
from tests.budget.conftest import YEAR, plant
from tests.query_plans import Statement, full_scans, statements_of

YEAR_PERIOD = Period.for_year(YEAR)


@pytest.fixture
def explain(session: Session) -> Iterator[Callable[[Statement], bool]]:
    """Whether a statement's plan passes over the whole cost-line table, on SQLite or PostgreSQL."""
    with full_scans(session) as scans:
        yield lambda statement: scans(statement, "cost_line")


def test_the_plan_check_sees_a_full_scan(session: Session, explain: Callable[[Statement], bool]) -> None:
    # The check itself: a query that must read every line is reported as a scan (on PostgreSQL a
    # pass over the covering index without a condition), one that finds an order's lines is not.
    assert explain(("SELECT sum(actual_cny) FROM cost_line", ()))
    assert not explain(("SELECT sum(actual_cny) FROM cost_line WHERE order_id = 1", ()))


def test_the_actual_reads_cost_lines_through_an_index(session: Session, explain: Callable[[Statement], bool]) -> None:
    statements = statements_of(session, lambda: actual_costs(session, YEAR_PERIOD, as_of=date(YEAR, 6, 30)))

    assert any("cost_line" in sql for sql, _ in statements)
    assert [sql for sql, parameters in statements if explain((sql, parameters))] == []


@pytest.mark.parametrize("workshop_ids", [None, [1, 2]])
def test_the_commitments_read_cost_lines_through_an_index(
    session: Session, explain: Callable[[Statement], bool], workshop_ids: list[int] | None
) -> None:
    statements = statements_of(
        session, lambda: committed_costs(session, YEAR_PERIOD, workshop_ids, moment=plant(YEAR, 6, 30, 23))
    )

    assert any("cost_line" in sql for sql, _ in statements)
    assert [sql for sql, parameters in statements if explain((sql, parameters))] == []
