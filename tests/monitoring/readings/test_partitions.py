"""The readings table partitioned by year on PostgreSQL: the migration keeps every row and the
table's keys and grants, both ways; partitions of the coming years are created ahead, taking the
rows the DEFAULT partition held for them; a query by point and time range reads only the
partitions of its years. SQLite has no partitioning: there the migration and
``ensure_reading_partitions`` do nothing."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Connection, Engine, inspect, select, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col
from typer.testing import CliRunner

from maintenance import cli
from maintenance.cli import alembic_config
from maintenance.db import build_engine, partition_names
from maintenance.monitoring import service
from maintenance.monitoring.choices import ConditionState, Quantity, ReadingSource
from maintenance.monitoring.models import MeasurementPoint, PointCreate, Reading
from maintenance.monitoring.readings.partitions import PartitionReport, ensure_reading_partitions
from tests import factories
from tests.conftest import scratch_postgresql_database
from tests.monitoring.conftest import SYSTEM, MakePoint
from tests.query_plans import relations_read, statements_of
from tests.test_migrations import schema_drift, script_directory

PARTITIONING = "eadc435fdf6d"
ON_POSTGRESQL = pytest.mark.skipif(
    not os.environ.get("MAINTENANCE_TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="partitioning is PostgreSQL's (MAINTENANCE_TEST_DATABASE_URL is not PostgreSQL)",
)


def _reading(point: MeasurementPoint, taken_at: datetime, value: float = 1.0) -> Reading:
    return Reading(
        point_id=point.id,  # type: ignore[arg-type]
        taken_at=taken_at,
        value=value,
        state=ConditionState.NORMAL,
        source=ReadingSource.API,
    )


def _partitions_holding(connection: Connection) -> dict[datetime, str]:
    """Each reading's time and the partition it is stored in."""
    rows = connection.execute(text("SELECT taken_at, tableoid::regclass::text FROM reading"))
    return dict(rows.all())


# --- SQLite -------------------------------------------------------------------------------


def test_on_sqlite_there_is_nothing_to_partition(session: Session) -> None:
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("the SQLite case")
    assert ensure_reading_partitions(session, date(2026, 6, 1), 2) == PartitionReport()
    assert partition_names(session.connection()) == set()


# --- The migration ------------------------------------------------------------------------

_SNAPSHOT = """
SELECT count(*), md5(string_agg(concat_ws('|', point_id, taken_at, value, state, source, entered_by_id), ','
                                ORDER BY point_id, taken_at))
FROM reading
"""
_GRANTS = """
SELECT acl.privilege_type, acl.grantee = 0 FROM pg_class, aclexplode(pg_class.relacl) AS acl
WHERE pg_class.oid = 'reading'::regclass AND acl.grantee <> pg_class.relowner
"""


def _migrate(engine: Engine, action: Any, revision: str) -> None:
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        action(config, revision)


def _shape(engine: Engine) -> dict[str, Any]:
    """What the migration must keep: the rows (count and checksum), columns, keys, indexes, grants."""
    with engine.connect() as connection:
        schema = inspect(connection)
        return {
            "rows": tuple(connection.exec_driver_sql(_SNAPSHOT).one()),
            "columns": [(c["name"], str(c["type"]), c["nullable"]) for c in schema.get_columns("reading")],
            "primary key": schema.get_pk_constraint("reading"),
            "foreign keys": sorted(schema.get_foreign_keys("reading"), key=lambda fk: fk["name"]),
            "indexes": schema.get_indexes("reading"),
            "grants": sorted(connection.exec_driver_sql(_GRANTS).all()),
        }


def _relkind(engine: Engine) -> str:
    with engine.connect() as connection:
        return str(connection.exec_driver_sql("SELECT relkind FROM pg_class WHERE oid = 'reading'::regclass").scalar())


@pytest.fixture
def before_partitioning() -> Iterator[Engine]:
    """A database of its own one migration before the partitioning, with readings of 2023 to 2026
    (every ten days, two points, some entered by a user), one of 2001, and a grant on the table."""
    previous = script_directory().get_revision(PARTITIONING).down_revision
    assert isinstance(previous, str)
    with scratch_postgresql_database("mt_partition_migration") as url:
        engine = build_engine(url)
        try:
            _migrate(engine, command.upgrade, previous)
            with Session(engine) as session:
                factories.bind(session)
                asset = factories.AssetFactory()
                user = factories.UserFactory()
                for code in ("PT-A", "PT-B"):
                    point = {"code": code, "asset_id": asset.id, "name": code, "quantity": Quantity.VIBRATION}
                    service.create_point(session, PointCreate.model_validate(point), actor=SYSTEM)
                session.commit()
                session.execute(
                    text(
                        "INSERT INTO reading (point_id, taken_at, value, state, source, entered_by_id) "
                        "SELECT point.id, at, extract(doy FROM at) / 10.0, 'normal', 'api', "
                        "CASE WHEN extract(day FROM at) < 10 THEN :user END "
                        "FROM measurement_point AS point, "
                        "generate_series(timestamptz '2023-01-01 00:00+00', '2026-12-31 23:59:59+00', '10 days') AS at"
                    ),
                    {"user": user.id},
                )
                session.execute(  # and a mistyped year
                    text(
                        "INSERT INTO reading (point_id, taken_at, value, state, source) "
                        "SELECT min(id), timestamptz '2001-07-01 08:00+00', 1, 'normal', 'api' FROM measurement_point"
                    )
                )
                session.execute(text("GRANT SELECT ON reading TO PUBLIC"))
                session.commit()
            yield engine
        finally:
            engine.dispose()


