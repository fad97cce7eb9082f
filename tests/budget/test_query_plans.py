"""The budget's cost queries reach the cost-line table through an index, never by scanning it: over
a million lines (bench/bench_budget.py) a full scan would make every budget page as slow as the
table is long. The statements checked are the ones :func:`actual_costs` and
:func:`committed_costs` really run, caught on their way to the database, then explained."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Connection, event, text
from sqlmodel import Session

from maintenance.orders.costs import actual_costs, committed_costs
from maintenance.orders.kpis.service import Period
from tests.budget.conftest import YEAR, plant

YEAR_PERIOD = Period.for_year(YEAR)
Statement = tuple[str, Any]


def _statements_of(session: Session, run: Callable[[], object]) -> list[Statement]:
    """The SELECTs ``run`` sends to the database, with their parameters."""
    caught: list[Statement] = []
    connection = session.connection()

    def catch(conn: Connection, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            caught.append((statement, parameters))

    event.listen(connection, "before_cursor_execute", catch)
    try:
        run()
    finally:
        event.remove(connection, "before_cursor_execute", catch)
    return caught


@pytest.fixture
def explain(session: Session) -> Iterator[Callable[[Statement], str]]:
    """The plan of a statement as text, on SQLite or PostgreSQL."""
    connection = session.connection()
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        # On a test database of a few rows a sequential scan is the cheapest plan whatever the
        # indexes, so the planner's choice says nothing about a million lines. With sequential
        # scans priced out, the plan still shows one only where no index can serve the query.
        connection.execute(text("SET LOCAL enable_seqscan = off"))

    def plan(statement: Statement) -> str:
        sql, parameters = statement
        cursor.execute(("EXPLAIN " if postgres else "EXPLAIN QUERY PLAN ") + sql, parameters)
        return "\n".join(" ".join(str(part) for part in row) for row in cursor.fetchall())

    yield plan
    cursor.close()


def _scans_cost_lines(plan: str) -> bool:
    """A full pass over the table (PostgreSQL's ``Seq Scan on cost_line``, SQLite's ``SCAN cost_line``,
    even ``USING INDEX``: that reads every line too) rather than a search of the orders' lines."""
    lowered = plan.lower()
    return "seq scan on cost_line" in lowered or "scan cost_line" in lowered


def test_the_plan_check_sees_a_full_scan(session: Session, explain: Callable[[Statement], str]) -> None:
    # The check itself: a query that must read every line is reported as a scan.
    assert _scans_cost_lines(explain(("SELECT sum(actual_cny) FROM cost_line", ())))


def test_the_actual_reads_cost_lines_through_an_index(session: Session, explain: Callable[[Statement], str]) -> None:
    statements = _statements_of(session, lambda: actual_costs(session, YEAR_PERIOD, as_of=date(YEAR, 6, 30)))

    assert any("cost_line" in sql for sql, _ in statements)
    for statement in statements:
        plan = explain(statement)
        assert not _scans_cost_lines(plan), plan


@pytest.mark.parametrize("workshop_ids", [None, [1, 2]])
def test_the_commitments_read_cost_lines_through_an_index(
    session: Session, explain: Callable[[Statement], str], workshop_ids: list[int] | None
) -> None:
    statements = _statements_of(
        session, lambda: committed_costs(session, YEAR_PERIOD, workshop_ids, moment=plant(YEAR, 6, 30, 23))
    )

    assert any("cost_line" in sql for sql, _ in statements)
    for statement in statements:
        plan = explain(statement)
        assert not _scans_cost_lines(plan), plan
