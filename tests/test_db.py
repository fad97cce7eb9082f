"""SQLite transactions: writers start with BEGIN IMMEDIATE, page reads with a deferred
transaction that never blocks a writer (a long export must not make saves wait)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import OperationalError

from maintenance.db import READ_ONLY, build_engine, parse_plant_datetime


def _fail_fast(connection: Connection) -> None:
    """Wait at most 0.1 s for a lock (outside SQLAlchemy's transaction, which would BEGIN)."""
    connection.connection.driver_connection.execute("PRAGMA busy_timeout=100")  # type: ignore[union-attr]


def test_an_open_read_transaction_does_not_block_a_writer(tmp_path: Path) -> None:
    engine = build_engine(f"sqlite:///{tmp_path / 'locks.db'}")
    with engine.begin() as setup:
        setup.execute(text("CREATE TABLE t (n INTEGER)"))
        setup.execute(text("INSERT INTO t VALUES (1)"))
    reader = engine.execution_options(**{READ_ONLY: True}).connect()
    writer = engine.connect()
    try:
        reading = reader.begin()
        assert reader.scalar(text("SELECT count(*) FROM t")) == 1  # the read snapshot is open
        _fail_fast(writer)
        with writer.begin():
            writer.execute(text("INSERT INTO t VALUES (2)"))
        assert reader.scalar(text("SELECT count(*) FROM t")) == 1  # still its own snapshot
        reading.rollback()
    finally:
        reader.close()
        writer.close()
        engine.dispose()


def test_writers_take_the_write_lock_when_they_begin(tmp_path: Path) -> None:
    engine = build_engine(f"sqlite:///{tmp_path / 'locks.db'}")
    first, second = engine.connect(), engine.connect()
    try:
        _fail_fast(second)
        held = first.begin()
        with pytest.raises(OperationalError, match="locked"):
            second.begin()
        held.rollback()
    finally:
        first.close()
        second.close()
        engine.dispose()


@pytest.mark.parametrize("typed", ["0001-01-01T00:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_a_time_with_no_utc_equivalent_is_not_a_date_time(typed: str) -> None:
    """Valid as typed, but outside the calendar in UTC: refused as any bad input is (it was an
    OverflowError, a 500 on the reading, order and meter forms)."""
    with pytest.raises(ValueError, match="date-time"):
        parse_plant_datetime(typed)
