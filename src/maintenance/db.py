"""Engine, the request-scoped session and SQLite setup.

The session dependency is the transaction boundary: services only ``flush``;
the request (or CLI command) commits once on success and rolls back on error.
"""

from __future__ import annotations

import asyncio
import time as time_module
import weakref
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from pydantic import Field as PydanticField
from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Engine,
    ForeignKey,
    Integer,
    MetaData,
    TypeDecorator,
    event,
    null,
)
from sqlalchemy.engine import make_url
from sqlalchemy.orm import declared_attr
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, SQLModel, create_engine

from maintenance.config import get_settings

# Named constraints so Alembic (batch mode on SQLite included) can alter them later.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata = MetaData(naming_convention=NAMING_CONVENTION)
# Execution option of an engine whose transactions only read (see _configure_sqlite).
READ_ONLY = "maintenance_read_only"
metadata = SQLModel.metadata


# The one clock. Everything that needs "now" or "today" asks it (services take the value as an
# argument), so the demo, the scheduler and the tests give the same answer on any calendar day.
_PROCESS_STARTED = time_module.monotonic()


def utcnow() -> datetime:
    """Now, in UTC: the real time, or ``MAINTENANCE_CLOCK_START`` plus the time this process has run."""
    start = get_settings().clock_start
    if start is None:
        return datetime.now(UTC)
    return start.astimezone(UTC) + timedelta(seconds=time_module.monotonic() - _PROCESS_STARTED)


def plant_timezone() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def plant_now() -> datetime:
    """Now on the plant's wall clock."""
    return utcnow().astimezone(plant_timezone())


def plant_today() -> date:
    """Today on the plant's wall clock (what users mean by a date)."""
    return plant_now().date()