@ON_POSTGRESQL
@pytest.mark.postgres
def test_the_migration_partitions_the_readings_by_year_keeping_every_row_key_and_grant_and_back(
    before_partitioning: Engine,
) -> None:
    engine = before_partitioning
    before = _shape(engine)
    assert before["rows"][0] == 2 * 147 + 1  # 1,461 days of 2023-2026, a reading every ten days
    assert before["grants"] == [("SELECT", True)]

    # To the head, not just this migration: the models the drift check compares with are the head's.
    _migrate(engine, command.upgrade, "head")

    assert _relkind(engine) == "p"
    assert _shape(engine) == before
    with engine.connect() as connection:
        # The years that hold rows, not the twenty-odd empty ones between 2001 and 2023.
        assert partition_names(connection) == {"reading_2001", "reading_2023", "reading_2024", "reading_2025"} | {
            "reading_2026",
            "reading_default",
        }
        stored_in = _partitions_holding(connection)
    assert len(stored_in) == 147 + 1
    assert all(partition == f"reading_{taken_at.astimezone(UTC).year}" for taken_at, partition in stored_in.items())
    assert schema_drift(engine) == [], "autogenerate sees the partitions as tables no model has"

    with engine.connect() as connection:  # the primary key still refuses a second (point, taken_at)
        with pytest.raises(IntegrityError, match="reading_2025_pkey"), connection.begin_nested():
            connection.exec_driver_sql(
                "INSERT INTO reading (point_id, taken_at, value, state, source) "
                "SELECT point_id, taken_at, 0, 'normal', 'api' FROM reading WHERE taken_at > '2025-06-01' LIMIT 1"
            )
        connection.exec_driver_sql("DELETE FROM measurement_point WHERE code = 'PT-B'")  # its readings go with it
        assert connection.exec_driver_sql("SELECT count(*) FROM reading").scalar() == 147 + 1
        connection.rollback()

    _migrate(engine, command.downgrade, f"{PARTITIONING}-1")

    assert _relkind(engine) == "r"
    assert _shape(engine) == before
    with engine.connect() as connection:
        assert partition_names(connection) == set()


# --- Partitions ahead ---------------------------------------------------------------------


@ON_POSTGRESQL
@pytest.mark.postgres
def test_a_reading_no_year_covers_lands_in_default_and_moves_into_its_year_once_created(
    session: Session, make_point: MakePoint
) -> None:
    point = make_point()
    far, old = datetime(2031, 5, 1, 6, 0, tzinfo=UTC), datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
    session.add_all([_reading(point, far), _reading(point, old)])
    session.flush()
    connection = session.connection()
    assert _partitions_holding(connection) == {far: "reading_default", old: "reading_default"}

    report = ensure_reading_partitions(session, date(2029, 6, 1), 2)

    assert report == PartitionReport(created=["reading_2029", "reading_2030", "reading_2031"], moved=1)
    # Years before the oldest partition are not made up: 2026's reading stays in DEFAULT.
    assert _partitions_holding(connection) == {far: "reading_2031", old: "reading_default"}
    assert ensure_reading_partitions(session, date(2029, 12, 31), 2) == PartitionReport(), "idempotent"
    assert ensure_reading_partitions(session, date(2030, 1, 1), 2).created == ["reading_2032"]
    # A scheduler stopped for years: the years since the newest partition are filled in.
    assert ensure_reading_partitions(session, date(2035, 1, 1), 1).created == [
        f"reading_{y}" for y in range(2033, 2037)
    ]
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(_reading(point, far, value=2.0))
    session.add(_reading(point, far + timedelta(days=400)))  # 2032, into its new partition
    session.flush()
    assert _partitions_holding(connection)[far + timedelta(days=400)] == "reading_2032"


@ON_POSTGRESQL
@pytest.mark.postgres
def test_the_scheduler_pass_creates_the_coming_years(session: Session, cli_in_test_session: CliRunner) -> None:
    result = cli_in_test_session.invoke(cli.app, ["scheduler", "--once", "--today", "2030-03-10"])

    assert result.exit_code == 0, result.output
    assert "readings partitions created: reading_2030, reading_2031, reading_2032" in result.output
    assert {"reading_2030", "reading_2031", "reading_2032"} <= partition_names(session.connection())


@ON_POSTGRESQL
@pytest.mark.postgres
def test_db_upgrade_creates_the_coming_years(
    session: Session, cli_in_test_session: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("maintenance.db.plant_today", lambda: date(2035, 1, 2))

    result = cli_in_test_session.invoke(cli.app, ["db", "upgrade"])

    assert result.exit_code == 0, result.output
    assert "readings partitions created: reading_2035, reading_2036, reading_2037" in result.output


@ON_POSTGRESQL
@pytest.mark.postgres
def test_a_query_by_point_and_time_range_reads_only_the_partitions_of_its_years(
    session: Session, make_point: MakePoint
) -> None:
    point = make_point()
    ensure_reading_partitions(session, date(2024, 1, 1), 4)

    def read(start: datetime, end: datetime) -> set[str]:
        query = select(Reading).where(
            col(Reading.point_id) == point.id, col(Reading.taken_at) >= start, col(Reading.taken_at) < end
        )
        (statement,) = statements_of(session, lambda: session.scalars(query).all())
        return relations_read(session, statement)

    assert read(datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 6, 1, tzinfo=UTC)) == {"reading_2025"}
    assert read(datetime(2025, 12, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)) == {
        "reading_2025",
        "reading_2026",
    }
    # Outside every year partition only DEFAULT can hold the rows.
    assert read(datetime(2040, 1, 1, tzinfo=UTC), datetime(2041, 1, 1, tzinfo=UTC)) == {"reading_default"}
