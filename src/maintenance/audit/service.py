"""Writing and checking the change log.

Services call :func:`record_create`, :func:`record_update` or :func:`record_delete`
in the same session as the change itself, so the log row commits or rolls back
with it. Each row's hash covers its content and the previous row's hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, Literal, Protocol

from sqlalchemy import Select, event, inspect, select, text
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction, SessionTransactionOrigin
from sqlmodel import Session, SQLModel, col

from maintenance.audit.labels import object_label
from maintenance.audit.models import ChangeAction, ObjectChange
from maintenance.db import plant_day_start, utcnow
from maintenance.security import current_request_id

GENESIS_HASH = "0" * 64
# Any constant works: it only serialises writers of the chain on PostgreSQL.
_CHAIN_LOCK_KEY = 0x6D61696E74


class Actor(Protocol):
    """Whoever makes a change: a user, or a named system process."""

    @property
    def id(self) -> int | None: ...

    @property
    def username(self) -> str: ...


@dataclass(frozen=True)
class SystemActor:
    username: str
    id: int | None = None


def _json_safe(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def snapshot(obj: SQLModel, **extra: Any) -> dict[str, Any]:
    """Column values as JSON-safe data, minus secrets listed in ``__audit_exclude__``."""
    excluded: frozenset[str] = getattr(obj, "__audit_exclude__", frozenset())
    mapper = inspect(type(obj))
    data = {attr.key: _json_safe(getattr(obj, attr.key)) for attr in mapper.column_attrs if attr.key not in excluded}
    data.update({key: _json_safe(value) for key, value in extra.items()})
    return data


def _object_id(obj: SQLModel) -> str:
    identity = inspect(obj).identity
    if identity is None:
        raise ValueError(f"{type(obj).__name__} must be flushed before it is logged")
    return ":".join(str(part) for part in identity)


def _hash_payload(change: ObjectChange) -> str:
    payload = {
        "prev": change.prev_hash,
        "at": change.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": change.actor_id,
        "actor_name": change.actor_name,
        "object_type": change.object_type,
        "object_id": change.object_id,
        "object_repr": change.object_repr,
        "action": ChangeAction(change.action).value,
        "before": change.before,
        "after": change.after,
        "request_id": change.request_id,
    }
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _lock_chain(session: Session) -> None:
    # SQLite transactions already start with BEGIN IMMEDIATE (see db.py); PostgreSQL
    # needs an explicit lock so two writers cannot both extend the same head.
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK_KEY})


_HEAD = select(col(ObjectChange.hash)).order_by(col(ObjectChange.id).desc()).limit(1)  # type: ignore[union-attr]
_HEAD_KEY = "audit_chain_head"


def _chain_head(session: Session) -> str:
    """The newest row's hash, read once per transaction and then carried along: while the
    transaction is open this session is the chain's only writer (SQLite transactions begin
    IMMEDIATE; PostgreSQL holds the advisory lock to the end), and any transaction end, a
    savepoint's included, forgets it. Saves a query per logged change in bulk work."""
    head = session.info.get(_HEAD_KEY)
    if head is None:
        head = session.scalar(_HEAD) or GENESIS_HASH
    return str(head)


@event.listens_for(OrmSession, "after_transaction_end")
def _forget_chain_head(session: OrmSession, transaction: SessionTransaction) -> None:
    # A flush's own subtransaction ending is no transaction end; a failed flush leaves the
    # session to be rolled back, which is.
    if transaction.origin != SessionTransactionOrigin.SUBTRANSACTION:
        session.info.pop(_HEAD_KEY, None)


