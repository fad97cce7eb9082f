"""Readings partitioned by year on PostgreSQL

``reading`` is the one table that grows without bound (10 million rows over 10 years for a large
plant). On PostgreSQL it becomes a table PARTITIONED BY RANGE (taken_at): one partition per UTC
calendar year (``reading_2024`` …) and a DEFAULT partition (``reading_default``) for any row no
year covers, so an insert never fails. Yearly rather than monthly: a year of a large plant is
about a million rows, which one B-tree serves well, and the trend, alarm and KPI queries ask for
weeks to years of one point; monthly partitions would make 120 tables for 10 years and cost
planning time on every query spanning many months, for no better pruning. Old years can be
detached or dropped as a whole.

The migration creates the partitions of the years that hold rows (not every year between: one
mistyped reading of 1926 makes one partition, not a hundred) and the DEFAULT partition. It reads no clock, so it
builds the same schema whenever it runs: the coming years are created by ``maintenance db
upgrade`` and by each scheduler pass (``ensure_reading_partitions``, which moves any row the
DEFAULT partition holds for a new year into it).

The rows move in SQL, in the migration's transaction: the table is renamed aside, the new one
created with the same columns, the rows copied with INSERT … SELECT, then the same primary key (it
includes the partition key, as PostgreSQL requires) and foreign keys (to measurement_point ON
DELETE CASCADE, to app_user) added, and no other index, as before; the old table's grants and
owner are given to the new one and the old table dropped. The table is locked meanwhile (a million
rows took 7 s each way on a busy 2-core machine). No other table refers to ``reading``. Downgrade
does the same the other way, back to a plain table with every row.

On SQLite this is a no-op: SQLite has no partitioning, and its reading table stays as it was.

Revision ID: eadc435fdf6d
Revises: 3f8a1c2d9e47
Create Date: 2026-12-06 04:12:07.194006
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "eadc435fdf6d"
down_revision: str | None = "3f8a1c2d9e47"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = "point_id, taken_at, value, state, source, entered_by_id"


def upgrade() -> None:
    _rebuild(partitioned=True)


def downgrade() -> None:
    _rebuild(partitioned=False)


def _rebuild(*, partitioned: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    owner, grants = _owner_and_grants(bind)
    op.rename_table("reading", "reading_old")
    op.execute("ALTER TABLE reading_old RENAME CONSTRAINT pk_reading TO pk_reading_old")
    tables = ["reading"]
    if partitioned:
        _create_reading(postgresql_partition_by="RANGE (taken_at)")
        tables += _create_partitions(bind)
    else:
        _create_reading()
    op.execute(f"INSERT INTO reading ({COLUMNS}) SELECT {COLUMNS} FROM reading_old")  # noqa: S608 (constants)
    _add_keys()
    for privilege, grantee, grantable in grants:
        op.execute(f"GRANT {privilege} ON reading TO {grantee}{' WITH GRANT OPTION' if grantable else ''}")
    if owner is not None:
        for table in tables:
            op.execute(f"ALTER TABLE {table} OWNER TO {owner}")
    op.drop_table("reading_old")
    op.execute("ANALYZE reading")  # autovacuum never analyses a partitioned table itself


def _owner_and_grants(bind: sa.Connection) -> tuple[str | None, list[tuple[str, str, bool]]]:
    """The reading table's owner (quoted; None when it is the user migrating) and its grants,
    as (privilege, quoted grantee or PUBLIC, with grant option)."""
    owner = bind.exec_driver_sql(
        "SELECT quote_ident(pg_get_userbyid(relowner)) FROM pg_class "
        "WHERE oid = 'reading'::regclass AND relowner <> (SELECT oid FROM pg_roles WHERE rolname = current_user)"
    ).scalar()
    grants = bind.exec_driver_sql(
        "SELECT acl.privilege_type, "
        "CASE WHEN acl.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(acl.grantee)) END, "
        "acl.is_grantable "
        "FROM pg_class, aclexplode(pg_class.relacl) AS acl WHERE pg_class.oid = 'reading'::regclass"
    )
    return owner, [(privilege, grantee, grantable) for privilege, grantee, grantable in grants]


def _create_partitions(bind: sa.Connection) -> list[str]:
    """A partition for each UTC year that holds readings, and the DEFAULT one."""
    years = bind.exec_driver_sql(
        "SELECT DISTINCT extract(year FROM taken_at AT TIME ZONE 'UTC')::int FROM reading_old ORDER BY 1"
    ).scalars()
    names = []
    for year in years:
        names.append(f"reading_{year}")
        op.execute(
            f"CREATE TABLE reading_{year} PARTITION OF reading "
            f"FOR VALUES FROM ('{year}-01-01 00:00:00+00') TO ('{year + 1}-01-01 00:00:00+00')"
        )
    op.execute("CREATE TABLE reading_default PARTITION OF reading DEFAULT")
    return [*names, "reading_default"]


def _create_reading(**options: Any) -> None:
    """The table as migration e3daf0627296 made it (written out again: a migration stands alone),
    without its keys: they are added once the rows are in (:func:`_add_keys`)."""
    op.create_table(
        "reading",
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("state", sa.String(length=30), nullable=False),
        sa.Column("source", sa.String(length=30), nullable=False),
        sa.Column("entered_by_id", sa.Integer(), nullable=True),
        **options,
    )


def _add_keys() -> None:
    """The primary key and foreign keys, added after the rows: an index built once from sorted rows
    and a foreign key checked by one join are several times faster than both kept row by row."""
    op.create_primary_key(op.f("pk_reading"), "reading", ["point_id", "taken_at"])
    op.create_foreign_key(
        op.f("fk_reading_point_id_measurement_point"),
        "reading",
        "measurement_point",
        ["point_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_foreign_key(
        op.f("fk_reading_entered_by_id_app_user"), "reading", "app_user", ["entered_by_id"], ["id"], ondelete="RESTRICT"
    )
