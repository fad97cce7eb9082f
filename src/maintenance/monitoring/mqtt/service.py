"""MQTT ingest in the database: the mapping rules (edited, change-logged, loaded from files), one
batch of messages stored through the one ingest, the ingest statistics and the refused messages.

A batch is stored as the JSON API stores a request (:func:`ingest_readings` in ``VALID_ONLY``
mode, with the token user's rights): a refused message never blocks the others. Services never
commit: the consumer commits each batch, then acknowledges its messages to the broker.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlmodel import Session, col

from maintenance.audit import service as audit
from maintenance.audit.service import Actor
from maintenance.db import plant_timezone, versioned_write
from maintenance.exceptions import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from maintenance.i18n import gettext as _
from maintenance.monitoring.choices import ReadingSource
from maintenance.monitoring.mqtt.mapping import Mapper, Refused, Rule, payload_text, printable, rule_errors
from maintenance.monitoring.mqtt.models import (
    MappingFields,
    MappingUpdate,
    MqttIngestStats,
    MqttMapping,
    MqttRefusal,
)
from maintenance.monitoring.readings.ingest import IngestMode, ReadingIn, ingest_readings, within_workshops
from maintenance.org import service as org_service
from maintenance.org.models import User
from maintenance.org.permissions import Capability, require, require_writer, writable_workshop_ids

READINGS_SCOPE = "readings:write"
# Refused messages kept per ingest (all are counted).
KEPT_REFUSALS = 200
MAX_MAPPING_FILE_RULES = 1000
# An idle consumer still stores its statistics this often, so the page can tell a running consumer
# from one that was killed (whose row says "connected" forever).
HEARTBEAT_SECONDS = 30.0


# --- Mapping rules ------------------------------------------------------------------------


def list_mappings(session: Session) -> list[MqttMapping]:
    """Every rule in the order they are tried."""
    return list(session.scalars(select(MqttMapping).order_by(col(MqttMapping.position), col(MqttMapping.id))))


def active_rules(session: Session) -> list[Rule]:
    return [Rule.of(mapping) for mapping in list_mappings(session) if mapping.is_active]


def get_mapping_or_raise(session: Session, mapping_id: int) -> MqttMapping:
    mapping = session.get(MqttMapping, mapping_id)
    if mapping is None:
        raise NotFound(_("There is no MQTT mapping rule %(id)s.", id=mapping_id))
    return mapping


def _validate(data: MappingFields, row: int | None = None) -> None:
    errors = [FieldError(error.field, error.message, row) for error in rule_errors(Rule.of(data))]
    if errors:
        raise ValidationFailed(_("The mapping rule was not saved."), errors)


def create_mapping(session: Session, data: MappingFields, *, actor: Actor) -> MqttMapping:
    require(actor, Capability.ADMINISTER)
    _validate(data)
    mapping = MqttMapping.model_validate(data.model_dump())
    session.add(mapping)
    session.flush()
    audit.record_create(session, actor, mapping)
    return mapping


def _stale(mapping: MqttMapping) -> Conflict:
    return Conflict(_("Someone else changed the mapping rule %(topic)s meanwhile.", topic=mapping.topic))


def update_mapping(session: Session, mapping: MqttMapping, data: MappingUpdate, *, actor: Actor) -> MqttMapping:
    """Apply a full edit made from ``data.version`` (409 when the rule changed meanwhile)."""
    require(actor, Capability.ADMINISTER)
    if data.version != mapping.version:
        raise _stale(mapping)
    _validate(data)
    before = audit.snapshot(mapping)
    with versioned_write(session, mapping, lambda: _stale(mapping)):
        mapping.sqlmodel_update(data.model_dump(exclude={"version"}))
        changed = audit.snapshot(mapping) != before
        if changed:
            mapping.version += 1
    if changed:
        audit.record_update(session, actor, mapping, before)
    return mapping


def delete_mapping(session: Session, mapping: MqttMapping, *, actor: Actor) -> None:
    """Messages the rule matched are refused from the consumer's next start on."""
    require(actor, Capability.ADMINISTER)
    audit.record_delete(session, actor, mapping)
    session.delete(mapping)
    session.flush()


