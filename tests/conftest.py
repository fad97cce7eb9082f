"""Test database: migrated once per run (as production is, no create_all), then each
test runs inside a transaction that is rolled back, so tests never see each other.

Integration tests run on SQLite by default and on PostgreSQL when
``MAINTENANCE_TEST_DATABASE_URL`` is set (CI gives each run its own database).
"""

from __future__ import annotations

import atexit
import os
import re
import secrets
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _compile_translations() -> None:
    """Compile every catalog whose .mo is missing or older than its .po, as ``make setup`` does
    (``pybabel compile``: fuzzy entries left out), before anything loads a translation: without
    it every page is silently in English and the tests fail far from the cause. Written to a
    temporary file and renamed, so test processes running at once never read half a file."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    catalogs = Path(__file__).resolve().parent.parent / "src/maintenance/i18n"
    for po in sorted(catalogs.glob("*/LC_MESSAGES/messages.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalog = read_po(source, locale=po.parent.parent.name, domain="messages")
        partial = mo.with_name(f".{mo.name}.{os.getpid()}.tmp")
        with partial.open("wb") as target:
            write_mo(target, catalog, use_fuzzy=False)
        partial.replace(mo)


_compile_translations()

# Settings are read once and cached: point them at throwaway places before any import.
_TMP = Path(tempfile.mkdtemp(prefix="maintenance-tests-"))
atexit.register(shutil.rmtree, _TMP, ignore_errors=True)
os.environ["MAINTENANCE_ENVIRONMENT"] = "test"
os.environ["MAINTENANCE_VAR_DIR"] = str(_TMP / "var")
os.environ["MAINTENANCE_SECRET_KEY"] = secrets.token_urlsafe(32)


def _database_of_this_worker(url: str) -> str:
    """Under pytest-xdist each worker migrates and uses a PostgreSQL database of its own
    (``<name>_gw0`` …), created here and dropped at exit; SQLite files are per process already."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker or not url.startswith("postgresql"):
        return url
    from sqlalchemy import create_engine, make_url, text

    server = make_url(url)
    name = f"{server.database}_{worker}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    drop()
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    atexit.register(admin.dispose)
    atexit.register(drop)
    return server.set(database=name).render_as_string(hide_password=False)


os.environ["MAINTENANCE_DATABASE_URL"] = _database_of_this_worker(
    os.environ.get("MAINTENANCE_TEST_DATABASE_URL") or f"sqlite:///{_TMP / 'test.db'}"
)

import pytest  # noqa: E402
from alembic import command  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from fastapi.routing import iter_route_contexts  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import Engine, event, make_url, text  # noqa: E402
from sqlmodel import Session  # noqa: E402
from starlette.routing import Route  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

from maintenance import cli  # noqa: E402
from maintenance.cli import alembic_config  # noqa: E402
from maintenance.config import get_settings  # noqa: E402
from maintenance.db import build_engine, get_engine, get_session  # noqa: E402
from maintenance.main import create_app  # noqa: E402
from maintenance.org.models import Role, User  # noqa: E402
from tests import bombs, factories  # noqa: E402
from tests.mail_sink import Sink, free_port, start_sink  # noqa: E402

PASSWORD = factories.PASSWORD


def migrate(engine: Engine) -> Engine:
    """``engine``'s database upgraded to head, as production's is (no create_all)."""
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return engine


@pytest.fixture(scope="session")
def engine() -> Iterator[Engine]:
    engine = migrate(get_engine())
    yield engine
    engine.dispose()


# The PostgreSQL server of MAINTENANCE_TEST_DATABASE_URL, for tests of concurrent transactions
# (empty when the suite runs on SQLite).
POSTGRES_URL = os.environ.get("MAINTENANCE_TEST_DATABASE_URL", "")


