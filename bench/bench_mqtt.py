"""MQTT ingest benchmark: sustained readings/s through a real Mosquitto and `maintenance ingest mqtt`
against the API path (``POST /api/v1/readings``), same rows, same run.

    .venv/bin/python bench/bench_mqtt.py [--rows 100000] [--points 1000] [--batch-size 1000]

A fresh database (default ``bench/var/mqtt.db``) is built by ``generate.py`` with as many assets as
points, one vibration point per asset, and an API token (``readings:write``) for ``admin``. The
rows are :class:`bench_readings.Rows` (round-robin over the points, ten minutes apart, 1 % of the
points drifting into alarm so that CBM orders are raised), stored two ways:

a. MQTT: Debian's ``/usr/sbin/mosquitto`` is started on a free port with persistence in a temp
   folder; ``maintenance ingest mqtt`` runs as its own process (QoS 1, persistent session, manual
   acknowledgements after each committed batch); this process publishes one message per reading
   (``plant/<point>``, ``{"value": v, "ts": "…"}``) with at most 1,000 unacknowledged, and the time
   is taken from the first publish until the last reading is in the table (polled every 50 ms).
   The publisher's own rate (messages the broker acknowledged per second) is printed too: when it
   is close to the MQTT rate, the publisher, not the ingest, is the limit.
b. API: ``POST /api/v1/readings`` in batches of ``--api-batch`` (default 5,000) through the real
   app in-process (Starlette ``TestClient``), each request its own transaction.

The database is restored from a copy taken after the setup before each case. The ratio is MQTT
rows/s ÷ API rows/s (higher is better). Both paths end in the same ``ingest_readings``; MQTT adds
JSON per message, the broker hop and an acknowledgement per message.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import closing
from pathlib import Path
from typing import Any

from bench_readings import Rows, _load, keep_pristine
from generate import BENCH_DIR, ROOT, configure_environment, create_points, generate
from results import Result, add_json_option, emit

DEFAULT_DB = BENCH_DIR / "var" / "mqtt.db"
# run_all.py's arguments: a Python publisher is the limit beyond a few thousand messages a second.
QUICK = ["--rows", "20000", "--points", "200"]
FULL = ["--rows", "100000"]
MOSQUITTO = Path("/usr/sbin/mosquitto")
IN_FLIGHT = 1000
POLL_S = 0.05


def free_port() -> int:
    with closing(socket.socket()) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_mosquitto(folder: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    config = folder / "mosquitto.conf"
    config.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\nuser {getpass.getuser()}\n"
        f"persistence true\npersistence_location {folder}/\nmax_inflight_messages 0\nmax_queued_messages 0\n"
    )
    broker = subprocess.Popen(  # noqa: S603 - Debian's broker, our config
        [str(MOSQUITTO), "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 10
    while True:
        with closing(socket.socket()) as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return broker, port
        if time.monotonic() > deadline:
            raise SystemExit("mosquitto did not start")
        time.sleep(POLL_S)


def count_readings(db_path: Path) -> int:
    with closing(sqlite3.connect(db_path, timeout=30)) as connection:
        return int(connection.execute("SELECT count(*) FROM reading").fetchone()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", type=Path, default=DEFAULT_DB, help=f"database to build (default {DEFAULT_DB})")
    parser.add_argument("--rows", type=int, default=100_000, help="readings per case (default 100000)")
    parser.add_argument("--points", type=int, default=1000, help="measurement points (default 1000)")
    parser.add_argument("--batch-size", type=int, default=1000, help="the ingest's messages per transaction")
    parser.add_argument("--api-batch", type=int, default=5000, help="readings per API request (default 5000)")
    add_json_option(parser)
    args = parser.parse_args()
    if not MOSQUITTO.is_file():
        raise SystemExit(f"{MOSQUITTO} is missing: make mqtt-deps (as root) installs Debian's mosquitto")
    db_path: Path = args.db.resolve()
    configure_environment(db_path)
    load_before = os.getloadavg()
    generate(db_path, args.points, 2026)

    from fastapi.testclient import TestClient
    from paho.mqtt.client import Client
    from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
    from rich.console import Console
    from sqlalchemy import select

    from maintenance.audit.service import SystemActor
    from maintenance.db import get_engine, session_scope
    from maintenance.monitoring.mqtt import service as mqtt_service
    from maintenance.monitoring.mqtt.models import MappingFields
    from maintenance.org import service as org_service
    from maintenance.org.models import User
    from maintenance.org.permissions import EVERY_CAPABILITY

    console = Console(width=160)
    actor = SystemActor(username="bench", capabilities=EVERY_CAPABILITY)
    with console.status(f"creating {args.points} measurement points"), session_scope() as session:
        codes = create_points(session, args.points, actor)
        admin = session.scalars(select(User).where(User.username == "admin")).one()
        _token, bearer = org_service.create_api_token(
            session, admin, name="bench", scopes=["readings:write"], actor=actor
        )
        mqtt_service.replace_mappings(session, [MappingFields(topic="plant/{point}")], actor=actor)
    restore = keep_pristine(db_path)
    rows = Rows(args.rows, len(codes))

    # --- a. MQTT ----------------------------------------------------------------------------------
    def mqtt_case() -> tuple[float, float, int]:
        folder = Path(tempfile.mkdtemp(prefix="bench-mqtt-"))
        broker, port = start_mosquitto(folder)
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "MAINTENANCE_MQTT_TOKEN": bearer}
        log = folder / "ingest.log"
        command = ["ingest", "mqtt", "--broker", f"mqtt://127.0.0.1:{port}", "--topic", "plant/+", "--name", "bench"]
        ingest = subprocess.Popen(  # noqa: S603 - our own CLI
            [sys.executable, "-m", "maintenance.cli", *command, "--batch-size", str(args.batch_size)],
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while "subscribed" not in log.read_text():
                if ingest.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the ingest did not start:\n{log.read_text()}")
                time.sleep(POLL_S)
            client = Client(CallbackAPIVersion.VERSION2, protocol=MQTTProtocolVersion.MQTTv5)
            client.max_inflight_messages_set(IN_FLIGHT)
            room = threading.Semaphore(IN_FLIGHT)
            acked = [0]
            client.on_publish = lambda *_args: (room.release(), acked.__setitem__(0, acked[0] + 1))
            client.connect("127.0.0.1", port)
            client.loop_start()
            start = time.perf_counter()
            for point, taken_at, value in rows:
                room.acquire()
                client.publish(f"plant/{codes[point]}", f'{{"value": {value}, "ts": "{taken_at.isoformat()}"}}', qos=1)
            while acked[0] < rows.count:
                time.sleep(POLL_S)
            published = time.perf_counter() - start
            while count_readings(db_path) < rows.count:
                if ingest.poll() is not None:
                    raise SystemExit(f"the ingest stopped:\n{log.read_text()}")
                time.sleep(POLL_S)
            stored = time.perf_counter() - start
            client.disconnect()
            client.loop_stop()
            orders = _orders(db_path)
            return stored, published, orders
        finally:
            ingest.terminate()
            ingest.wait(timeout=30)
            broker.terminate()
            broker.wait(timeout=10)
            shutil.rmtree(folder, ignore_errors=True)

    # --- b. API ---------------------------------------------------------------------------------
    def api_case() -> tuple[float, int]:
        from maintenance.main import create_app

        headers = {"Authorization": f"Bearer {bearer}", "Content-Type": "application/json"}
        with TestClient(create_app(), base_url="http://testserver") as client:
            batch: list[dict[str, Any]] = []
            start = time.perf_counter()

            def send() -> None:
                response = client.post("/api/v1/readings", content=json.dumps(batch), headers=headers)
                assert response.status_code in (200, 201), (response.status_code, response.text[:500])

            for point, taken_at, value in rows:
                batch.append({"point": codes[point], "taken_at": taken_at.isoformat(), "value": value})
                if len(batch) == args.api_batch:
                    send()
                    batch = []
            if batch:
                send()
            elapsed = time.perf_counter() - start
        get_engine().dispose()
        assert count_readings(db_path) == rows.count
        return elapsed, _orders(db_path)

    console.print(
        f"[bold]{db_path}[/bold]: {len(codes):,} points, {rows.count:,} readings per case; "
        f"{os.cpu_count()} CPUs; load average {_load(load_before)} before"
    )
    restore()
    with console.status("MQTT: publishing and ingesting"):
        mqtt_wall, publish_wall, mqtt_orders = mqtt_case()
    restore()
    with console.status("API: POST /api/v1/readings"):
        api_wall, api_orders = api_case()
    note = (
        f"ratio = readings/s ÷ the API's ({rows.count / mqtt_wall:,.0f} ÷ {rows.count / api_wall:,.0f}); "
        f"publisher alone {rows.count / publish_wall:,.0f} msg/s; CBM orders {mqtt_orders} and {api_orders}; "
        f"baseline: POST /api/v1/readings in batches of {args.api_batch:,}"
    )
    work = f"MQTT QoS 1 + maintenance ingest mqtt (batches of {args.batch_size:,}), {rows.count:,} readings"
    emit([Result("mqtt", work, mqtt_wall, api_wall, api_wall / mqtt_wall, note=note)], args.json)
    console.print(f"load average after: {_load(os.getloadavg())}")


def _orders(db_path: Path) -> int:
    with closing(sqlite3.connect(db_path)) as connection:
        return int(connection.execute("SELECT count(*) FROM work_order WHERE order_type = 'CBM'").fetchone()[0])


if __name__ == "__main__":
    main()
