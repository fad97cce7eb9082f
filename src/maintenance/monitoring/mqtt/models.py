"""MQTT ingest: the mapping rules (edited by administrators, loaded from files), the per-ingest
statistics the consumer stores with each batch, and the last refused messages with their reason."""

from __future__ import annotations

from datetime import datetime

from pydantic import field_validator
from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from maintenance.db import UTCDateTime, VersionChecked, strip_text

TOPIC_MAX = 200
FIELD_MAX = 60


class MappingFields(SQLModel):
    """One rule: which topics it matches and how their payload becomes a reading.

    ``topic`` is an MQTT topic filter whose single-level wildcards may be named:
    ``plant/{workshop}/{point}/reading`` (``+`` unnamed, ``#`` last). The point code is
    ``point_field`` of the payload when given, else ``point_template`` filled with the topic's
    names (``{point}``, ``{workshop}-{point}``). The value is ``value_field`` of a JSON payload (a
    bare number payload is the value itself), times ``scale`` plus ``offset``; the time is
    ``time_field`` (ISO 8601 or Unix seconds), or the broker receipt time when absent."""

    position: int = Field(default=10, ge=0, le=100_000)
    topic: str = Field(min_length=1, max_length=TOPIC_MAX)
    point_template: str = Field(default="{point}", max_length=FIELD_MAX)
    point_field: str = Field(default="", max_length=FIELD_MAX)
    value_field: str = Field(default="value", min_length=1, max_length=FIELD_MAX)
    time_field: str = Field(default="ts", max_length=FIELD_MAX)
    scale: float = Field(default=1.0, ge=-1e9, le=1e9)
    offset: float = Field(default=0.0, ge=-1e9, le=1e9)
    is_active: bool = True
    note: str = Field(default="", max_length=200)

    _strip_text = field_validator(
        "topic", "point_template", "point_field", "value_field", "time_field", "note", mode="before"
    )(strip_text)


class MqttMapping(MappingFields, VersionChecked, table=True):
    __tablename__ = "mqtt_mapping"

    id: int | None = Field(default=None, primary_key=True)
    version: int = Field(default=1)

    @property
    def audit_repr(self) -> str:
        return f"{self.position} {self.topic}"


class MappingUpdate(MappingFields):
    version: int


class MqttIngestStats(SQLModel, table=True):
    """What one ingest (by its name: one MQTT client id) has done since it first ran, stored with
    every batch it commits, so the counts agree with the readings stored."""

    __tablename__ = "mqtt_ingest_stats"

    name: str = Field(primary_key=True, max_length=60)
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    refused: int = 0
    last_message_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    lag_seconds: float | None = None  # receipt minus reading time of the batch's newest reading
    per_minute: int = 0  # readings stored over the minute before updated_at
    connected: bool = False
    updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class MqttRefusal(SQLModel, table=True):
    """A refused message (the last few hundred per ingest are kept): acknowledged, never stored."""

    __tablename__ = "mqtt_refusal"
    __table_args__ = (Index("ix_mqtt_refusal_ingest_id", "ingest", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    ingest: str = Field(max_length=60)
    received_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    topic: str = Field(max_length=TOPIC_MAX)
    payload: str = Field(sa_column=Column(Text, nullable=False))  # the first bytes, as text
    reason: str = Field(sa_column=Column(Text, nullable=False))
