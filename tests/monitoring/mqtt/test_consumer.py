"""The consumer against a real Mosquitto: stored, refused, alarms raising CBM orders, a broker
restart and a consumer away for a while (persistent session) losing nothing."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from maintenance.db import build_engine, transaction
from maintenance.exceptions import NotAuthenticated
from maintenance.i18n import gettext as _
from maintenance.monitoring.mqtt import consumer as consumer_module
from maintenance.monitoring.mqtt import service
from maintenance.monitoring.mqtt.consumer import Broker, Consumer, ConsumerSettings
from maintenance.monitoring.mqtt.mapping import Mapper, Rule
from maintenance.monitoring.mqtt.service import BatchResult, Message
from tests.monitoring.mqtt.conftest import T0, TOPIC, Mosquitto, Plant, Publisher, minutes, reading_payload, wait_until


class Running:
    """A consumer in a thread of this process, with its own engine on the plant's file."""

    def __init__(self, plant: Plant, broker: Mosquitto, name: str = "test", **options: object) -> None:
        self.engine: Engine = build_engine(plant.url)
        settings = ConsumerSettings(
            name=name,
            broker=Broker.parse(broker.url),
            topics=["plant/#", "other/#"],
            token=plant.token,
            **({"batch_seconds": 0.1} | options),  # type: ignore[arg-type]
        )
        self.consumer = Consumer(settings, Mapper([Rule(TOPIC)]), self.transaction, lambda: datetime.now(UTC))
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        wait_until(self.consumer.subscribed.is_set, "the consumer to subscribe")

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session, transaction(session):
            yield session

    def _run(self) -> None:
        try:
            self.consumer.run()
        except BaseException as error:
            self.error = error

    def stop(self) -> None:
        self.consumer.stop()
        self.thread.join(timeout=30)
        self.engine.dispose()
        assert not self.thread.is_alive()
        if self.error is not None:
            raise self.error


def _stats(plant: Plant) -> tuple[int, int, int, int]:
    rows = plant.rows("SELECT received, stored, duplicates, refused FROM mqtt_ingest_stats WHERE name = 'test'")
    return rows[0] if rows else (0, 0, 0, 0)


def test_readings_are_stored_refusals_kept_and_alarms_raise_orders(
    plant: Plant, mosquitto: Mosquitto, publisher: Publisher
) -> None:
    running = Running(plant, mosquitto)
    try:
        ws = plant.workshop_code
        for i in range(3):
            publisher.publish(f"plant/{ws}/P001/reading", reading_payload(2.0 + i, T0 + minutes(i)))
        publisher.publish(f"plant/{ws}/P002/reading", reading_payload(9.5, T0))  # alarm: a CBM order
        publisher.publish(f"plant/{ws}/NOPE/reading", reading_payload(1.0, T0))
        publisher.publish(f"plant/{ws}/P003/reading", b"not json")
        publisher.publish(f"plant/{ws}/P003/reading", reading_payload(1e6, T0))  # impossible vibration
        publisher.publish(f"plant/{plant.other_workshop_code}/{plant.other_point}/reading", reading_payload(1.0, T0))
        publisher.publish("other/thing", b"1.0")  # no rule
        publisher.close(9)
        wait_until(lambda: _stats(plant)[0] >= 9, "9 messages counted")
    finally:
        running.stop()
    assert _stats(plant) == (9, 4, 0, 5)
    stored = plant.rows(
        "SELECT p.code, r.value, r.source FROM reading r JOIN measurement_point p ON p.id = r.point_id "
        "ORDER BY p.code, r.taken_at"
    )
    assert stored == [("P001", 2.0, "mqtt"), ("P001", 3.0, "mqtt"), ("P001", 4.0, "mqtt"), ("P002", 9.5, "mqtt")]
    assert plant.count("SELECT count(*) FROM work_order WHERE order_type = 'CBM'") == 1
    # The reasons are in the consumer's language (the plant's: zh_CN, as here).
    reasons = plant.rows("SELECT topic, reason FROM mqtt_refusal ORDER BY reason")
    out_of_range = next(reason for topic, reason in reasons if "1e+06" in reason)
    assert sorted(reasons) == sorted(
        [
            (f"plant/{plant.workshop_code}/P003/reading", _("The payload is not JSON.")),
            ("other/thing", _("No mapping rule matches the topic.")),
            (
                f"plant/{plant.other_workshop_code}/{plant.other_point}/reading",
                _(
                    "Point %(code)s belongs to workshop %(workshop)s: "
                    "you can only send readings of your own workshops.",
                    code=plant.other_point,
                    workshop=plant.other_workshop_name,
                ),
            ),
            (f"plant/{plant.workshop_code}/NOPE/reading", _("Unknown measurement point %(code)s.", code="NOPE")),
            (f"plant/{plant.workshop_code}/P003/reading", out_of_range),
        ]
    )
    # Refused messages were acknowledged: a consumer started again gets nothing more.
    again = Running(plant, mosquitto)
    again.stop()
    assert _stats(plant) == (9, 4, 0, 5)