def record(
    session: Session,
    *,
    actor: Actor,
    action: ChangeAction,
    obj: SQLModel,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> ObjectChange:
    _lock_chain(session)
    head = _chain_head(session)
    change = ObjectChange(
        at=utcnow(),
        actor_id=actor.id,
        actor_name=actor.username,
        object_type=type(obj).__tablename__,  # type: ignore[arg-type]
        object_id=_object_id(obj),
        object_repr=str(getattr(obj, "audit_repr", "") or getattr(obj, "code", "") or getattr(obj, "username", ""))[
            :200
        ],
        action=action,
        before=dict(before) if before is not None else None,
        after=dict(after) if after is not None else None,
        request_id=current_request_id(),
        prev_hash=head,
        hash="",
    )
    change.hash = _hash_payload(change)
    session.add(change)
    session.flush()
    session.info[_HEAD_KEY] = change.hash
    return change


def record_create(session: Session, actor: Actor, obj: SQLModel, **extra: Any) -> ObjectChange:
    return record(session, actor=actor, action=ChangeAction.CREATE, obj=obj, after=snapshot(obj, **extra))


def record_update(
    session: Session, actor: Actor, obj: SQLModel, before: Mapping[str, Any], **extra: Any
) -> ObjectChange | None:
    """Log an update; nothing is written when no logged field changed."""
    after = snapshot(obj, **extra)
    if dict(before) == after:
        return None
    return record(session, actor=actor, action=ChangeAction.UPDATE, obj=obj, before=before, after=after)


def record_delete(session: Session, actor: Actor, obj: SQLModel, **extra: Any) -> ObjectChange:
    return record(session, actor=actor, action=ChangeAction.DELETE, obj=obj, before=snapshot(obj, **extra))


# --- Reading ------------------------------------------------------------------------------


@dataclass
class ChangeFilters:
    object_type: str | None = None
    object_id: str | None = None
    actor: str | None = None
    date_from: date | None = None
    date_to: date | None = None


def list_changes(filters: ChangeFilters) -> Select[ObjectChange]:
    """Newest first; the caller paginates."""
    stmt = select(ObjectChange).order_by(col(ObjectChange.id).desc())  # type: ignore[union-attr]
    if filters.object_type:
        stmt = stmt.where(col(ObjectChange.object_type) == filters.object_type)
    if filters.object_id:
        stmt = stmt.where(col(ObjectChange.object_id) == filters.object_id)
    if filters.actor:
        stmt = stmt.where(col(ObjectChange.actor_name) == filters.actor)
    if filters.date_from:
        stmt = stmt.where(col(ObjectChange.at) >= plant_day_start(filters.date_from))
    if filters.date_to:
        stmt = stmt.where(col(ObjectChange.at) < plant_day_start(filters.date_to + timedelta(days=1)))
    return stmt


def object_types(session: Session) -> list[tuple[str, str]]:
    """(code, label) of every object type in the log, by label."""
    codes = session.scalars(select(col(ObjectChange.object_type)).distinct())
    return sorted(((code, object_label(code)) for code in codes), key=lambda pair: pair[1])


@dataclass
class ChainReport:
    checked: int
    broken_at_id: int | None = None
    reason: str = ""
    # What broke, for pages to say in the user's language: "link" (a row before it was removed or
    # reordered) or "content" (the row was edited).
    cause: Literal["link", "content"] | None = None

    @property
    def ok(self) -> bool:
        return self.broken_at_id is None


def _iter_chain(session: Session) -> Iterator[ObjectChange]:
    stmt = select(ObjectChange).order_by(ObjectChange.id).execution_options(yield_per=1000)  # type: ignore[arg-type]
    yield from session.scalars(stmt)


def verify_chain(session: Session) -> ChainReport:
    """Walk the log in order, recomputing each hash; stop at the first break."""
    expected_prev = GENESIS_HASH
    checked = 0
    for change in _iter_chain(session):
        if change.prev_hash != expected_prev:
            return ChainReport(checked, change.id, "previous-hash link broken (a row was removed or reordered)", "link")
        if _hash_payload(change) != change.hash:
            return ChainReport(checked, change.id, "content does not match its hash (the row was edited)", "content")
        expected_prev = change.hash
        checked += 1
    return ChainReport(checked)
