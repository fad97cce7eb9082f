"""A plant served by a live server that the tests kill (-9) and start again.

The plant is a database of its own (``tests/live_server.live_database``: a SQLite file, or a
PostgreSQL database when the suite runs on PostgreSQL), migrated and filled here in a second; the
server is uvicorn in a subprocess (``start_server``). :class:`Watch` looks at the database from
outside while the server works, to kill it at a chosen moment rather than after a sleep:

- on PostgreSQL, ``pg_stat_activity`` shows a server backend whose transaction has written
  (``backend_xid`` is assigned at a transaction's first write) and is still open;
- on SQLite, a writer holds the database's one write lock for its whole transaction (every write
  transaction begins IMMEDIATE), so ``BEGIN IMMEDIATE`` without a busy timeout fails while it is
  open; and an uncommitted transaction larger than the page cache spills its pages into the
  ``-wal`` file, which grows while readers still see nothing of it.

The server is first stopped (SIGSTOP), the state checked (transaction open, nothing of it
committed), then killed (SIGKILL): what the test asserts afterwards is the state that was killed.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from maintenance.audit import service as audit_service
from maintenance.audit.service import SystemActor
from maintenance.db import build_engine
from maintenance.monitoring import service as monitoring_service
from maintenance.monitoring.choices import Quantity
from maintenance.monitoring.models import PointCreate
from maintenance.org import service as org_service
from maintenance.org.models import Role, User
from maintenance.org.permissions import EVERY_CAPABILITY
from tests import factories
from tests.conftest import login, migrate
from tests.live_server import ServerOutput, live_database, server_env, start_server, stop_server

SYSTEM = SystemActor(username="test", capabilities=EVERY_CAPABILITY)
WAIT_S = 60.0
POINTS = ("VIB-1", "VIB-2", "VIB-3", "VIB-4")
WARNING, ALARM = 4.5, 7.1


def wait_until(condition: Callable[[], Any], what: str, timeout: float = WAIT_S, poll: float = 0.005) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(poll)
    return value


@dataclass
class Server:
    """The served app; :meth:`kill` is ``kill -9`` (after freezing it for a look), :meth:`start` a restart."""

    env: dict[str, str]
    log_dir: Path
    workers: int | None = None
    process: subprocess.Popen[str] | None = None
    output: ServerOutput | None = None
    url: str = ""

    def start(self) -> str:
        self.process, self.output, self.url = start_server(self.env, self.log_dir, workers=self.workers)
        return self.url

    def freeze(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def kill(self) -> None:
        assert self.process is not None
        assert self.output is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)
        assert self.process.returncode == -signal.SIGKILL
        self.output.join(timeout=5)
        self.process = self.output = None

    def stop(self) -> None:
        if self.process is not None and self.output is not None:
            self.process.send_signal(signal.SIGCONT)  # frozen when a check before the kill failed
            stop_server(self.process, self.output)
            self.process = self.output = None


@dataclass
class Watch:
    """The plant's database seen from outside the server (committed data only)."""

    url: str
    engine: Any = field(init=False)

    def __post_init__(self) -> None:
        self.engine = create_engine(self.url, poolclass=NullPool)

    @property
    def postgres(self) -> bool:
        return self.url.startswith("postgresql")

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as connection:
            return connection.execute(text(sql), params).scalar()

    def rows(self, sql: str, **params: Any) -> list[tuple[Any, ...]]:
        with self.engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql), params)]

    def wal_size(self) -> int:
        """Bytes in the SQLite file's write-ahead log (0 on PostgreSQL or without one)."""
        if self.postgres:
            return 0
        wal = Path(f"{make_url(self.url).database}-wal")
        return wal.stat().st_size if wal.exists() else 0

    def write_transaction_open(self) -> bool:
        """Whether a server transaction that writes is open: on PostgreSQL one that has written."""
        if self.postgres:
            return bool(
                self.scalar(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL"
                )
            )
        with closing(sqlite3.connect(str(make_url(self.url).database), timeout=0, isolation_level=None)) as probe:
            try:
                probe.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as error:
                if "locked" not in str(error):
                    raise
                return True
            probe.execute("ROLLBACK")
            return False

    def audit_chain_ok(self) -> bool:
        engine = build_engine(self.url)
        try:
            with Session(engine) as session:
                report = audit_service.verify_chain(session)
        finally:
            engine.dispose()
        return report.ok and report.rows > 0

    def dispose(self) -> None:
        self.engine.dispose()


@dataclass
class Plant:
    server: Server
    watch: Watch
    manager: User
    token: str

    def sign_in(self) -> tuple[httpx2.Client, str]:
        """A browser signed in as the manager on the running server, and its session's CSRF token."""
        client = httpx2.Client(base_url=self.server.url, follow_redirects=False, timeout=60)
        return client, login(client, self.manager)  # type: ignore[arg-type]


def seed(url: str) -> tuple[User, str]:
    """A workshop ``SYN`` with an asset and its vibration points (:data:`POINTS`), a manager and
    a token of theirs sending readings; (the manager, the token)."""
    engine = migrate(build_engine(url))
    try:
        with Session(engine, expire_on_commit=False) as session:
            factories.bind(session)
            workshop = factories.WorkshopFactory(code="SYN", name="合成车间")
            asset = factories.AssetFactory(workshop_id=workshop.id, tag="P-1101A")
            for code in POINTS:
                monitoring_service.create_point(
                    session,
                    PointCreate(
                        code=code,
                        asset_id=asset.id,
                        name="驱动端振动",
                        quantity=Quantity.VIBRATION,
                        warning_high=WARNING,
                        alarm_high=ALARM,
                    ),
                    actor=SYSTEM,
                )
            manager = factories.UserFactory(role=Role.MANAGER)
            _, token = org_service.create_api_token(
                session, manager, name="collector", scopes=["readings:write"], actor=SYSTEM
            )
            session.commit()
            return manager, token
    finally:
        engine.dispose()


@pytest.fixture
def plant(tmp_path: Path) -> Iterator[Plant]:
    with live_database(tmp_path) as url:
        manager, token = seed(url)
        server = Server(server_env(tmp_path, url), tmp_path)
        watch = Watch(url)
        try:
            yield Plant(server, watch, manager, token)
        finally:
            server.stop()
            watch.dispose()