def test_a_broker_restart_and_a_consumer_away_lose_nothing(
    plant: Plant, mosquitto: Mosquitto, publisher: Publisher
) -> None:
    running = Running(plant, mosquitto)
    topics = [f"plant/{plant.workshop_code}/{code}/reading" for code in plant.points[:10]]
    for i in range(300):
        publisher.publish(topics[i % 10], reading_payload(1.0, T0 + minutes(i)))
    publisher.close(300)
    mosquitto.restart()  # the consumer's session and any unacknowledged message survive it
    publisher = Publisher(mosquitto)
    for i in range(300, 600):
        publisher.publish(topics[i % 10], reading_payload(1.0, T0 + minutes(i)))
    publisher.close(300)
    wait_until(lambda: plant.count("SELECT count(*) FROM reading") >= 600, "600 readings")
    running.stop()
    # Away: the broker queues for the persistent session.
    publisher = Publisher(mosquitto)
    for i in range(600, 900):
        publisher.publish(topics[i % 10], reading_payload(1.0, T0 + minutes(i)))
    publisher.close(300)
    running = Running(plant, mosquitto)
    wait_until(lambda: plant.count("SELECT count(*) FROM reading") >= 900, "900 readings")
    running.stop()
    assert plant.count("SELECT count(*) FROM reading") == 900
    received, stored, duplicates, refused = _stats(plant)
    assert (stored, refused) == (900, 0)
    assert received == stored + duplicates


def test_a_revoked_token_stops_the_consumer_and_leaves_the_messages_with_the_broker(
    plant: Plant, mosquitto: Mosquitto, publisher: Publisher
) -> None:
    running = Running(plant, mosquitto)
    plant.execute("UPDATE api_token SET revoked_at = '2026-01-01 00:00:00.000000'")  # another admin revokes it
    publisher.publish(f"plant/{plant.workshop_code}/P001/reading", reading_payload(1.0, T0))
    publisher.close(1)
    running.thread.join(timeout=30)
    assert not running.thread.is_alive()
    assert isinstance(running.error, NotAuthenticated)
    assert running.error.message == _("This token was revoked.")
    running.engine.dispose()
    assert plant.count("SELECT count(*) FROM reading") == 0
    # Nothing was acknowledged: with a valid token again, the message is stored.
    plant.execute("UPDATE api_token SET revoked_at = NULL")
    running = Running(plant, mosquitto)
    wait_until(lambda: plant.count("SELECT count(*) FROM reading") == 1, "the message re-delivered")
    running.stop()


def test_a_message_that_fails_its_batch_every_time_is_refused_alone_and_the_rest_stored(
    plant: Plant, mosquitto: Mosquitto, publisher: Publisher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A poison message (here one the database refuses whatever happens) must not stop the
    queue: after a few failed attempts the batch is split until that message is alone, and it
    is kept as a refusal and acknowledged."""
    store_batch = service.store_batch

    def failing(session: Session, messages: Sequence[Message], *args: Any, **kwargs: Any) -> BatchResult:
        if any(b"poison" in message.payload for message in messages):
            raise RuntimeError("the database refused the batch")
        return store_batch(session, messages, *args, **kwargs)

    monkeypatch.setattr(service, "store_batch", failing)
    monkeypatch.setattr(consumer_module, "RETRY_SECONDS", 0.01)
    running = Running(plant, mosquitto, batch_size=100, batch_seconds=1.0)
    ws = plant.workshop_code
    try:
        for i in range(6):
            publisher.publish(f"plant/{ws}/P001/reading", reading_payload(1.0 + i, T0 + minutes(i)))
            if i == 2:
                publisher.publish(f"plant/{ws}/P002/reading", '{"value": 1, "ts": "poison"}')
        publisher.close(7)
        wait_until(lambda: _stats(plant)[0] >= 7, "7 messages counted", timeout=20)
    finally:
        running.stop()
    assert _stats(plant) == (7, 6, 0, 1)
    assert plant.rows("SELECT value FROM reading ORDER BY taken_at") == [(1.0 + i,) for i in range(6)]
    ((topic, payload, reason),) = plant.rows("SELECT topic, payload, reason FROM mqtt_refusal")
    assert (topic, payload) == (f"plant/{ws}/P002/reading", '{"value": 1, "ts": "poison"}')
    assert reason == _("The message could not be stored: %(error)s", error="the database refused the batch")
    # Acknowledged: a consumer started again gets nothing more.
    again = Running(plant, mosquitto)
    again.stop()
    assert _stats(plant) == (7, 6, 0, 1)


@pytest.mark.parametrize("url", ["http://x", "mqtt://"])
def test_a_broker_url_must_be_mqtt(url: str) -> None:
    with pytest.raises(ValueError, match="not an MQTT broker URL"):
        Broker.parse(url)


def test_the_ingest_logs_in_with_the_password_of_its_file(plant: Plant, mosquitto: Mosquitto, tmp_path: Path) -> None:
    mosquitto.require_login("ingest", "s3cret pass")
    mosquitto.restart()
    secret = tmp_path / "mqtt-password"
    secret.write_text("s3cret pass\n")
    broker = f"mqtt://ingest@127.0.0.1:{mosquitto.port}"
    args = ["--broker", broker, "--password-file", str(secret), "--token", plant.token, "--topic", "plant/#"]
    ingest = plant.start_ingest(mosquitto, *args)  # returns once subscribed: the broker let it in
    ingest.send_signal(signal.SIGTERM)
    assert ingest.wait(timeout=30) == 0
    log = (plant.path.parent / "ingest.log").read_text()
    assert "refused the connection" not in log
    assert "s3cret" not in log
