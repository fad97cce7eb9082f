"""The budget's cost queries reach the cost-line table through an index, never by scanning it: over
a million lines (bench/bench_budget.py) a full scan would make every budget page as slow as the
table is long. The statements checked are the ones :func:`actual_costs` and
:func:`committed_costs` really run, caught on their way to the database, then explained."""

from __future__ import annotations

import re
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
def explain(session: Session) -> Iterator[Callable[[Statement], bool]]:
    """Whether a statement's plan passes over the whole cost-line table, on SQLite or PostgreSQL."""
    connection = session.connection()
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        # On a test database of a few rows a sequential scan is the cheapest plan whatever the
        # indexes, so the planner's choice says nothing about a million lines. With sequential
        # scans priced out, the plan still shows one only where no index can serve the query.
        connection.execute(text("SET LOCAL enable_seqscan = off"))

    def scans_cost_lines(statement: Statement) -> bool:
        sql, parameters = statement
        if postgres:
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql, parameters)
            return _pg_scans_cost_lines(cursor.fetchone()[0][0]["Plan"])
        cursor.execute("EXPLAIN QUERY PLAN " + sql, parameters)
        # SCAN cost_line, even USING (COVERING) INDEX, reads every line; SEARCH finds some.
        return any(re.search(r"\bSCAN cost_line\b", str(row[-1])) for row in cursor.fetchall())

    yield scans_cost_lines
    cursor.close()


def _pg_scans_cost_lines(node: dict[str, Any]) -> bool:
    """A sequential scan of cost_line, or a pass over one of its indexes without a condition on the
    index (an index read end to end is a full scan too), anywhere in the plan."""
    index = str(node.get("Index Name", ""))
    on_cost_lines = node.get("Relation Name") == "cost_line" or index.startswith(("ix_cost_line", "pk_cost_line"))
    if on_cost_lines and (node["Node Type"] == "Seq Scan" or (index and "Index Cond" not in node)):
        return True
    return any(_pg_scans_cost_lines(child) for child in node.get("Plans", []))


def test_the_plan_check_sees_a_full_scan(session: Session, explain: Callable[[Statement], bool]) -> None:
    # The check itself: a query that must read every line is reported as a scan (on PostgreSQL a
    # pass over the covering index without a condition), one that finds an order's lines is not.
    assert explain(("SELECT sum(actual_cny) FROM cost_line", ()))
    assert not explain(("SELECT sum(actual_cny) FROM cost_line WHERE order_id = 1", ()))


def test_the_actual_reads_cost_lines_through_an_index(session: Session, explain: Callable[[Statement], bool]) -> None:
    statements = _statements_of(session, lambda: actual_costs(session, YEAR_PERIOD, as_of=date(YEAR, 6, 30)))

    assert any("cost_line" in sql for sql, _ in statements)
    assert [sql for sql, parameters in statements if explain((sql, parameters))] == []


@pytest.mark.parametrize("workshop_ids", [None, [1, 2]])
def test_the_commitments_read_cost_lines_through_an_index(
    session: Session, explain: Callable[[Statement], bool], workshop_ids: list[int] | None
) -> None:
    statements = _statements_of(
        session, lambda: committed_costs(session, YEAR_PERIOD, workshop_ids, moment=plant(YEAR, 6, 30, 23))
    )

    assert any("cost_line" in sql for sql, _ in statements)
    assert [sql for sql, parameters in statements if explain((sql, parameters))] == []
