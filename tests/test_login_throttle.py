"""Logins under attack: the failed-login lock holds when wrong passwords arrive all at once, the
password is checked with no write transaction open (on SQLite, anonymous visitors must not hold
the one write lock while argon2 runs), and one address cannot try more than a few passwords.

The concurrency tests commit for real, in a database of their own (the usual ``session`` fixture
shares one connection with the requests and rolls back): a SQLite file, or on PostgreSQL (when
``MAINTENANCE_TEST_DATABASE_URL`` names a server) the conftest's ``committed_postgresql``.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from alembic import command
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy import Engine, func, select, text
from sqlmodel import Session, col

from maintenance import db, security
from maintenance.cli import alembic_config
from maintenance.config import get_settings
from maintenance.db import build_engine, utcnow
from maintenance.main import create_app
from maintenance.org import logins
from maintenance.org.models import LoginAttempt, LoginThrottle, Role, User
from tests import factories
from tests.conftest import csrf_token

# Argon2's cheapest parameters: these tests are about locks, not hashing cost (verification
# reads the parameters from the hash).
QUICK_PASSWORD_HASH = Argon2Hasher(time_cost=1, memory_cost=8, parallelism=1).hash(factories.PASSWORD)
WRONG = "Wrong username or password."
LOCKED = "Too many failed logins."
ADDRESS_LOCKED = "Too many failed logins from your address."
_ALERT = re.compile(r'<div class="alert alert-danger" role="alert">([^<]*)</div>')


def login_message(response: Response) -> str:
    match = _ALERT.search(response.text)
    return match.group(1).strip() if match else ""


def post_login(client: TestClient, username: str, password: str) -> Response:
    return client.post(
        "/login", data={"username": username, "password": password, "next": "/", "csrf_token": csrf_token(client)}
    )


def browser(app: FastAPI, address: str) -> TestClient:
    return TestClient(
        app,
        base_url="http://testserver",
        follow_redirects=False,
        headers={"Accept-Language": "en"},
        client=(address, 50000),
    )


# --- A database of their own, committed for real ------------------------------------------


def _migrated(engine: Engine) -> Engine:
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return engine


@pytest.fixture
def sqlite_database(tmp_path: Path) -> Iterator[Engine]:
    engine = _migrated(build_engine(f"sqlite:///{tmp_path / 'logins.db'}"))
    yield engine
    engine.dispose()


def served(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> FastAPI:
    """The app as served: a session (and transactions) of its own per request, on ``engine``."""
    monkeypatch.setattr(db, "get_engine", lambda: engine)
    return create_app()


def committed_user(engine: Engine, **fields: object) -> User:
    with Session(engine, expire_on_commit=False) as setup:
        factories.bind(setup)
        user: User = factories.UserFactory(password_hash=QUICK_PASSWORD_HASH, **fields)
        setup.commit()
    return user


def wrap_verify(monkeypatch: pytest.MonkeyPatch, before: Callable[[], None]) -> None:
    """Run ``before`` inside every password check (real and dummy), then check as usual."""
    original = security._password_hash.verify

    def verify(password: str, password_hash: str) -> bool:
        before()
        return original(password, password_hash)

    monkeypatch.setattr(security._password_hash, "verify", verify)


# --- Thirty wrong passwords at once -------------------------------------------------------


def _thirty_wrong_passwords_at_once(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    limit = get_settings().login_max_failures
    user = committed_user(engine, role=Role.ENGINEER)
    app = served(engine, monkeypatch)
    # Each check takes a while, as argon2 does with real parameters: the attempts overlap.
    wrap_verify(monkeypatch, lambda: time.sleep(0.2))
    attempts = 30
    barrier = threading.Barrier(attempts)
    answers: list[tuple[int, str]] = []
    errors: list[BaseException] = []

    def attempt(number: int) -> None:
        try:
            # A botnet: every attempt from an address of its own, so only the username's lock applies.
            with browser(app, f"10.0.{number}.1") as client:
                token = csrf_token(client)
                barrier.wait(timeout=60)
                response = client.post(
                    "/login",
                    data={"username": user.username, "password": f"guess {number}", "next": "/", "csrf_token": token},
                )
                answers.append((response.status_code, login_message(response)))
        except BaseException as error:  # reported below
            errors.append(error)

    with browser(app, "10.1.0.1") as warm_up:
        warm_up.get("/healthz")
    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert Counter(status for status, _ in answers) == {401: attempts}
    # Exactly `limit` guesses were judged; every later one was refused as locked, whatever it was.
    judged = [message for _, message in answers if message == WRONG]
    refused = [message for _, message in answers if message.startswith(LOCKED)]
    assert (len(judged), len(refused)) == (limit, attempts - limit)
    with Session(engine) as check:
        recorded = check.scalar(
            select(func.count())
            .select_from(LoginAttempt)
            .where(col(LoginAttempt.username) == user.username, col(LoginAttempt.succeeded).is_(False))
        )
        throttle = check.get(LoginThrottle, ("username", user.username))
    # Every failure checked was counted (none lost to a concurrent one), and counted once.
    assert throttle is not None
    assert throttle.failures == recorded
    assert limit <= throttle.failures <= attempts
    with browser(app, "10.2.0.1") as owner:
        response = post_login(owner, user.username, factories.PASSWORD)
    assert (response.status_code, login_message(response).startswith(LOCKED)) == (401, True)


@pytest.mark.postgres
def test_thirty_concurrent_wrong_passwords_lock_the_user_after_exactly_the_limit_on_postgresql(
    committed_postgresql: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _thirty_wrong_passwords_at_once(committed_postgresql, monkeypatch)


def test_thirty_concurrent_wrong_passwords_lock_the_user_after_exactly_the_limit_on_sqlite(
    sqlite_database: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    _thirty_wrong_passwords_at_once(sqlite_database, monkeypatch)


# --- The password is checked with no write transaction open (SQLite) ----------------------


def test_the_password_is_checked_while_nobody_holds_the_write_lock(
    sqlite_database: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite a write transaction holds the database's one write lock: if a login held it
    while argon2 runs, a crowd posting bad logins would make every engineer's save wait (and
    fail after the busy timeout). A writer that will not wait at all must get the lock while
    the password is being checked."""
    user = committed_user(sqlite_database)
    app = served(sqlite_database, monkeypatch)
    database = sqlite_database.url.database
    assert database is not None
    writer_got_the_lock: list[bool | str] = []

    def write_meanwhile() -> None:
        probe = sqlite3.connect(database, timeout=0, isolation_level=None)
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            writer_got_the_lock.append(True)
        except sqlite3.OperationalError as error:
            writer_got_the_lock.append(str(error))
        finally:
            probe.close()

    wrap_verify(monkeypatch, write_meanwhile)

    with browser(app, "10.3.0.1") as client:
        wrong = post_login(client, user.username, "not the password")
        unknown = post_login(client, "nobody-by-this-name", "whatever")
        right = post_login(client, user.username, factories.PASSWORD)

    assert [wrong.status_code, unknown.status_code, right.status_code] == [401, 401, 303]
    assert writer_got_the_lock == [True, True, True]


