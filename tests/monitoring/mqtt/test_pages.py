"""The /admin/mqtt page and its mapping-rule forms: admins only, 404 for an unknown rule, 422 for a
bad rule, every change logged, 409 on a stale edit, a fixed number of queries."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

from maintenance.audit.models import ObjectChange
from maintenance.db import utcnow
from maintenance.i18n import gettext as _
from maintenance.monitoring.mqtt import service
from maintenance.monitoring.mqtt.mapping import Mapper, Rule
from maintenance.monitoring.mqtt.models import MappingFields, MqttMapping
from maintenance.org.models import Role, User
from tests import factories
from tests.conftest import login
from tests.monitoring.conftest import SYSTEM

PAGE = "/admin/mqtt"


def _rule(session: Session, topic: str = "plant/{workshop}/{point}/reading", position: int = 10) -> MqttMapping:
    return service.create_mapping(session, MappingFields(topic=topic, position=position), actor=SYSTEM)


@pytest.mark.parametrize("role", [Role.ENGINEER, Role.MANAGER, Role.AUDITOR])
def test_only_admins_open_the_page(client: TestClient, session: Session, role: Role) -> None:
    login(client, factories.UserFactory(role=role))
    assert client.get(PAGE).status_code == 403
    assert client.get(f"{PAGE}/mappings/new").status_code == 403


def test_the_page_shows_stats_rules_and_refusals(client: TestClient, session: Session, admin: User) -> None:
    _rule(session)
    now = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    messages = [service.Message("plant/W/NOPE/reading", b'{"value": 1, "ts": "2026-01-05T08:00:00Z"}', now)]
    writer = service.ingest_user(session, username=admin.username)
    result = service.store_batch(
        session, messages, Mapper([Rule("plant/{w}/{point}/reading")]), ingest="line1", writer=writer, now=now
    )
    service.record_stats(session, "line1", result, now=now, per_minute=1, connected=True)
    service.record_stats(session, "line2", None, now=utcnow(), connected=True)
    login(client, admin)
    page = client.get(PAGE)
    assert page.status_code == 200
    # line1 said "connected" long ago and has not been heard of since: it is not running.
    line1, line2 = (re.search(rf'data-ingest="{name}">(.*?)</tr>', page.text, re.S) for name in ("line1", "line2"))
    assert line1 is not None
    assert _("not connected") in line1[1]
    assert line2 is not None
    assert _("not connected") not in line2[1]
    assert _("connected") in line2[1]
    assert "plant/{workshop}/{point}/reading" in page.text
    assert "plant/W/NOPE/reading" in page.text
    assert 'id="mqtt-refusals"' in page.text


def test_the_empty_page_names_the_commands_as_code_not_in_backticks(client: TestClient, admin: User) -> None:
    login(client, admin)
    page = client.get(PAGE)
    assert page.status_code == 200
    assert "`" not in page.text
    for command in ("maintenance ingest mqtt", "maintenance ingest mqtt --token … --broker mqtt://host:1883"):
        assert f"<code>{command}</code>" in page.text
    assert "<code>maintenance ingest mapping load FILE</code>" in page.text


def test_the_page_runs_a_fixed_number_of_queries(
    client: TestClient, session: Session, admin: User, count_queries: list[str]
) -> None:
    login(client, admin)

    def queries() -> int:
        count_queries.clear()
        assert client.get(PAGE).status_code == 200
        return len(count_queries)

    _rule(session, position=1)
    few = queries()
    for position in range(2, 20):
        _rule(session, f"site{position}/{{point}}", position)
    assert queries() == few


def test_a_rule_is_created_edited_and_deleted_with_the_change_log(
    client: TestClient, session: Session, admin: User
) -> None:
    token = login(client, admin)
    created = client.post(
        f"{PAGE}/mappings/new",
        data={
            "csrf_token": token,
            "topic": "site/{area}/{point}",
            "position": "5",
            "scale": "0.1",
            "is_active": "true",
        },
    )
    assert created.status_code == 303, created.text
    mapping = session.scalars(select(MqttMapping)).one()
    assert (mapping.topic, mapping.scale, mapping.value_field, mapping.version) == (
        "site/{area}/{point}",
        0.1,
        "value",
        1,
    )
    edited = client.post(
        f"{PAGE}/mappings/{mapping.id}",
        data={
            "csrf_token": token,
            "topic": "site/{area}/{point}",
            "position": "5",
            "point_template": "{area}-{point}",
            "version": "1",
        },
    )
    assert edited.status_code == 303, edited.text
    session.refresh(mapping)
    assert (mapping.point_template, mapping.is_active, mapping.version) == ("{area}-{point}", False, 2)
    stale = client.post(
        f"{PAGE}/mappings/{mapping.id}",
        data={"csrf_token": token, "topic": "other/{point}", "position": "5", "version": "1"},
    )
    assert stale.status_code == 409
    deleted = client.post(f"{PAGE}/mappings/{mapping.id}/delete", data={"csrf_token": token})
    assert deleted.status_code == 303
    assert session.scalars(select(MqttMapping)).all() == []
    actions = session.scalars(
        select(ObjectChange.action).where(ObjectChange.object_type == "mqtt_mapping").order_by(ObjectChange.id)
    ).all()
    assert [str(action) for action in actions] == ["create", "update", "delete"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"topic": "plant/#/x"}, "topic"),
        ({"topic": "plant/{point}", "point_template": "{tag}"}, "point_template"),
        ({"topic": "plant/{point}", "scale": "0"}, "scale"),
        ({"topic": ""}, "topic"),
    ],
)
def test_a_bad_rule_is_refused_with_422(
    client: TestClient, session: Session, admin: User, fields: dict[str, str], field: str
) -> None:
    token = login(client, admin)
    response = client.post(f"{PAGE}/mappings/new", data={"csrf_token": token, "position": "1", **fields})
    assert response.status_code == 422
    assert f'class="form-control is-invalid" id="f-{field}"' in response.text
    assert session.scalars(select(MqttMapping)).all() == []


def test_an_unknown_rule_is_404(client: TestClient, session: Session, admin: User) -> None:
    token = login(client, admin)
    assert client.get(f"{PAGE}/mappings/999999").status_code == 404
    assert client.post(f"{PAGE}/mappings/999999/delete", data={"csrf_token": token}).status_code == 404
