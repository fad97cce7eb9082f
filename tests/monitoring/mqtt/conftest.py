"""A real Mosquitto broker per test (its own free port, config and persistence directory) and a
plant in a SQLite file of its own, committed for real: the consumer runs its own transactions,
in a thread or as the `maintenance ingest mqtt` process."""

from __future__ import annotations

import getpass
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from paho.mqtt.client import Client
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from sqlmodel import Session

from maintenance.audit.service import SystemActor
from maintenance.cli import alembic_config
from maintenance.db import build_engine
from maintenance.monitoring import service as monitoring_service
from maintenance.monitoring.choices import Quantity
from maintenance.monitoring.models import PointCreate
from maintenance.org import service as org_service
from maintenance.org.models import Role, UserWorkshop
from maintenance.org.permissions import EVERY_CAPABILITY
from tests import factories

MOSQUITTO = Path("/usr/sbin/mosquitto")
MOSQUITTO_PASSWD = Path("/usr/bin/mosquitto_passwd")
SRC = Path(__file__).resolve().parents[3] / "src"
SYSTEM = SystemActor(username="test", capabilities=EVERY_CAPABILITY)
# Readings of the tests start here (in the past, so none is "in the future").
T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
TOPIC = "plant/{workshop}/{point}/reading"
WAIT_S = float(os.environ.get("MQTT_TEST_WAIT_S", "60"))


def require_mosquitto() -> None:
    """Skip without Debian's mosquitto (make mqtt-deps installs it) — but never in CI."""
    if MOSQUITTO.is_file():
        return
    if os.environ.get("CI"):
        pytest.fail(f"{MOSQUITTO} is missing: CI must run the MQTT tests (make mqtt-deps)")
    pytest.skip(f"{MOSQUITTO} is missing: run `make mqtt-deps` as root to install Debian's mosquitto")


def free_port() -> int:
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(condition: Callable[[], Any], what: str, timeout: float = WAIT_S) -> Any:
    """Poll ``condition`` until it gives a true value (returned), failing after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


@dataclass
class Mosquitto:
    """A broker with persistence in ``folder``; :meth:`restart` keeps its port and its sessions."""

    folder: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    password_file: Path | None = None  # when set, only its users may connect

    def require_login(self, username: str, password: str) -> None:
        """From the next (re)start, refuse anonymous clients; ``username`` logs in with ``password``."""
        self.password_file = self.folder / "passwords"
        subprocess.run(
            [str(MOSQUITTO_PASSWD), "-c", "-b", str(self.password_file), username, password],
            check=True,
            capture_output=True,
        )

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        config = self.folder / "mosquitto.conf"
        login = "allow_anonymous true" if self.password_file is None else f"password_file {self.password_file}"
        config.write_text(
            f"listener {self.port} 127.0.0.1\n"
            f"{login}\n"
            # Started by root it would switch to the mosquitto user, who cannot write this folder.
            f"user {getpass.getuser()}\n"
            "persistence true\n"
            f"persistence_location {self.folder}/\n"
            # The consumer acknowledges a whole batch at once: let the broker send that many,
            # and queue any number for a consumer that is away.
            "max_inflight_messages 0\n"
            "max_queued_messages 0\n"
            f"log_dest file {self.folder}/mosquitto.log\n"
        )
        self.process = subprocess.Popen(
            [str(MOSQUITTO), "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        wait_until(self._accepts, f"mosquitto on port {self.port}", timeout=10)

    def _accepts(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            pytest.fail(f"mosquitto exited: {self.process.stderr.read().decode() if self.process.stderr else ''}")
        with closing(socket.socket()) as probe:
            return probe.connect_ex(("127.0.0.1", self.port)) == 0

    def stop(self) -> None:
        """SIGTERM: the broker saves its sessions and queued messages to its persistence file."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=10)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    require_mosquitto()
    broker = Mosquitto(tmp_path / "broker")
    broker.folder.mkdir()
    broker.start()
    yield broker
    broker.stop()


class Publisher:
    """A paho client publishing QoS 1 messages with many in flight (mosquitto_pub is too slow).
    At most :data:`IN_FLIGHT` are outstanding: paho scans its whole queue of unsent messages on
    every acknowledgement, so a queue of 100,000 would crawl."""

    IN_FLIGHT = 1000

    def __init__(self, broker: Mosquitto) -> None:
        self.client = Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
        self.client.max_inflight_messages_set(self.IN_FLIGHT)
        self.acked = 0
        self._lock = threading.Lock()
        self._room = threading.Semaphore(self.IN_FLIGHT)
        self.client.on_publish = self._on_publish
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()

    def _on_publish(self, client: Any, userdata: Any, mid: int, reason: Any, properties: Any) -> None:
        with self._lock:
            self.acked += 1
        self._room.release()

    def publish(self, topic: str, payload: str | bytes) -> None:
        if not self._room.acquire(timeout=WAIT_S):
            pytest.fail("the broker took no message for a minute")
        self.client.publish(topic, payload, qos=1)

    def close(self, expected: int) -> None:
        wait_until(lambda: self.acked >= expected, f"the broker to take {expected} messages")
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def publisher(mosquitto: Mosquitto) -> Iterator[Publisher]:
    client = Publisher(mosquitto)
    yield client
    client.client.loop_stop()