def parse_mapping_file(name: str, content: bytes) -> list[MappingFields]:
    """The rules of a JSON or TOML file: a list of rules, or ``{"rules": [...]}`` (TOML: an
    array of tables ``[[rules]]``). A rule without ``position`` comes after the one before it."""
    refused = _("The mapping file was not loaded.")
    try:
        text = content.decode("utf-8-sig")
        document: Any = tomllib.loads(text) if name.lower().endswith(".toml") else json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise ValidationFailed(
            refused, [FieldError("file", _("Not a JSON or TOML file: %(error)s", error=error))]
        ) from None
    items = document.get("rules") if isinstance(document, dict) else document
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise ValidationFailed(refused, [FieldError("file", _("Give the rules as a list under “rules”."))])
    if len(items) > MAX_MAPPING_FILE_RULES:
        raise ValidationFailed(refused, [FieldError("file", _("At most %(max)s rules.", max=MAX_MAPPING_FILE_RULES))])
    rules: list[MappingFields] = []
    errors: list[FieldError] = []
    for row, item in enumerate(items, start=1):
        values = {"position": row * 10} | item
        try:
            data = MappingFields.model_validate(values)
        except ValidationError as error:
            for detail in error.errors():
                where = ".".join(str(part) for part in detail["loc"]) or "rule"
                errors.append(FieldError(where, detail["msg"], row))
            continue
        errors.extend(FieldError(problem.field, problem.message, row) for problem in rule_errors(Rule.of(data)))
        rules.append(data)
    if errors:
        raise ValidationFailed(refused, errors)
    return rules


def replace_mappings(session: Session, rules: Sequence[MappingFields], *, actor: Actor) -> list[MqttMapping]:
    """Make ``rules`` the rule set (a mapping file loaded): every old rule deleted, each new one
    created, all change-logged."""
    require(actor, Capability.ADMINISTER)
    for mapping in list_mappings(session):
        delete_mapping(session, mapping, actor=actor)
    return [create_mapping(session, data, actor=actor) for data in rules]


# --- Who writes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class IngestUser:
    """The user readings are stored as, and the workshops they may write (None: all)."""

    user: User
    workshops: frozenset[int] | None


def ingest_user(session: Session, *, token: str | None = None, username: str | None = None) -> IngestUser:
    """The user of an API token (which must carry ``readings:write``, as the JSON API asks) or a
    user by name; with the reading form's rules: auditors write nothing, engineers only in their
    workshops. Checked again for every batch: a revoked token stops the ingest."""
    if token:
        user, api_token = org_service.user_for_api_token(session, token)
        if READINGS_SCOPE not in api_token.scope_set or READINGS_SCOPE not in org_service.effective_scopes(
            api_token, user
        ):
            raise PermissionDenied(_("This token lacks the scope %(scope)s.", scope=READINGS_SCOPE))
    else:
        found = org_service.get_user_by_username(session, username or "")
        if found is None or not found.is_active:
            raise NotFound(_("There is no active user %(username)s.", username=username or ""))
        user = found
    require_writer(user)
    allowed = writable_workshop_ids(session, user)
    return IngestUser(user, None if allowed is None else frozenset(allowed))


# --- One batch ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    topic: str
    payload: bytes
    received_at: datetime


@dataclass
class BatchResult:
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    refused: int = 0
    alerts_opened: list[str] = field(default_factory=list)
    newest_taken_at: datetime | None = None


