"""The demo plant's MQTT mapping rules: loaded once, change-logged, and they map the messages the
seed file's comments describe onto the demo's own points."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from maintenance.audit.models import ObjectChange
from maintenance.config import get_settings
from maintenance.db import utcnow
from maintenance.demo import mqtt as mqtt_demo
from maintenance.demo.plant import SEED_ACTOR
from maintenance.monitoring.mqtt import service
from maintenance.monitoring.mqtt.mapping import Mapper, Refused
from maintenance.monitoring.mqtt.models import MqttMapping
from maintenance.monitoring.readings.ingest import ReadingIn

SEED_DIR = get_settings().seed_dir
RECEIVED = datetime(2026, 12, 6, 1, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def session(engine: Engine) -> Iterator[Session]:
    connection = engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    assert not mqtt_demo.is_loaded(session, SEED_DIR)
    mqtt_demo.load(session, SEED_DIR, SEED_ACTOR, utcnow())
    yield session
    session.close()
    outer.rollback()
    connection.close()


def test_the_demo_has_two_gateway_rules_in_file_order(session: Session) -> None:
    rules = session.exec(select(MqttMapping).order_by(col(MqttMapping.position))).all()
    assert [(rule.topic, rule.point_field) for rule in rules] == [
        ("plant/{workshop}/{point}/reading", ""),
        ("collectors/+", "tag"),
    ]
    assert mqtt_demo.is_loaded(session, SEED_DIR)
    logged = session.scalar(
        select(func.count()).select_from(ObjectChange).where(col(ObjectChange.object_type) == "mqtt_mapping")
    )
    assert logged == 2


def test_the_dcs_gateway_topic_names_the_point(session: Session) -> None:
    mapper = Mapper(service.active_rules(session))
    reading = mapper.map("plant/SYN/P-1101A-DE-V/reading", b'{"value": 2.1, "ts": "2026-12-06T00:59:00Z"}', RECEIVED)
    assert reading == ReadingIn("P-1101A-DE-V", datetime(2026, 12, 6, 0, 59, tzinfo=UTC), 2.1, None)


def test_the_collectors_send_the_tag_and_unix_milliseconds(session: Session) -> None:
    mapper = Mapper(service.active_rules(session))
    # 1764982800000 ms = 2025-12-06T01:00:00Z
    reading = mapper.map("collectors/tnk-01", b'{"tag": "P-5101A-DE-V", "v": 3.4, "t": 1764982800000}', RECEIVED)
    assert reading == ReadingIn("P-5101A-DE-V", datetime(2025, 12, 6, 1, 0, tzinfo=UTC), 3.4, None)
    assert isinstance(mapper.map("collectors/tnk-01", b'{"v": 3.4}', RECEIVED), Refused)
