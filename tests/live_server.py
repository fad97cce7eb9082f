"""A live server: the app as a browser meets it, uvicorn in a subprocess on a database of its own.

The in-process test client shares one session with the test, which stays open however the
request ends; the served app opens a session per request and closes it, so only a live server
shows what a page drawn after that looks like (an error page for a signed-in user, say).

``start_server`` runs uvicorn on a free port and waits for its "Uvicorn running on" line on
stderr (read by a thread), trying another port when the chosen one was taken meanwhile;
``stop_server`` ends it. The browser tests (``tests/e2e``) serve the whole demo plant; the HTTP
tests serve a small plant, built by ``python -m tests.live_server seed`` (:func:`seed_small_plant`),
in a few seconds instead of the demo's minute and a half.
"""

from __future__ import annotations

import collections
import io
import json
import logging
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEMO_PASSWORD = "demo2026"  # every demo user's (seed/org/users.csv)
SERVER_START_TIMEOUT_S = 30.0
SERVER_START_ATTEMPTS = 3

logger = logging.getLogger("tests.live_server")


class ServerOutput:
    """Reads a pipe on a thread; ``settled`` is set once the server is ready, failed to bind, or exited."""

    READY = "Uvicorn running on"
    WORKER_READY = "Application startup complete"
    BIND_ERRORS = ("error while attempting to bind", "address already in use")

    def __init__(self, stream: Any) -> None:
        self.lines: collections.deque[str] = collections.deque(maxlen=500)
        self.ready = False
        self.bind_failed = False
        self.settled = threading.Event()
        self._stream = stream
        self._thread = threading.Thread(target=self._read, name="uvicorn-stderr", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for line in self._stream:
                self.lines.append(line.rstrip("\n"))
                if self.READY in line:
                    self.ready = True
                    self.settled.set()
                elif any(error in line for error in self.BIND_ERRORS):
                    self.bind_failed = True
                    self.settled.set()
        finally:
            self.settled.set()  # EOF: the process exited (or closed stderr)

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def tail(self, count: int = 20) -> str:
        return "\n".join(list(self.lines)[-count:]) or "(no output)"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run_python(env: dict[str, str], *args: str) -> str:
    """``python -m …`` in the server's environment; its stdout, or the test fails with its output."""
    command = [sys.executable, "-m", *args]
    # A guard against a hung command: seeding the demo plant takes minutes on a busy machine.
    result = subprocess.run(command, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=900)
    if result.returncode != 0:
        pytest.fail(
            f"`python -m {' '.join(args)}` exited with {result.returncode}\n"
            f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}",
            pytrace=False,
        )
    return result.stdout


def run_cli(env: dict[str, str], *args: str) -> None:
    """``maintenance …`` as the operator runs it."""
    run_python(env, "maintenance.cli", *args)


def server_env(tmp: Path, database_url: str) -> dict[str, str]:
    """The environment of a server (and its CLI commands) on ``database_url``, with its files under ``tmp``."""
    return {
        **os.environ,
        "MAINTENANCE_DATABASE_URL": database_url,
        "MAINTENANCE_VAR_DIR": str(tmp / "var"),
        "MAINTENANCE_ENVIRONMENT": "test",
        "MAINTENANCE_SECRET_KEY": secrets.token_urlsafe(32),
        "PYTHONUNBUFFERED": "1",
    }


@contextmanager
def live_database(tmp: Path, server: str | None = None) -> Iterator[str]:
    """A database for a server: a SQLite file under ``tmp``, or, when the suite runs on PostgreSQL
    (``MAINTENANCE_TEST_DATABASE_URL``, or ``server`` when given), a PostgreSQL database of its
    own beside that one, dropped afterwards."""
    from sqlalchemy import create_engine, make_url, text

    if server is None:
        server = os.environ.get("MAINTENANCE_TEST_DATABASE_URL", "")
    if not server.startswith("postgresql"):
        yield f"sqlite:///{tmp / 'live.db'}"
        return
    url = make_url(server)
    name = f"{url.database}_live_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")

    def execute(statement: str) -> None:
        with admin.connect() as connection:
            connection.execute(text(statement))

    drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    execute(drop)
    execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        execute(drop)
        admin.dispose()