def store_batch(
    session: Session, messages: Sequence[Message], mapper: Mapper, *, ingest: str, writer: IngestUser, now: datetime
) -> BatchResult:
    """Map, authorise and store ``messages``; keep the refused ones (trimmed to the last
    :data:`KEPT_REFUSALS` of the ingest). Re-delivered messages are duplicates, stored once."""
    result = BatchResult(received=len(messages))
    refusals: list[tuple[int, str]] = []
    readings: list[ReadingIn] = []
    for index, message in enumerate(messages):
        mapped = mapper.map(message.topic, message.payload, message.received_at, index)
        if isinstance(mapped, Refused):
            refusals.append((index, mapped.reason))
        else:
            readings.append(mapped)
    if writer.workshops is not None:

        def refuse(reading: ReadingIn, workshop: str) -> None:
            reason = _(
                "Point %(code)s belongs to workshop %(workshop)s: you can only send readings of your own workshops.",
                code=reading.point_code.strip(),
                workshop=workshop,
            )
            refusals.append((reading.row or 0, reason))

        readings = list(within_workshops(session, readings, writer.workshops, refuse))
    if readings:
        report = ingest_readings(
            session,
            readings,
            source=ReadingSource.MQTT,
            actor=writer.user,
            mode=IngestMode.VALID_ONLY,
            entered_by_id=writer.user.id,
            chunk_size=max(len(readings), 1),
        )
        result.stored = report.inserted
        result.duplicates = report.duplicates
        result.alerts_opened = list(report.alerts_opened)
        refusals.extend((error.row or 0, error.message) for error in report.rejected)
        refused_rows = {error.row for error in report.rejected}
        times = [reading.taken_at for reading in readings if reading.row not in refused_rows]
        if times:
            result.newest_taken_at = max(times, key=_comparable)
    result.refused = len(refusals)
    if refusals:
        _keep_refusals(session, ingest, messages, sorted(refusals), now)
    return result


def refuse_message(session: Session, message: Message, reason: str, *, ingest: str, now: datetime) -> BatchResult:
    """Keep ``message`` as refused for ``reason``: one the database would not store (its batch
    failed again and again, and then it failed alone), acknowledged so the queue moves on."""
    _keep_refusals(session, ingest, [message], [(0, reason)], now)
    return BatchResult(received=1, refused=1)


def _comparable(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=plant_timezone())


def _keep_refusals(
    session: Session, ingest: str, messages: Sequence[Message], refusals: list[tuple[int, str]], now: datetime
) -> None:
    session.add_all(
        MqttRefusal(
            ingest=ingest,
            received_at=messages[index].received_at,
            topic=printable(messages[index].topic[:200]),
            payload=payload_text(messages[index].payload),
            reason=printable(reason),
        )
        for index, reason in refusals[-KEPT_REFUSALS:]
    )
    session.flush()
    oldest_kept = (
        select(col(MqttRefusal.id))
        .where(col(MqttRefusal.ingest) == ingest)
        .order_by(col(MqttRefusal.id).desc())
        .offset(KEPT_REFUSALS - 1)
        .limit(1)
        .scalar_subquery()
    )
    session.execute(delete(MqttRefusal).where(col(MqttRefusal.ingest) == ingest, col(MqttRefusal.id) < oldest_kept))


# --- Statistics ---------------------------------------------------------------------------


def record_stats(
    session: Session,
    ingest: str,
    result: BatchResult | None,
    *,
    now: datetime,
    per_minute: int | None = None,
    connected: bool | None = None,
) -> MqttIngestStats:
    """Add a batch's counts to the ingest's statistics (in the batch's transaction)."""
    stats = session.get(MqttIngestStats, ingest)
    if stats is None:
        stats = MqttIngestStats(name=ingest)
        session.add(stats)
    if result is not None and result.received:
        stats.received += result.received
        stats.stored += result.stored
        stats.duplicates += result.duplicates
        stats.refused += result.refused
        stats.last_message_at = now
        if result.newest_taken_at is not None:
            stats.lag_seconds = max((now - _comparable(result.newest_taken_at)).total_seconds(), 0.0)
    if per_minute is not None:
        stats.per_minute = per_minute
    if connected is not None:
        stats.connected = connected
    stats.updated_at = now
    session.flush()
    return stats


def list_stats(session: Session) -> list[MqttIngestStats]:
    return list(session.scalars(select(MqttIngestStats).order_by(col(MqttIngestStats.name))))


def recent_refusals(session: Session, limit: int = 50) -> list[MqttRefusal]:
    return list(session.scalars(select(MqttRefusal).order_by(col(MqttRefusal.id).desc()).limit(limit)))
