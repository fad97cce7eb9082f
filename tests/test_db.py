"""SQLite transactions: writers start with BEGIN IMMEDIATE, page reads with a deferred
transaction that never blocks a writer (a long export must not make saves wait), and the
requests of a process that write take turns without holding a worker thread while they wait."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Coroutine
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import anyio.to_thread
import httpx2
import pytest
from fastapi import FastAPI
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import OperationalError

from maintenance.db import READ_ONLY, build_engine, parse_plant_datetime
from maintenance.org.models import Role
from tests import factories
from tests.test_login_throttle import committed_user, served, sqlite_database  # noqa: F401 (a fixture)


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


_CSRF = re.compile(r'"X-CSRF-Token": "([^"]+)"')
T = TypeVar("T")


def run_apart(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on a thread of its own: a browser test earlier in this worker leaves
    Playwright's event loop running on the main thread, where asyncio.run() refuses to start."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


async def _signed_in(app: FastAPI, username: str) -> tuple[httpx2.AsyncClient, str]:
    """A client of ``app`` in its event loop, logged in as ``username``, and its CSRF token."""
    client = httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://testserver")
    login_page = await client.get("/login")
    form = {"username": username, "password": factories.PASSWORD, "next": "/"}
    logged_in = await client.post("/login", data=form, headers={"X-CSRF-Token": _CSRF.findall(login_page.text)[0]})
    assert logged_in.status_code == 303
    home = await client.get("/")
    return client, _CSRF.findall(home.text)[0]


def test_two_saves_at_once_on_one_worker_thread_both_succeed(
    sqlite_database: Engine,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A save takes SQLite's write lock at its first query and needs a worker thread for each
    later step (the route, the commit). A second save waiting for the lock on the only thread
    left stalled the first one until the busy timeout, and the second failed with "database is
    locked" (the load test's 500s and 10 s tails, with the 40 threads of the pool all waiting).
    Waiting for its turn in the event loop, the second save holds no thread: both succeed."""
    app = served(sqlite_database, monkeypatch)
    usernames = [committed_user(sqlite_database).username for _ in range(2)]

    async def save_at_once() -> list[int]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = 1
        signed_in = [await _signed_in(app, username) for username in usernames]
        try:
            # Logging out writes: it ends every session of the user (a new session epoch).
            answers = await asyncio.gather(
                *(client.post("/logout", headers={"X-CSRF-Token": token}) for client, token in signed_in)
            )
        finally:
            for client, _token in signed_in:
                await client.aclose()
        return [answer.status_code for answer in answers]

    assert run_apart(save_at_once()) == [303, 303]


@pytest.mark.parametrize("typed", ["0001-01-01T00:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_a_time_with_no_utc_equivalent_is_not_a_date_time(typed: str) -> None:
    """Valid as typed, but outside the calendar in UTC: refused as any bad input is (it was an
    OverflowError, a 500 on the reading, order and meter forms)."""
    with pytest.raises(ValueError, match="date-time"):
        parse_plant_datetime(typed)


def test_a_slow_upload_is_received_before_its_request_waits_for_the_writer_turn(
    sqlite_database: Engine,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A phone on a weak signal uploading its outbox (or a collector its batch of readings) must
    not hold SQLite's one writer turn while its body trickles in: the body is read before the
    request takes its turn, so a colleague's save goes through meanwhile."""
    app = served(sqlite_database, monkeypatch)
    uploader, colleague = (committed_user(sqlite_database, role=Role.ENGINEER).username for _ in range(2))

    async def save_while_uploading() -> tuple[int, int]:
        (slow, slow_token), (other, other_token) = [await _signed_in(app, name) for name in (uploader, colleague)]
        rest_of_body = asyncio.Event()

        async def trickle() -> AsyncIterator[bytes]:
            yield b'{"entries": '
            await rest_of_body.wait()
            yield b"[]}"

        try:
            headers = {"X-CSRF-Token": slow_token, "Content-Type": "application/json"}
            upload = asyncio.create_task(slow.post("/rounds/sync", content=trickle(), headers=headers))
            await asyncio.sleep(0)  # the upload has begun and waits for the rest of its body
            # Logging out writes (a new session epoch); a deadlock guard, not a measurement.
            saved = await asyncio.wait_for(other.post("/logout", headers={"X-CSRF-Token": other_token}), 60)
            rest_of_body.set()
            uploaded = await upload
        finally:
            for client in (slow, other):
                await client.aclose()
        return saved.status_code, uploaded.status_code

    # The colleague saved; the outbox (empty) is answered once its whole body came.
    assert run_apart(save_while_uploading()) == (303, 422)
