"""The issue's acceptance test: 100,000 readings published while `maintenance ingest mqtt` is
killed (-9) once midway and started again → every reading stored, none twice."""

from __future__ import annotations

import json
import signal
import threading
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlmodel import Session, col

from maintenance.db import build_engine
from maintenance.monitoring.models import MeasurementPoint, Reading
from tests.monitoring.mqtt.conftest import T0, Mosquitto, Plant, Publisher, minutes, wait_until

READINGS = 100_000
KILL_AFTER = 30_000  # readings stored before the kill


def test_100k_readings_survive_a_kill_and_restart_of_the_ingest(
    plant: Plant, mosquitto: Mosquitto, publisher: Publisher, tmp_path: Path
) -> None:
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"rules": [{"topic": "plant/{workshop}/{point}/reading"}]}))
    args = ["--name", "line1", "--token", plant.token, "--mapping", str(mapping), "--topic", "plant/+/+/reading"]
    ingest = plant.start_ingest(mosquitto, *args)
    # 100 points × 1000 minutes: each reading a distinct (point, taken_at), with a value of its own.
    readings = [
        (plant.points[i % 100], T0 + minutes(i // 100), round((i // 100) * 0.004 + (i % 100) * 0.0001, 4))
        for i in range(READINGS)
    ]
    published = set(readings)
    payloads = [
        (f"plant/{plant.workshop_code}/{code}/reading", f'{{"value": {value}, "ts": "{at.isoformat()}"}}')
        for code, at, value in readings
    ]

    def publish_all() -> None:
        for topic, payload in payloads:
            publisher.publish(topic, payload)

    sending = threading.Thread(target=publish_all, daemon=True)
    sending.start()
    stored = lambda: plant.count("SELECT count(*) FROM reading")  # noqa: E731
    wait_until(lambda: stored() >= KILL_AFTER, f"{KILL_AFTER} readings before the kill", timeout=90)
    ingest.send_signal(signal.SIGKILL)
    ingest.wait(timeout=10)
    killed_at = stored()
    assert killed_at < READINGS, "the ingest must be killed midway"
    ingest = plant.start_ingest(mosquitto, *args)
    try:
        sending.join(timeout=120)
        publisher.close(READINGS)
        wait_until(lambda: stored() >= READINGS, f"{READINGS} readings", timeout=120)
    finally:
        ingest.send_signal(signal.SIGTERM)
        ingest.wait(timeout=30)
    assert ingest.returncode == 0
    # Every published reading is there, at its point and time, with its value; nothing else is.
    assert stored_readings(plant) == published
    # The statistics agree: everything received was stored once, the rest (re-deliveries of the
    # batch committed but not acknowledged when killed) counted as duplicates.
    received, stored_count, duplicates, refused = plant.rows(
        "SELECT received, stored, duplicates, refused FROM mqtt_ingest_stats WHERE name = 'line1'"
    )[0]
    assert (stored_count, refused) == (READINGS, 0)
    assert received == READINGS + duplicates


def stored_readings(plant: Plant) -> set[tuple[str, datetime, float]]:
    engine = build_engine(plant.url)
    try:
        with Session(engine) as session:
            rows = session.execute(
                select(MeasurementPoint.code, Reading.taken_at, Reading.value).join(
                    MeasurementPoint, col(MeasurementPoint.id) == col(Reading.point_id)
                )
            ).all()
    finally:
        engine.dispose()
    return {(code, taken_at, round(value, 4)) for code, taken_at, value in rows}
