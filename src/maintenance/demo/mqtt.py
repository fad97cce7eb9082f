"""The demo plant's MQTT mapping rules (``seed/monitoring/mqtt_mapping.toml``), so the admin page
shows how the plant's gateways map to points; no consumer runs in the demo."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlmodel import Session, col

from maintenance.audit.service import Actor, SystemActor
from maintenance.monitoring.mqtt import service
from maintenance.monitoring.mqtt.models import MqttMapping
from maintenance.org.models import Role
from maintenance.org.permissions import ROLE_CAPABILITIES

# Mapping rules are an administrator's setting; the rest of the demo is built as a manager would.
ADMIN_ACTOR = SystemActor(username="cli:seed", capabilities=ROLE_CAPABILITIES[Role.ADMIN])


def mapping_file(seed_dir: Path) -> Path:
    return seed_dir / "monitoring" / "mqtt_mapping.toml"


def is_loaded(session: Session, seed_dir: Path) -> bool:
    return session.scalar(select(col(MqttMapping.id)).limit(1)) is not None


def load(session: Session, seed_dir: Path, actor: Actor, now: datetime) -> list[MqttMapping]:
    path = mapping_file(seed_dir)
    rules = service.parse_mapping_file(path.name, path.read_bytes())
    return service.replace_mappings(session, rules, actor=ADMIN_ACTOR)
