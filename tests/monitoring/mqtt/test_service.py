"""Mapping files, who writes, and one batch stored through the one ingest (no broker)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from maintenance.audit.models import ObjectChange
from maintenance.exceptions import Conflict, NotAuthenticated, PermissionDenied, ValidationFailed
from maintenance.monitoring.models import Reading
from maintenance.monitoring.mqtt import service
from maintenance.monitoring.mqtt.mapping import Mapper, Rule
from maintenance.monitoring.mqtt.models import MappingFields, MappingUpdate, MqttMapping, MqttRefusal
from maintenance.monitoring.mqtt.service import Message
from maintenance.org import service as org_service
from maintenance.org.models import User, Workshop
from tests import factories
from tests.monitoring.conftest import SYSTEM, T0, MakePoint, engineer_of

MAPPER = Mapper([Rule("plant/{point}")])


def test_a_json_file_replaces_the_rules_and_each_change_is_logged(session: Session) -> None:
    service.replace_mappings(
        session, service.parse_mapping_file("old.json", b'[{"topic": "old/{point}"}]'), actor=SYSTEM
    )
    content = (
        b'{"rules": [{"topic": "plant/{w}/{point}/reading"}, {"topic": "bus/#", "point_field": "id", "scale": 0.1}]}'
    )
    loaded = service.replace_mappings(session, service.parse_mapping_file("m.json", content), actor=SYSTEM)
    assert [(m.position, m.topic, m.point_field, m.scale) for m in service.list_mappings(session)] == [
        (10, "plant/{w}/{point}/reading", "", 1.0),
        (20, "bus/#", "id", 0.1),
    ]
    assert len(loaded) == 2
    changes = session.scalars(select(ObjectChange.action).where(ObjectChange.object_type == "mqtt_mapping")).all()
    assert sorted(str(action) for action in changes) == ["create", "create", "create", "delete"]


def test_a_toml_file_is_read_too(session: Session) -> None:
    content = b'[[rules]]\ntopic = "plant/{point}"\nvalue_field = "v"\ntime_field = ""\n'
    (rule,) = service.parse_mapping_file("m.toml", content)
    assert (rule.topic, rule.value_field, rule.time_field) == ("plant/{point}", "v", "")


@pytest.mark.parametrize(
    ("content", "where"),
    [
        (b"{not json", ("file", None)),
        (b'{"rules": "x"}', ("file", None)),
        (b'[{"topic": "ok/{point}"}, {"topic": "a/#/b"}]', ("topic", 2)),
        (b'[{"topic": "ok/{point}", "scale": "big"}]', ("scale", 1)),
    ],
)
def test_a_bad_file_loads_nothing_and_names_the_rule(content: bytes, where: tuple[str, int | None]) -> None:
    with pytest.raises(ValidationFailed) as refused:
        service.parse_mapping_file("m.json", content)
    assert [(error.field, error.row) for error in refused.value.errors] == [where]


def test_a_token_needs_readings_write_and_auditors_write_nothing(session: Session, workshop: Workshop) -> None:
    engineer = engineer_of(session, workshop)
    _, reader = org_service.create_api_token(session, engineer, name="r", scopes=["readings:read"], actor=SYSTEM)
    _, writer = org_service.create_api_token(session, engineer, name="w", scopes=["readings:write"], actor=SYSTEM)
    with pytest.raises(PermissionDenied):
        service.ingest_user(session, token=reader)
    with pytest.raises(NotAuthenticated):
        service.ingest_user(session, token="mt_nonsense")
    assert service.ingest_user(session, token=writer).workshops == frozenset({workshop.id})
    with pytest.raises(PermissionDenied):
        service.ingest_user(session, username=factories.UserFactory(role="auditor").username)


def test_a_batch_stores_once_and_keeps_the_refusals_trimmed(
    session: Session, make_point: MakePoint, workshop: Workshop, monkeypatch: pytest.MonkeyPatch
) -> None:
    point = make_point(code="P-1")
    other = make_point(code="X-1", asset_id=factories.AssetFactory().id)
    writer = service.ingest_user(session, username=engineer_of(session, workshop).username)
    monkeypatch.setattr(service, "KEPT_REFUSALS", 3)
    messages = [
        Message("plant/P-1", f'{{"value": 2, "ts": "{(T0 + timedelta(minutes=i)).isoformat()}"}}'.encode(), T0)
        for i in range(5)
    ]
    messages += [Message(f"plant/{other.code}", b"1", T0), Message("plant/NOPE", b"1", T0)]
    first = service.store_batch(session, messages, MAPPER, ingest="a", writer=writer, now=T0 + timedelta(hours=1))
    again = service.store_batch(session, messages, MAPPER, ingest="a", writer=writer, now=T0 + timedelta(hours=1))
    assert (first.received, first.stored, first.duplicates, first.refused) == (7, 5, 0, 2)
    assert (again.stored, again.duplicates, again.refused) == (0, 5, 2)
    assert first.newest_taken_at == T0 + timedelta(minutes=4)
    assert session.scalar(select(func.count()).select_from(Reading).where(Reading.point_id == point.id)) == 5
    kept = session.scalars(select(MqttRefusal.topic).order_by(MqttRefusal.id)).all()
    assert kept == ["plant/NOPE", f"plant/{other.code}", "plant/NOPE"]
    stats = service.record_stats(session, "a", first, now=T0 + timedelta(hours=1), per_minute=5)
    assert (stats.received, stats.stored, stats.refused, stats.lag_seconds) == (7, 5, 2, 56 * 60.0)


def test_a_mapping_edit_from_an_old_version_is_a_conflict(session: Session, admin: User) -> None:
    mapping = service.create_mapping(session, MappingFields(topic="a/{point}"), actor=admin)
    service.update_mapping(session, mapping, MappingUpdate(topic="b/{point}", version=1), actor=admin)
    with pytest.raises(Conflict):
        service.update_mapping(session, mapping, MappingUpdate(topic="c/{point}", version=1), actor=admin)
    assert session.get(MqttMapping, mapping.id).topic == "b/{point}"  # type: ignore[union-attr]


def test_a_refusal_keeps_no_nul_or_control_character(
    session: Session, make_point: MakePoint, workshop: Workshop
) -> None:
    """PostgreSQL refuses NUL in text: a refusal quoting a payload's point code word for word
    would fail its batch, again and again."""
    make_point(code="P-1")
    writer = service.ingest_user(session, username=engineer_of(session, workshop).username)
    mapper = Mapper([Rule("bus/#", point_field="point"), Rule("plant/{point}")])
    messages = [
        Message("bus/1", b'{"point": "\\u0000x\\u0007", "value": 1}', T0),
        Message("plant/P\x01\x1b", b"1", T0),
        Message("bus/2", b'{"point": "P-1", "value": 1, "ts": "\\u0000"}', T0),
    ]
    result = service.store_batch(session, messages, mapper, ingest="a", writer=writer, now=T0)
    assert (result.stored, result.refused) == (0, 3)
    kept = session.execute(select(MqttRefusal.topic, MqttRefusal.reason, MqttRefusal.payload)).all()
    assert len(kept) == 3
    for row in kept:
        for text in row:
            assert not any(ord(character) < 32 or ord(character) == 127 for character in text), repr(text)
    assert "plant/P\ufffd\ufffd" in {row.topic for row in kept}