def test_a_slow_password_check_does_not_hold_up_a_writer(
    sqlite_database: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = committed_user(sqlite_database)
    app = served(sqlite_database, monkeypatch)
    checking = threading.Event()
    wrap_verify(monkeypatch, lambda: (checking.set(), time.sleep(0.5)))
    answers: list[int] = []

    def log_in() -> None:
        with browser(app, "10.4.0.1") as client:
            answers.append(post_login(client, user.username, "not the password").status_code)

    thread = threading.Thread(target=log_in)
    thread.start()
    assert checking.wait(timeout=30)
    started = time.monotonic()
    with sqlite_database.begin() as connection:  # an engineer's save
        connection.execute(text("UPDATE app_user SET full_name = 'saved meanwhile' WHERE id = :id"), {"id": user.id})
    waited = time.monotonic() - started
    thread.join(timeout=30)

    assert answers == [401]
    assert waited < 0.4  # the check sleeps 0.5 s


# --- One address, many usernames ----------------------------------------------------------


@pytest.fixture
def address_limit(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(get_settings(), "login_address_max_failures", 3)
    return 3


def test_an_address_with_too_many_failures_is_refused_with_429_even_with_a_right_password(
    app: FastAPI, engineer: User, address_limit: int
) -> None:
    with browser(app, "10.5.0.1") as attacker:
        for number in range(address_limit):
            assert post_login(attacker, f"user{number}", "guess").status_code == 401

        response = post_login(attacker, engineer.username, factories.PASSWORD)

        assert response.status_code == 429
        assert login_message(response).startswith(ADDRESS_LOCKED)
        assert attacker.get("/").status_code == 303
    with browser(app, "10.5.0.2") as colleague:
        # Another address is not affected, nor is the user (no username reached its limit).
        assert post_login(colleague, engineer.username, factories.PASSWORD).status_code == 303


def test_a_successful_login_does_not_clear_the_addresss_failures(
    app: FastAPI, engineer: User, admin: User, address_limit: int
) -> None:
    """Otherwise an attacker with one account of their own could guess at others without end."""
    with browser(app, "10.6.0.1") as attacker:
        post_login(attacker, admin.username, "guess 1")
        post_login(attacker, admin.username, "guess 2")
        assert post_login(attacker, engineer.username, factories.PASSWORD).status_code == 303
        attacker.cookies.clear()
        post_login(attacker, admin.username, "guess 3")

        response = post_login(attacker, admin.username, factories.PASSWORD)

    assert response.status_code == 429


def test_the_address_limit_is_a_setting_of_twenty_by_default() -> None:
    from maintenance.config import Settings

    assert Settings().login_address_max_failures == 20


# --- The window ---------------------------------------------------------------------------


def test_locks_end_when_the_window_has_passed(
    app: FastAPI, engineer: User, address_limit: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = get_settings()
    with browser(app, "10.7.0.1") as client:
        for _ in range(max(settings.login_max_failures, address_limit)):
            post_login(client, engineer.username, "not the password")
        locked = post_login(client, engineer.username, factories.PASSWORD)
        assert locked.status_code in (401, 429)
        assert f"Try again in {settings.login_window_minutes} minutes." in login_message(locked)

        later = utcnow() + timedelta(minutes=settings.login_window_minutes, seconds=1)
        monkeypatch.setattr(logins, "utcnow", lambda: later)

        assert post_login(client, engineer.username, factories.PASSWORD).status_code == 303
