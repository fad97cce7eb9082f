"""The readings table's yearly partitions on PostgreSQL, created ahead of the readings.

Migration eadc435fdf6d partitions ``reading`` by range of ``taken_at``: ``reading_<year>`` per
UTC calendar year, and ``reading_default`` for any row no year covers (so an insert never fails).
:func:`ensure_reading_partitions` creates the years to come; ``maintenance db upgrade`` and each
scheduler pass call it. On SQLite, or on a ``reading`` that is not partitioned, it does nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import text
from sqlmodel import Session

# How many years after the current one have their partition ready: a scheduler that stops for a
# while still finds next year's in place (and the DEFAULT partition catches the rest).
YEARS_AHEAD = 2
DEFAULT_PARTITION = "reading_default"
_YEAR_PARTITION = re.compile(r"reading_(\d{4})")
# Two processes creating the same partition at once: the second waits, then finds it made.
_PARTITIONS_LOCK_KEY = 0x5245_4144  # "READ"
LOCK_TIMEOUT = "10s"


@dataclass
class PartitionReport:
    created: list[str] = field(default_factory=list)  # names of the partitions created, oldest first
    moved: int = 0  # rows moved into them out of the DEFAULT partition


def ensure_reading_partitions(session: Session, today: date, years_ahead: int = YEARS_AHEAD) -> PartitionReport:
    """Create the missing yearly partitions of ``reading`` from ``today``'s year (or the year
    after the newest partition, if that is earlier) to ``years_ahead`` years after it, each with
    the rows the DEFAULT partition held for its year (PostgreSQL refuses to attach a partition
    while the DEFAULT one holds rows in its range), in the session's transaction. Years before
    are left alone: their rows, if any, stay in DEFAULT. Idempotent; with nothing missing, one
    catalog query and no lock."""
    report = PartitionReport()
    if session.get_bind().dialect.name != "postgresql" or not _missing_years(_partitions(session), today, years_ahead):
        return report
    # Attaching locks the readings (and the DEFAULT partition exclusively while rows move): give
    # up rather than queue every ingest behind a lock held elsewhere; the next pass tries again.
    session.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PARTITIONS_LOCK_KEY})
    partitions = _partitions(session)  # again, under the lock: another process may have made some
    for year in _missing_years(partitions, today, years_ahead):
        report.moved += _create_year(session, year, move_from_default=DEFAULT_PARTITION in partitions)
        report.created.append(f"reading_{year}")
    return report


def _partitions(session: Session) -> set[str]:
    """The names of ``reading``'s partitions (none if it is not a partitioned table)."""
    rows = session.execute(
        text(
            "SELECT inhrelid::regclass::text FROM pg_inherits JOIN pg_class ON pg_class.oid = inhparent "
            "WHERE inhparent = to_regclass('reading') AND relkind = 'p'"
        )
    )
    return set(rows.scalars())


def _missing_years(partitions: set[str], today: date, years_ahead: int) -> list[int]:
    """The years to come that have no partition (none when ``reading`` is not partitioned)."""
    if not partitions:
        return []
    years = {int(match[1]) for name in partitions if (match := _YEAR_PARTITION.fullmatch(name))}
    first = min(max(years, default=today.year) + 1, today.year)
    return [year for year in range(first, today.year + years_ahead + 1) if year not in years]


def _create_year(session: Session, year: int, *, move_from_default: bool) -> int:
    """Create ``reading_<year>`` beside the table, move the DEFAULT partition's rows of that year
    into it, and attach it (which builds its primary key index and foreign keys from the parent's
    and checks the DEFAULT partition holds none of its rows). Returns the rows moved."""
    name = f"reading_{year}"
    start, end = datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    session.execute(text(f"CREATE TABLE {name} (LIKE reading INCLUDING DEFAULTS)"))
    moved = 0
    if move_from_default:
        # Locked first, so no row of the year can go in between the move and the attaching.
        session.execute(text(f"LOCK TABLE {DEFAULT_PARTITION} IN ACCESS EXCLUSIVE MODE"))
        moved = (
            session.connection()
            .execute(
                text(
                    f"WITH moved AS (DELETE FROM {DEFAULT_PARTITION} "  # noqa: S608 (the names are ours)
                    "WHERE taken_at >= :start AND taken_at < :end RETURNING *) "
                    f"INSERT INTO {name} SELECT * FROM moved"
                ),
                {"start": start, "end": end},
            )
            .rowcount
        )
    session.execute(
        text(
            f"ALTER TABLE reading ATTACH PARTITION {name} "
            f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
        )
    )
    return moved
