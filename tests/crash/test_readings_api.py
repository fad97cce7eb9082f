"""A collector sending readings to ``POST /api/v1/readings`` while the server is killed (-9): every
acknowledged reading is stored, the unacknowledged batches re-sent after the restart are stored
once, and no alarm raises a second condition-based order.

At the kill the collector has two batches without an answer: one the server committed (the
collector never read the answer, as when the connection drops just after the commit) and one whose
transaction is still open. Re-sent, the first is all duplicates, the second is stored."""

from __future__ import annotations

import http.client
import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx2

from tests.crash.conftest import ALARM, POINTS, Plant, wait_until

BATCH = 4000  # a transaction that lasts long enough (tenths of a second) to be seen open
BATCHES = 5
T0 = datetime(2026, 1, 5, tzinfo=UTC)
# The batch (from 0) in which each point first reaches its alarm; VIB-1 alarms in every batch.
FIRST_ALARM = {"VIB-1": 0, "VIB-2": 2, "VIB-3": 3, "VIB-4": 4}
STORED = "SELECT count(*) FROM reading"

Reading = tuple[str, datetime, float]


def batch(number: int) -> list[Reading]:
    """Readings of the four points, a second apart; normal values, and each point's last reading
    of the batch an alarm from its first alarm batch on."""
    readings = []
    for index in range(number * BATCH, (number + 1) * BATCH):
        point = POINTS[index % len(POINTS)]
        last_of_point = index >= (number + 1) * BATCH - len(POINTS)
        alarm = last_of_point and number >= FIRST_ALARM[point] and (point == "VIB-1" or number == FIRST_ALARM[point])
        value = ALARM + 2.0 if alarm else round(1.0 + (index % 1000) / 1000, 3)
        readings.append((point, T0 + timedelta(seconds=index // len(POINTS)), value))
    return readings


def body(readings: list[Reading]) -> bytes:
    return json.dumps([{"point": p, "taken_at": at.isoformat(), "value": v} for p, at, v in readings]).encode()


def test_acknowledged_readings_survive_a_kill_and_resent_batches_are_stored_once(plant: Plant) -> None:
    server, watch = plant.server, plant.watch
    batches = [batch(number) for number in range(BATCHES)]
    headers = {"Authorization": f"Bearer {plant.token}", "Content-Type": "application/json"}
    api = httpx2.Client(base_url=server.start(), headers=headers, timeout=60)
    acknowledged: list[dict[str, Any]] = []
    for number in (0, 1):
        answer = api.post("/api/v1/readings", content=body(batches[number]))
        assert answer.status_code == 200, answer.text
        acknowledged.append(answer.json())
    assert [(a["inserted"], a["duplicates"], len(a["alerts_opened"])) for a in acknowledged] == [
        (BATCH, 0, 1),
        (BATCH, 0, 0),
    ]

    # Batch 2 is committed, but its answer is never read.
    address = urlsplit(server.url)
    unread = http.client.HTTPConnection(address.hostname or "", address.port, timeout=60)
    unread.request("POST", "/api/v1/readings", body=body(batches[2]), headers=headers)
    wait_until(lambda: watch.scalar(STORED) == 3 * BATCH, "batch 2 to be committed")
    # Batch 3 is sent and the server killed while its transaction is open.
    answers: list[Any] = []

    def send_batch_3() -> None:
        try:
            answers.append(api.post("/api/v1/readings", content=body(batches[3])))
        except Exception as error:  # the connection dies with the server
            answers.append(error)

    sending = threading.Thread(target=send_batch_3)
    sending.start()
    wait_until(watch.write_transaction_open, "batch 3's transaction")
    server.freeze()
    assert watch.write_transaction_open()
    assert watch.scalar(STORED) == 3 * BATCH  # nothing of batch 3 committed
    server.kill()
    sending.join(timeout=30)
    unread.close()
    assert len(answers) == 1
    assert isinstance(answers[0], Exception), f"batch 3 was answered before the kill: {answers[0]}"

    # After the restart the collector re-sends what was not acknowledged, then goes on.
    api = httpx2.Client(base_url=server.start(), headers=headers, timeout=60)
    resent = []
    for number in (2, 3, 4):
        answer = api.post("/api/v1/readings", content=body(batches[number]))
        assert answer.status_code == 200, answer.text
        resent.append(answer.json())
    assert [(a["inserted"], a["duplicates"], len(a["alerts_opened"])) for a in resent] == [
        (0, BATCH, 0),  # committed before the kill: all duplicates, its alarm's order already raised
        (BATCH, 0, 1),
        (BATCH, 0, 1),
    ]

    stored = watch.rows(
        "SELECT p.code, r.taken_at, r.value FROM reading r JOIN measurement_point p ON p.id = r.point_id"
    )
    sent = {reading for readings in batches for reading in readings}
    assert len(stored) == len(sent) == BATCHES * BATCH
    assert {(code, _utc(taken_at), round(value, 3)) for code, taken_at, value in stored} == sent
    assert watch.rows("SELECT point_id, taken_at FROM reading GROUP BY point_id, taken_at HAVING count(*) > 1") == []
    # One alert and one condition-based order per point: none doubled by the kill or the re-sends.
    alerts = watch.rows(
        "SELECT p.code, count(*), count(DISTINCT a.order_id) FROM condition_alert a"
        " JOIN measurement_point p ON p.id = a.point_id GROUP BY p.code ORDER BY p.code"
    )
    assert alerts == [(code, 1, 1) for code in POINTS]
    assert watch.scalar("SELECT count(*) FROM work_order WHERE order_type = 'CBM'") == len(POINTS)
    assert watch.audit_chain_ok()


def _utc(value: datetime | str) -> datetime:
    """A stored time as an aware UTC datetime (SQLite hands back text, PostgreSQL a datetime)."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
