"""The issue's acceptance test: 100,000 readings published while `maintenance ingest mqtt` is
killed (-9) once midway and started again → every reading stored, none twice."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path

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
    topics = [f"plant/{plant.workshop_code}/{code}/reading" for code in plant.points]
    # 100 points × 1000 minutes: each reading a distinct (point, taken_at).
    payloads = [
        (topics[i % 100], f'{{"value": 2.5, "ts": "{(T0 + minutes(i // 100)).isoformat()}"}}') for i in range(READINGS)
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
    assert stored() == READINGS
    assert plant.count("SELECT count(*) FROM (SELECT DISTINCT point_id, taken_at FROM reading)") == READINGS
    assert plant.count("SELECT count(DISTINCT point_id) FROM reading") == 100
    # The statistics agree: everything received was stored once, the rest (re-deliveries of the
    # batch committed but not acknowledged when killed) counted as duplicates.
    received, stored_count, duplicates, refused = plant.rows(
        "SELECT received, stored, duplicates, refused FROM mqtt_ingest_stats WHERE name = 'line1'"
    )[0]
    assert (stored_count, refused) == (READINGS, 0)
    assert received == READINGS + duplicates