@contextmanager
def serving(env: dict[str, str], log_dir: Path, *, cli: bool = False) -> Iterator[str]:
    """The base URL (no trailing slash) of uvicorn running in ``env``; its output is logged when it stops."""
    process, output, url = start_server(env, log_dir, cli=cli)
    try:
        yield url
    finally:
        stop_server(process, output)
        access_logs = "".join(path.read_text() for path in sorted(log_dir.glob("uvicorn-*.stdout.log")))
        logger.info("uvicorn exited with %s\n--- stderr ---\n%s", process.returncode, "\n".join(output.lines))
        logger.info("--- access log ---\n%s", access_logs or "(empty)")


def start_server(
    env: dict[str, str], log_dir: Path, *, cli: bool = False, workers: int | None = None
) -> tuple[subprocess.Popen[str], ServerOutput, str]:
    """uvicorn serving ``maintenance.main:app`` in ``env``; (process, its stderr, base URL). With
    ``cli`` it is started as production starts it, ``maintenance serve`` (and its default number
    of workers for the engine) instead of one bare uvicorn process; with ``workers``,
    ``maintenance serve --workers N``: a supervisor process and N worker processes sharing its
    socket, and it returns once every worker has started."""
    if workers is not None:
        program = ["maintenance.cli", "serve", "--workers", str(workers)]
    else:
        program = ["maintenance.cli", "serve"] if cli else ["uvicorn", "maintenance.main:app"]
    for attempt in range(1, SERVER_START_ATTEMPTS + 1):
        port = free_port()
        # stdout carries the access log: to a file, so a full pipe can never stall the server.
        access_log = (log_dir / f"uvicorn-{attempt}.stdout.log").open("w")
        process = subprocess.Popen(
            [sys.executable, "-m", *program, "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=access_log,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        access_log.close()
        output = ServerOutput(process.stderr)
        if not output.settled.wait(SERVER_START_TIMEOUT_S):
            stop_server(process, output)
            pytest.fail(
                f"uvicorn did not print {ServerOutput.READY!r} within {SERVER_START_TIMEOUT_S:.0f}s. "
                f"Last stderr lines:\n{output.tail()}",
                pytrace=False,
            )
        if output.ready:
            if workers is not None:
                _wait_for_workers(process, output, workers)
            return process, output, f"http://127.0.0.1:{port}"
        stop_server(process, output)
        if output.bind_failed:
            logger.warning("port %s was taken (attempt %s), trying another", port, attempt)
            continue
        pytest.fail(
            f"uvicorn exited with {process.returncode} before it was ready. Last stderr lines:\n{output.tail()}",
            pytrace=False,
        )
    pytest.fail(f"uvicorn could not bind a free port in {SERVER_START_ATTEMPTS} attempts", pytrace=False)


def _wait_for_workers(process: subprocess.Popen[str], output: ServerOutput, workers: int) -> None:
    """The supervisor announces its address once it has bound the socket; connections are refused
    until a worker listens on it: wait until every worker has started the app (the workers
    import it at once, each on a core of its own at best)."""
    deadline = time.monotonic() + 2 * SERVER_START_TIMEOUT_S
    while sum(ServerOutput.WORKER_READY in line for line in list(output.lines)) < workers:
        if process.poll() is not None or time.monotonic() > deadline:
            stop_server(process, output)
            pytest.fail(f"{workers} workers did not start the app. Last stderr lines:\n{output.tail()}", pytrace=False)
        time.sleep(0.05)


def stop_server(process: subprocess.Popen[str], output: ServerOutput) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    output.join(timeout=5)


# --- The small plant ----------------------------------------------------------------------

# The demo's parts that load in seconds; the orders part replays a year of work (most of the
# demo's time), so the small plant gets one record of each kind the order pages show instead.
SMALL_PLANT_PARTS = ("org", "assets", "monitoring", "rounds", "seasonal inspections")
# The smallest PNG as far as the file checks go (they read the signature).
PNG = b"\x89PNG\r\n\x1a\n" + bytes(24)


def load_demo_parts(names: Sequence[str]) -> None:
    """Migrate the database of this process's settings and load these parts of the demo plant."""
    from alembic import command

    from maintenance.cli import alembic_config
    from maintenance.config import get_settings
    from maintenance.db import get_engine, session_scope, utcnow
    from maintenance.demo import plant as demo

    with get_engine().begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    parts = dict(demo.PARTS)
    with session_scope() as session:
        for name in names:
            parts[name].load(session, get_settings().seed_dir, demo.SEED_ACTOR, utcnow())  # type: ignore[attr-defined]


def seed_small_plant() -> dict[str, object]:
    """Migrate the database of this process's settings and load the small plant; returns a
    record id for every path parameter of the pages (each naming a record that exists, and
    related ones belonging together: the document is the asset's, the entry the round's)."""
    from datetime import date, timedelta

    from sqlalchemy import select
    from sqlmodel import col

    from maintenance.assets.documents import service as documents
    from maintenance.assets.models import Asset
    from maintenance.assets.stocktake import service as stocktakes
    from maintenance.db import plant_today, session_scope
    from maintenance.inspections import rounds
    from maintenance.inspections.models import CampaignWorkshop, InspectionRoute
    from maintenance.monitoring.models import MeasurementPoint
    from maintenance.orders import attachments, service
    from maintenance.orders.choices import ChecklistResult, IntervalUnit, OrderType, PlanBasis
    from maintenance.orders.models import PmPlanCreate, TurnaroundCreate, WorkOrderCreate
    from maintenance.orders.pm import service as pm
    from maintenance.orders.turnarounds import service as turnarounds
    from maintenance.org import service as org_service
    from maintenance.org.models import Role

    load_demo_parts(SMALL_PLANT_PARTS)
    with session_scope() as session:
        admin = org_service.get_user_by_username(session, "admin")
        assert admin is not None
        assert admin.role == Role.ADMIN
        point = session.scalars(select(MeasurementPoint).order_by(col(MeasurementPoint.id))).first()
        assert point is not None
        asset_id = point.asset_id
        asset = session.get(Asset, asset_id)
        assert asset is not None
        document = documents.attach_document(session, asset, io.BytesIO(b"nameplate"), "nameplate.txt", actor=admin)
        stocktake = stocktakes.start_stocktake(session, workshop_id=asset.workshop_id, actor=admin)
        order = service.create_order(
            session, WorkOrderCreate(order_type=OrderType.CM, asset_id=asset_id, title="泵体泄漏"), actor=admin
        )
        attachment = attachments.attach_file(session, order, io.BytesIO(PNG), "leak.png", actor=admin)
        plan = pm.create_plan(
            session,
            PmPlanCreate(
                asset_id=asset_id,
                title="月度润滑",
                basis=PlanBasis.FIXED,
                interval=1,
                interval_unit=IntervalUnit.MONTH,
                start_date=plant_today() + timedelta(days=3),
                lead_days=7,
            ),
            actor=admin,
        )
        workshop = org_service.get_workshop_or_raise(session, asset.workshop_id)
        turnaround = turnarounds.create_turnaround(
            session,
            TurnaroundCreate(
                code="TA-LIVE",
                name="大修",
                start_date=date(plant_today().year, 9, 1),
                end_date=date(plant_today().year, 9, 30),
                site_id=workshop.site_id,
            ),
            actor=admin,
        )
        route = session.scalars(select(InspectionRoute).order_by(col(InspectionRoute.id))).first()
        assert route is not None
        found = rounds.ensure_round(session, route, actor=admin)
        stop = rounds.stops_of_round(session, found)[0]
        value = None if stop.point_id is None else 1.0
        result = None if stop.point_id is not None else ChecklistResult.OK
        entry, _made = rounds.record_entry(
            session,
            found,
            stop,
            value=value,
            result=result,
            photo=rounds.Photo(io.BytesIO(PNG), "seal.png"),
            actor=admin,
        )
        campaign_part = session.scalars(select(CampaignWorkshop).order_by(col(CampaignWorkshop.id))).first()
        assert campaign_part is not None
        return {
            "user_id": admin.id,
            "stocktake_id": stocktake.id,
            "asset_id": asset_id,
            "document_id": document.id,
            "object_type": "asset",
            "object_id": asset_id,
            "order_id": order.id,
            "attachment_id": attachment.id,
            "plan_id": plan.id,
            "turnaround_id": turnaround.id,
            "point_id": point.id,
            "campaign_id": campaign_part.campaign_id,
            "workshop_id": campaign_part.workshop_id,
            "round_id": found.id,
            "entry_id": entry.id,
            "route_id": route.id,
        }


if __name__ == "__main__":
    if sys.argv[1:] != ["seed"]:
        sys.exit("usage: python -m tests.live_server seed")
    print(json.dumps(seed_small_plant()))