@contextmanager
def scratch_postgresql_database(prefix: str) -> Iterator[str]:
    """A new, empty database on the PostgreSQL server (its URL), dropped afterwards."""
    if not POSTGRES_URL.startswith("postgresql"):
        pytest.skip("MAINTENANCE_TEST_DATABASE_URL is not PostgreSQL")
    server_url = make_url(POSTGRES_URL)
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = build_engine(server_url.render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def committed_postgresql() -> Iterator[Engine]:
    """A database of its own on the PostgreSQL server, migrated to head, dropped afterwards, for
    tests whose transactions commit for real and run at once (the ``session`` fixture shares one
    connection with the requests and rolls everything back)."""
    with scratch_postgresql_database("mt_committed") as url:
        engine = build_engine(url)
        try:
            with engine.begin() as connection:
                config = alembic_config()
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
            yield engine
        finally:
            engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session whose commits only release savepoints inside an outer transaction we roll back."""
    connection = engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    factories.bind(session)
    yield session
    session.close()
    outer.rollback()
    connection.close()


@pytest.fixture
def app(session: Session) -> FastAPI:
    app = create_app()

    def _test_session() -> Iterator[Session]:
        # The request's session is the test's; db.request_transaction commits (releases a
        # savepoint of) it before the response, or rolls it back, as in production.
        yield session

    app.dependency_overrides[get_session] = _test_session
    return app


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        yield client


def route_table(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every endpoint (APIRoutes and plain routes such as /openapi.json),
    with the prefix of the router that includes it (mounts are not endpoints)."""
    table = set()
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, Route):
            table.update((method, route.path) for method in route.methods or () if method != "HEAD")
    return sorted(table)


# Path parameters whose value must be one of a few words; any other parameter gets 1 or a real id.
PLAUSIBLE_PATH_VALUES: dict[str, object] = {"object_type": "app_user"}
_PATH_PARAM = re.compile(r"{(\w+)(?::\w+)?}")


def fill(path: str, values: dict[str, object] | None = None) -> str:
    """``/admin/users/{user_id}`` → ``/admin/users/1`` (or the value given in ``values``)."""
    known = {**PLAUSIBLE_PATH_VALUES, **(values or {})}
    return _PATH_PARAM.sub(lambda match: str(known.get(match[1], 1)), path)


_CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client: TestClient) -> str:
    """The session's CSRF token, as a browser would find it in a form."""
    page = client.get("/login")
    match = _CSRF_INPUT.search(page.text)
    assert match, "login page carries a CSRF token"
    return match.group(1)


def login(client: TestClient, user: User, password: str = PASSWORD) -> str:
    """Log ``user`` in; returns the CSRF token of the new session."""
    response = client.post(
        "/login", data={"username": user.username, "password": password, "csrf_token": csrf_token(client), "next": "/"}
    )
    assert response.status_code == 303, response.text
    page = client.get("/")
    match = _CSRF_INPUT.search(page.text)
    assert match
    return match.group(1)


@pytest.fixture
def admin(session: Session) -> User:
    return factories.UserFactory(role=Role.ADMIN)


@pytest.fixture
def engineer(session: Session) -> User:
    return factories.UserFactory(role=Role.ENGINEER)


@pytest.fixture
def count_queries(engine: Engine) -> Iterator[list[str]]:
    """Statements executed while the test runs (for "a fixed number of queries" checks)."""
    statements: list[str] = []

    def _record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", _record)
    yield statements
    event.remove(engine, "before_cursor_execute", _record)


@pytest.fixture
def english() -> Iterator[None]:
    """Messages in English, whatever the catalogs hold (tests that check a refusal's reason by word)."""
    from maintenance.i18n import _current_locale

    token = _current_locale.set("en")
    yield
    _current_locale.reset(token)


@pytest.fixture
def cli_in_test_session(session: Session, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A CLI command in-process, its transaction inside the test's (as the app fixture does)."""

    @contextmanager
    def scope() -> Iterator[Session]:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise

    monkeypatch.setattr(cli, "session_scope", scope)
    monkeypatch.setenv("COLUMNS", "200")
    return CliRunner()


@pytest.fixture
def no_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fails the test if a workbook parser runs (a hostile file must be refused before)."""
    bombs.parser_must_not_run(monkeypatch)


@pytest.fixture
def smtp_sink(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sink]:
    """An SMTP server on a free local port that keeps every mail, and the settings pointing at it
    (e-mail on, links to https://maintenance.plant.example)."""
    sink = Sink()
    controller = start_sink(sink)
    settings = get_settings()
    monkeypatch.setattr(settings, "smtp_host", "127.0.0.1")
    monkeypatch.setattr(settings, "smtp_port", sink.port)
    monkeypatch.setattr(settings, "smtp_from", "maintenance@plant.example")
    monkeypatch.setattr(settings, "base_url", "https://maintenance.plant.example")
    try:
        yield sink
    finally:
        controller.stop()


@pytest.fixture
def smtp_down(monkeypatch: pytest.MonkeyPatch) -> None:
    """E-mail on, but nothing listens where the mail server should be."""
    settings = get_settings()
    monkeypatch.setattr(settings, "smtp_host", "127.0.0.1")
    monkeypatch.setattr(settings, "smtp_port", free_port())
    monkeypatch.setattr(settings, "smtp_from", "maintenance@plant.example")
    monkeypatch.setattr(settings, "smtp_timeout", 5.0)