@dataclass
class Plant:
    """A SQLite file with a workshop, its engineer (and a token of theirs), an asset with points."""

    path: Path
    workshop_code: str
    other_workshop_code: str
    other_workshop_name: str
    points: list[str]
    other_point: str
    engineer: str
    token: str

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with closing(sqlite3.connect(self.path, timeout=30)) as connection:
            return connection.execute(sql, params).fetchall()

    def execute(self, sql: str, *params: Any) -> None:
        """Change the file behind the consumer's back, as another user of the database would."""
        with closing(sqlite3.connect(self.path, timeout=30)) as connection, connection:
            connection.execute(sql, params)

    def count(self, sql: str, *params: Any) -> int:
        return int(self.rows(sql, *params)[0][0])

    def cli_env(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith("MAINTENANCE_")}
        env.update({key: value for key, value in os.environ.items() if key == "MAINTENANCE_CLOCK_START"})
        env.update(
            PYTHONPATH=str(SRC),
            MAINTENANCE_DATABASE_URL=self.url,
            MAINTENANCE_VAR_DIR=str(self.path.parent / "var"),
            MAINTENANCE_ENVIRONMENT="test",
            MAINTENANCE_SECRET_KEY=secrets.token_urlsafe(32),
        )
        return env

    def start_ingest(self, broker: Mosquitto, *args: str) -> subprocess.Popen[str]:
        """``maintenance ingest mqtt`` as its own process, returned once it has subscribed."""
        log = (self.path.parent / "ingest.log").open("a")
        process = subprocess.Popen(
            [sys.executable, "-m", "maintenance.cli", "ingest", "mqtt", "--broker", broker.url, *args],
            env=self.cli_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        log_path = self.path.parent / "ingest.log"
        start = log_path.stat().st_size - 0

        def subscribed() -> bool:
            if process.poll() is not None:
                pytest.fail(f"ingest exited {process.returncode}: {log_path.read_text()}")
            return "subscribed" in log_path.read_text()[start:]

        wait_until(subscribed, "the ingest to subscribe")
        return process


@pytest.fixture(scope="module")
def migrated_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mqtt-template") / "plant.db"
    engine = build_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    engine.dispose()
    return path


@pytest.fixture
def plant(migrated_file: Path, tmp_path: Path) -> Plant:
    path = tmp_path / "plant.db"
    shutil.copyfile(migrated_file, path)
    engine = build_engine(f"sqlite:///{path}")
    with Session(engine, expire_on_commit=False) as session:
        factories.bind(session)
        workshop, other = factories.WorkshopFactory(), factories.WorkshopFactory()
        asset = factories.AssetFactory(workshop_id=workshop.id)
        other_asset = factories.AssetFactory(workshop_id=other.id)
        codes = []
        for number in range(1, 101):
            point = monitoring_service.create_point(
                session,
                PointCreate(
                    code=f"P{number:03d}",
                    asset_id=asset.id,
                    name="驱动端振动",
                    quantity=Quantity.VIBRATION,
                    warning_high=4.5,
                    alarm_high=7.1,
                ),
                actor=SYSTEM,
            )
            codes.append(point.code)
        other_point = monitoring_service.create_point(
            session,
            PointCreate(code="X001", asset_id=other_asset.id, name="振动", quantity=Quantity.VIBRATION),
            actor=SYSTEM,
        )
        engineer = factories.UserFactory(role=Role.ENGINEER)
        session.add(UserWorkshop(user_id=engineer.id, workshop_id=workshop.id))  # type: ignore[arg-type]
        session.flush()
        _, token = org_service.create_api_token(session, engineer, name="mqtt", scopes=["readings:write"], actor=SYSTEM)
        session.commit()
        plant = Plant(path, workshop.code, other.code, other.name, codes, other_point.code, engineer.username, token)
    engine.dispose()
    return plant


def reading_payload(value: float, at: datetime) -> str:
    return f'{{"value": {value}, "ts": "{at.isoformat()}"}}'


def minutes(n: int) -> timedelta:
    return timedelta(minutes=n)