def contains_text(column: Any, text: str) -> Any:
    """SQL "``column`` contains ``text``", ignoring case, with the user's ``%`` and ``_`` matched
    as themselves rather than as wildcards."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")


@dataclass(frozen=True)
class WorkshopSplit:
    """How an aggregate query splits its rows among workshops: for the plant (``workshop_ids``
    None) into one group keyed None; else by ``column`` (the rows' workshop), limited to
    ``workshop_ids``, a group each (:attr:`keys`, empty when no row falls in it). Select
    :attr:`key` first, filter with :attr:`where`, group by :attr:`group_by`."""

    column: Any
    workshop_ids: Sequence[int] | None

    @classmethod
    def of(cls, column: Any, workshop_id: int | None) -> WorkshopSplit:
        """The plant, or one workshop as a group of one."""
        return cls(column, None if workshop_id is None else [workshop_id])

    @property
    def key(self) -> Any:
        return null() if self.workshop_ids is None else self.column

    @property
    def group_by(self) -> list[Any]:
        return [] if self.workshop_ids is None else [self.column]

    @property
    def where(self) -> list[Any]:
        return [] if self.workshop_ids is None else [self.column.in_(list(self.workshop_ids))]

    @property
    def keys(self) -> list[int | None]:
        return [None] if self.workshop_ids is None else list(self.workshop_ids)


def plant_day_start(day: date) -> datetime:
    """The UTC instant at which ``day`` begins at the plant."""
    return datetime.combine(day, time.min, tzinfo=plant_timezone()).astimezone(UTC)


def parse_plant_datetime(text: str) -> datetime:
    """An ISO date-time as typed in a form (``datetime-local``) or sent without an offset, read on
    the plant's wall clock; with an offset it is taken as given. Returned in UTC; ValueError if
    it is not a date-time."""
    parsed = datetime.fromisoformat(text.strip())
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=plant_timezone())
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # 1 January of year 1 east of Greenwich, 31 December 9999 west of it
        raise ValueError(f"{text!r} is not a date-time in UTC's calendar") from None


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every engine.

    SQLite has no timezone type and hands back naive values; this stores UTC and
    always returns aware datetimes, so code never compares naive with aware.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC is required")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def strip_text(value: object) -> object:
    """A ``mode="before"`` field validator: surrounding whitespace is never part of a name or code."""
    return value.strip() if isinstance(value, str) else value


# Ids are PostgreSQL integers (32 bits; SQLite's are 64): a larger number names no record and,
# sent to the database, overflows its parameter (a 500). The id parameters of routes, the ids of
# list filters and the ids a form names are this type, so such a number is refused before any query.
MAX_RECORD_ID = 2_147_483_647
RecordId = Annotated[int, PydanticField(ge=1, le=MAX_RECORD_ID)]


def fk_column(target: str, *, nullable: bool, ondelete: str = "RESTRICT", index: bool = True) -> Column[int]:
    """An integer foreign-key column (``sa_column=``); RESTRICT by default: records are not
    deleted from under the rows that refer to them."""
    return Column(Integer, ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index)


# --- Optimistic locking ------------------------------------------------------------------


class VersionChecked:
    """Mixin of a table model edited from forms, with an integer ``version`` column: every UPDATE
    of its row, by any code path, carries ``WHERE version = <the version this session loaded>``
    (SQLAlchemy's ``version_id_col``), so of two transactions that loaded the same version only
    the first one's UPDATE matches; the later one updates no row and SQLAlchemy raises
    ``StaleDataError`` (on PostgreSQL an UPDATE waiting for the first one's row lock re-checks
    the version once that commits). The services still decide when the version moves on (they
    add 1 on every edit; ``version_id_generator`` is off): writes that are not edits, such as the
    latest reading of a point, leave it, so nobody's open form goes stale because of them.
    Edits run in :func:`versioned_write`, which turns the error into the domain's conflict."""

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.__table__.c.version, "version_id_generator": False}  # type: ignore[attr-defined]


@contextmanager
def versioned_write(session: Session, record: SQLModel, conflict: Callable[[], Exception]) -> Iterator[None]:
    """Changes made in the block to ``record`` (a :class:`VersionChecked` model) and to others
    are flushed in a SAVEPOINT on leaving it. If a row no longer has the version this session
    loaded (someone saved it meanwhile), ``conflict()`` is raised instead of ``StaleDataError``:
    the savepoint is rolled back, the objects changed in it are expired and ``record`` is read
    again as stored (for the conflict page's comparison), and the request's transaction stays
    usable. Changes pending before the block are flushed before the savepoint begins."""
    try:
        with session.begin_nested():
            yield
    except StaleDataError:
        session.refresh(record)
        raise conflict() from None


def _configure_sqlite(engine: Engine) -> None:
    """WAL, foreign keys and a busy timeout on every connection.

    pysqlite's own transaction handling is switched off so SAVEPOINTs work
    (SQLAlchemy docs, "Transactions with SQLite and the sqlite3 driver"), and
    every transaction starts with BEGIN IMMEDIATE: a deferred transaction that
    reads and later writes fails with SQLITE_BUSY when another writer committed
    in between, and the busy timeout cannot help it (Django offers the same
    "IMMEDIATE" transaction mode for this reason).

    Sessions bound with the ``READ_ONLY`` execution option (page GETs) start a
    deferred transaction instead: in WAL mode it never takes the write lock, so a
    long export or report does not make everyone's saves wait behind it.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN DEFERRED" if read_only else "BEGIN IMMEDIATE")


def build_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True)


def partition_names(connection: Connection) -> set[str]:
    """The tables of the connection's schema that are partitions of another table (PostgreSQL's
    declarative partitioning: ``reading_2026`` of ``reading``; none on SQLite). The models, the
    schema comparisons and the backup's row counts know the partitioned table only, which holds
    the rows of all its partitions."""
    if connection.dialect.name != "postgresql":
        return set()
    rows = connection.exec_driver_sql(
        "SELECT relname FROM pg_class WHERE relispartition AND relkind IN ('r', 'p') "
        "AND relnamespace = current_schema()::regnamespace"
    )
    return set(rows.scalars())


def without_partitions(connection: Connection) -> Callable[[str | None, str, Mapping[str, str | None]], bool]:
    """An ``include_name`` hook for Alembic's autogenerate that leaves out the partitions
    (:func:`partition_names`): they are not models, and the partitioned table stands for them.
    The partitions are read at the first call, inside the comparison's transaction (a query made
    before Alembic begins its own would leave that one uncommitted)."""
    partitions: list[set[str]] = []

    def include(name: str | None, type_: str, _parents: Mapping[str, str | None]) -> bool:
        if type_ != "table":
            return True
        if not partitions:
            partitions.append(partition_names(connection))
        return name not in partitions[0]

    return include


@lru_cache
def get_engine() -> Engine:
    return build_engine(get_settings().database_url)


def _cli_transaction(*, read_only: bool = False) -> Iterator[Session]:
    """Commit on success, roll back on any error."""
    bind = get_engine().execution_options(**{READ_ONLY: True}) if read_only else get_engine()
    with Session(bind, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def _reads_only(request: Request) -> bool:
    """Page GETs only read (on SQLite they take no write lock); API GETs record the token's use,
    so they write."""
    return request.method in ("GET", "HEAD") and not request.url.path.startswith("/api/")


def get_session(request: Request) -> Iterator[Session]:
    """One session per request, open until the response has been sent (a streamed export
    still reads from it)."""
    bind = get_engine().execution_options(**{READ_ONLY: True}) if _reads_only(request) else get_engine()
    with Session(bind, expire_on_commit=False) as session:
        yield session


# One writer's turn at a time per process and event loop (each uvicorn worker has one of each).
_WRITER_TURNS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


async def writer_turn(request: Request, session: Annotated[Session, Depends(get_session)]) -> AsyncIterator[None]:
    """On SQLite, a request that writes waits here, in the event loop, for the requests of this
    process that write before it, and holds its turn until its transaction has ended.

    SQLite has one write lock. Without the turn, every such request would wait for it in
    ``BEGIN IMMEDIATE`` (the busy timeout) on a worker thread of the pool that runs the sync
    dependencies and routes, and the request holding the lock needs that pool too for each of
    its next steps: with the pool's threads all taken by waiters, the holder stalls until
    waiters give up after the busy timeout, answering 500 "database is locked". The busy
    handler's waiting is not first come first served either (it sleeps and retries), so one
    writer could wait out the timeout while later ones pass. The turn is an ``asyncio.Lock``:
    waiting takes no thread, and the turns are taken in order of arrival. Other processes (the
    scheduler, the CLI) still meet the lock in the busy timeout."""
    bind = session.get_bind()
    if _reads_only(request) or bind.dialect.name != "sqlite":
        yield
        return
    loop = asyncio.get_running_loop()
    turn = _WRITER_TURNS.setdefault(loop, asyncio.Lock())
    async with turn:
        yield


def request_transaction(
    _turn: Annotated[None, Depends(writer_turn, scope="function")],
    session: Annotated[Session, Depends(get_session)],
) -> Iterator[Session]:
    """The request's transaction: committed when the route returns and *before* the response
    is sent, so nothing is acknowledged that is not stored (and the next request sees it);
    rolled back on any error. On SQLite a request that writes runs it in its turn
    (:func:`writer_turn`)."""
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


SessionDep = Annotated[Session, Depends(request_transaction, scope="function")]
# The request's session without the request's transaction, for a route that runs short ones of
# its own with :func:`transaction` (the login checks a password between a read and a write).
UnmanagedSessionDep = Annotated[Session, Depends(get_session)]


@contextmanager
def transaction(session: Session, *, read_only: bool = False) -> Iterator[Session]:
    """One short transaction on ``session``: committed on leaving, rolled back on an error, so that
    slow work after it runs with no transaction open (on SQLite a write transaction holds the
    database's one write lock; on PostgreSQL an open transaction holds its row locks).
    ``read_only`` begins it deferred on SQLite, taking no write lock at all. A transaction already
    open on the session (the tests share theirs with the requests) is committed first."""
    if session.in_transaction():
        session.commit()
    if read_only:
        session.connection(execution_options={READ_ONLY: True})
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


# The CLI's transaction: the same commit/rollback rule outside a request.
session_scope = contextmanager(_cli_transaction)
