"""Query plans in tests: the statements a call really sends to the database, and whether a
statement's plan reads a whole table, on SQLite (``EXPLAIN QUERY PLAN``) or PostgreSQL
(``EXPLAIN``). Used by the budget's and the scorecard's plan tests."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, event, text
from sqlmodel import Session

Statement = tuple[str, Any]


def statements_of(session: Session, run: Callable[[], object]) -> list[Statement]:
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


@contextmanager
def full_scans(session: Session) -> Iterator[Callable[[Statement, str], bool]]:
    """``scans(statement, table)``: whether the statement's plan passes over the whole table."""
    connection = session.connection()
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    postgres = connection.dialect.name == "postgresql"
    if postgres:
        # On a test database of a few rows a sequential scan is the cheapest plan whatever the
        # indexes, so the planner's choice says nothing about a million rows. With sequential
        # scans priced out, the plan still shows one only where no index can serve the query.
        connection.execute(text("SET LOCAL enable_seqscan = off"))

    def scans(statement: Statement, table: str) -> bool:
        sql, parameters = statement
        if postgres:
            cursor.execute("EXPLAIN (FORMAT JSON) " + sql, parameters)
            return _pg_scans(cursor.fetchone()[0][0]["Plan"], table)
        cursor.execute("EXPLAIN QUERY PLAN " + sql, parameters)
        # SCAN table (or its alias table_1), even USING (COVERING) INDEX, reads every row; SEARCH
        # finds some.
        return any(re.search(rf"\bSCAN {table}(_\d+)?\b", str(row[-1])) for row in cursor.fetchall())

    try:
        yield scans
    finally:
        cursor.close()


def _pg_scans(node: dict[str, Any], table: str) -> bool:
    """A sequential scan of ``table``, or a pass over one of its indexes without a condition on the
    index (an index read end to end is a full scan too), anywhere in the plan."""
    index = str(node.get("Index Name", ""))
    # A partitioned table (the readings by year) is read through its partitions, "reading_2026"
    # or "reading_default", and their indexes, named after them ("reading_2026_pkey").
    partition = re.compile(rf"{table}_(\d{{4}}|default)")
    relation = str(node.get("Relation Name", ""))
    on_table = (
        relation == table
        or partition.fullmatch(relation) is not None
        or index.startswith((f"ix_{table}", f"pk_{table}"))
        or partition.match(index) is not None
    )
    if on_table and (node["Node Type"] == "Seq Scan" or (index and "Index Cond" not in node)):
        return True
    return any(_pg_scans(child, table) for child in node.get("Plans", []))


def relations_read(session: Session, statement: Statement) -> set[str]:
    """The tables a statement's PostgreSQL plan reads, partitions by their own names: those the
    planner did not prune away (readings' partitions tests)."""
    sql, parameters = statement
    with session.connection().connection.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, parameters)
        return set(_relations(cursor.fetchone()[0][0]["Plan"]))


def _relations(node: dict[str, Any]) -> Iterator[str]:
    if "Relation Name" in node:
        yield node["Relation Name"]
    for child in node.get("Plans", []):
        yield from _relations(child)
