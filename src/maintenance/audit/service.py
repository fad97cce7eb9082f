"""Writing and checking the change log.

Services call :func:`record_create`, :func:`record_update` or :func:`record_delete`
in the same session as the change itself, so the log row commits or rolls back
with it. Each row's hash covers its content and the previous row's hash.

The chain alone shows a row edited or removed in the database, but not the newest rows
deleted (what remains is a shorter, intact chain) nor a row edited and every later hash
recomputed. So every logged change also moves the anchor (``audit_chain_anchor``: rows
written, last id, head hash) in the same transaction, and with ``MAINTENANCE_AUDIT_KEY`` set
each row and the anchor carry an HMAC-SHA256 under that key, which nobody without the key can
recompute. :func:`verify_chain` checks all three: the links and hashes, the anchor against the
chain's end, the HMACs.

Without the key, anyone who can write to the database can recompute the chain and rewrite the
anchor to match: the verification says so rather than claim more. A writer that holds the key
signs the anchor only if the anchor it finds is signed and matches the chain's end, so a
rewritten anchor is never re-signed by the next change; ``maintenance audit seal`` signs it
(after checking everything else) once an operator has looked: when the key is first set on a
log that has rows, or after a process wrote without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, Literal, Protocol

from sqlalchemy import Row, Select, event, func, inspect, select, text
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction, SessionTransactionOrigin
from sqlmodel import Session, SQLModel, col

from maintenance.audit.labels import object_label
from maintenance.audit.models import GENESIS_HASH, AuditChainAnchor, ChangeAction, ObjectChange
from maintenance.config import get_settings
from maintenance.db import plant_day_start, utcnow
from maintenance.security import current_request_id

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
    """A process that makes changes (the scheduler, the demo loader, the CLI). What it may do
    is listed where it is declared: ``capabilities`` holds the names of the
    ``maintenance.org.permissions.Capability`` values it was given, none by default."""

    username: str
    id: int | None = None
    capabilities: frozenset[str] = frozenset()


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


def _hash_payload(change: ObjectChange | Row[Any]) -> str:
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


def _audit_key() -> bytes | None:
    key = get_settings().audit_key
    return key.get_secret_value().encode() if key is not None else None


def _row_hmac(key: bytes, row_hash: str) -> str:
    return hmac.new(key, f"object_change|{row_hash}".encode(), hashlib.sha256).hexdigest()


def _anchor_hmac(key: bytes, row_count: int, last_id: int, head_hash: str) -> str:
    message = f"audit_chain_anchor|{row_count}|{last_id}|{head_hash}"
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def _signed(expected: str, actual: str | None) -> bool:
    return actual is not None and hmac.compare_digest(expected, actual)


@dataclass
class _ChainTip:
    """The chain's end and the anchor's count while a transaction extends the chain."""

    head: str
    last_id: int
    row_count: int
    # False while audit_chain_anchor has no row (emptied by hand): the next change inserts it.
    anchored: bool
    # The anchor was signed with the key and matched the chain's end when this transaction read
    # it: only then does this transaction sign the anchor it writes.
    sealed: bool


_NEWEST = select(col(ObjectChange.id), col(ObjectChange.hash)).order_by(col(ObjectChange.id).desc()).limit(1)  # type: ignore[union-attr]
_ANCHOR_ROW = select(
    col(AuditChainAnchor.row_count),
    col(AuditChainAnchor.last_id),
    col(AuditChainAnchor.head_hash),
    col(AuditChainAnchor.hmac),
).where(col(AuditChainAnchor.id) == 1)
# The newest row and the anchor in one round trip (each a lookup by index); the anchor's columns
# are NULL when its row is missing.
_TIP = select(
    _NEWEST.with_only_columns(col(ObjectChange.id)).scalar_subquery().label("last_id"),
    _NEWEST.with_only_columns(col(ObjectChange.hash)).scalar_subquery().label("head"),
    *(
        _ANCHOR_ROW.with_only_columns(column).scalar_subquery().label(f"anchor_{column.key}")
        for column in _ANCHOR_ROW.selected_columns
    ),
)
_ANCHOR_TABLE = AuditChainAnchor.__table__  # type: ignore[attr-defined]
_ANCHOR_UPDATE = _ANCHOR_TABLE.update().where(_ANCHOR_TABLE.c.id == 1)
_ANCHOR_INSERT = _ANCHOR_TABLE.insert().values(id=1)
_HEAD_KEY = "audit_chain_head"


def _chain_tip(session: Session) -> _ChainTip:
    """The newest row and the anchor, read once per transaction and then carried along: while
    the transaction is open this session is the chain's only writer (SQLite transactions begin
    IMMEDIATE; PostgreSQL holds the advisory lock to the end), and the transaction's end or
    any rollback (a savepoint's included) forgets them. Saves queries per logged change in bulk
    work."""
    tip: _ChainTip | None = session.info.get(_HEAD_KEY)
    if tip is not None:
        return tip
    found = session.execute(_TIP).one()
    last_id, head = found.last_id or 0, found.head or GENESIS_HASH
    if found.anchor_row_count is None:
        # Someone emptied the anchor table: start again from the rows there are (unsigned, so
        # with a key the verification keeps failing until an operator seals it).
        count = session.scalar(select(func.count()).select_from(ObjectChange)) or 0
        tip = _ChainTip(head, last_id, count, anchored=False, sealed=False)
    else:
        key = _audit_key()
        anchor = (found.anchor_row_count, found.anchor_last_id, found.anchor_head_hash)
        sealed = (
            key is not None
            and (found.anchor_last_id, found.anchor_head_hash) == (last_id, head)
            and _signed(_anchor_hmac(key, *anchor), found.anchor_hmac)
        )
        tip = _ChainTip(head, last_id, found.anchor_row_count, anchored=True, sealed=sealed)
    session.info[_HEAD_KEY] = tip
    return tip


def _move_anchor(session: Session, tip: _ChainTip, key: bytes | None) -> None:
    """One small statement per logged change, in its transaction (a savepoint rolled back takes
    the anchor back with the rows)."""
    values = {
        "row_count": tip.row_count,
        "last_id": tip.last_id,
        "head_hash": tip.head,
        "hmac": _anchor_hmac(key, tip.row_count, tip.last_id, tip.head) if key is not None and tip.sealed else None,
    }
    connection = session.connection()
    if tip.anchored:
        connection.execute(_ANCHOR_UPDATE, values)
    else:
        connection.execute(_ANCHOR_INSERT, values)
        tip.anchored = True


@event.listens_for(OrmSession, "after_transaction_end")
def _forget_chain_tip(session: OrmSession, transaction: SessionTransaction) -> None:
    # The transaction's end (commit, rollback or close): the next one reads the chain's end
    # afresh, another writer may have extended it. A released savepoint keeps it (its rows are
    # this transaction's), and so does a flush's own subtransaction.
    if transaction.origin in (SessionTransactionOrigin.AUTOBEGIN, SessionTransactionOrigin.BEGIN):
        session.info.pop(_HEAD_KEY, None)


@event.listens_for(OrmSession, "after_soft_rollback")
def _forget_chain_tip_on_rollback(session: OrmSession, previous_transaction: SessionTransaction) -> None:
    # Any rollback, a savepoint's or a failed flush's included, may have taken rows and the
    # anchor back.
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
    tip = _chain_tip(session)
    key = _audit_key()
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
        prev_hash=tip.head,
        hash="",
    )
    change.hash = _hash_payload(change)
    change.hmac = _row_hmac(key, change.hash) if key is not None else None
    session.add(change)
    session.flush()
    assert change.id is not None
    tip.head, tip.last_id, tip.row_count = change.hash, change.id, tip.row_count + 1
    _move_anchor(session, tip, key)
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


AnchorState = Literal["ok", "missing", "truncated", "removed", "added", "replaced"]
SignatureState = Literal["valid", "invalid", "unsigned", "no_key"]


@dataclass
class ChainReport:
    """What :func:`verify_chain` found: the chain (links, hashes, row HMACs), the anchor against
    the chain's end, and what the key could check. Pages say it in the user's language from the
    codes; ``reason`` and :meth:`problems` are for the CLI."""

    checked: int
    broken_at_id: int | None = None
    reason: str = ""
    # What broke, for pages to say in the user's language: "link" (a row before it was removed or
    # reordered), "content" (the row was edited) or "hmac" (edited and its hash recomputed).
    cause: Literal["link", "content", "hmac"] | None = None
    # The chain's end: rows in the log, the newest row's id and hash.
    rows: int = 0
    last_id: int = 0
    head: str = GENESIS_HASH
    # The anchor against the chain's end: "truncated" (fewer rows and the newest is not the
    # anchor's: the newest rows were deleted), "removed" (fewer rows, same newest row), "added"
    # (more rows than the application wrote), "replaced" (as many rows, another newest row),
    # "missing" (no anchor row).
    anchor_state: AnchorState = "ok"
    anchor_rows: int | None = None
    anchor_last_id: int | None = None
    # The anchor's HMAC: "no_key" when MAINTENANCE_AUDIT_KEY is not set (nothing to check it with).
    anchor_signature: SignatureState = "no_key"
    keyed: bool = False
    # Rows carrying an HMAC (checked when keyed) and rows without (written before the key was
    # set, or without it): those are checked by hash, and the signed anchor covers them.
    signed_rows: int = 0
    unsigned_rows: int = 0

    @property
    def chain_ok(self) -> bool:
        return self.broken_at_id is None

    @property
    def anchor_ok(self) -> bool:
        return self.anchor_state == "ok" and self.anchor_signature in ("valid", "no_key")

    @property
    def ok(self) -> bool:
        return self.chain_ok and self.anchor_ok

    @property
    def anchor_removed_rows(self) -> int:
        return (self.anchor_rows or 0) - self.rows

    def problems(self) -> list[str]:
        """Every failure, one English sentence each (the CLI's messages)."""
        found = []
        if self.broken_at_id is not None:
            found.append(f"change log broken at row {self.broken_at_id}: {self.reason}")
        anchor = f"the anchor records {self.anchor_rows} rows (last #{self.anchor_last_id}), {self.rows} are present"
        match self.anchor_state:
            case "missing":
                found.append("the anchor is missing (audit_chain_anchor has no row): rows may have been deleted")
            case "truncated":
                found.append(f"the chain's end was cut off (its newest rows were deleted): {anchor}")
            case "removed":
                found.append(f"rows were deleted from the log: {anchor}")
            case "added":
                found.append(f"rows were added to the log outside the application: {anchor}")
            case "replaced":
                found.append(f"the chain's newest row is not the one the anchor records: {anchor}")
        match self.anchor_signature:
            case "invalid":
                found.append(
                    "the anchor's HMAC does not match: the anchor was rewritten without the key "
                    "(to fit a truncated or recomputed chain) or signed with another key"
                )
            case "unsigned":
                found.append(
                    "the anchor carries no HMAC although MAINTENANCE_AUDIT_KEY is set: it was written by a "
                    "process without the key, or rewritten; once checked, `maintenance audit seal` signs it"
                )
        return found


@dataclass(frozen=True)
class _Anchor:
    row_count: int
    last_id: int
    head_hash: str
    hmac: str | None


# The anchor's columns as scalar subqueries: in the same statement as the rows they describe, the
# rows and the anchor are one state (PostgreSQL gives each statement of a READ COMMITTED
# transaction its own snapshot; a writer committing between two statements would look like rows
# added or removed). NULL when the anchor's row is missing.
_ANCHOR_COLUMNS = [
    _ANCHOR_ROW.with_only_columns(column).scalar_subquery().label(f"anchor_{column.key}")
    for column in _ANCHOR_ROW.selected_columns
]
# Columns, not entities, in chunks: the walk holds one chunk at a time and builds no objects.
_CHAIN_ROWS = (
    select(*_ANCHOR_COLUMNS, *(col(column) for column in ObjectChange.__table__.columns))  # type: ignore[attr-defined]
    .order_by(col(ObjectChange.id))
    .execution_options(yield_per=1000)
)
_EMPTY_CHAIN = select(select(func.count()).select_from(ObjectChange).scalar_subquery().label("rows"), *_ANCHOR_COLUMNS)


def _anchor_in(row: Row[Any]) -> _Anchor | None:
    if row.anchor_row_count is None:
        return None
    return _Anchor(row.anchor_row_count, row.anchor_last_id, row.anchor_head_hash, row.anchor_hmac)


def _anchor_state(anchor: _Anchor | None, rows: int, last_id: int, head: str) -> AnchorState:
    if anchor is None:
        return "missing"
    if rows < anchor.row_count:
        return "removed" if (last_id, head) == (anchor.last_id, anchor.head_hash) else "truncated"
    if rows > anchor.row_count:
        return "added"
    return "ok" if (last_id, head) == (anchor.last_id, anchor.head_hash) else "replaced"


def verify_chain(session: Session) -> ChainReport:
    """Walk the log in order, recomputing each hash (and each HMAC, with the key); note the first
    break and count on to the end; then hold the chain's end against the anchor, read in the
    same statement (no lock: writers go on while the log is checked)."""
    key = _audit_key()
    report = ChainReport(checked=0, keyed=key is not None)
    expected_prev = GENESIS_HASH
    anchor: _Anchor | None = None
    with session.execute(_CHAIN_ROWS) as rows:
        for row in rows:
            if report.rows == 0:
                anchor = _anchor_in(row)
            report.rows += 1
            report.last_id, report.head = row.id, row.hash
            if row.hmac is None:
                report.unsigned_rows += 1
            else:
                report.signed_rows += 1
            if report.broken_at_id is not None:
                continue
            if row.prev_hash != expected_prev:
                report.broken_at_id, report.cause = row.id, "link"
                report.reason = "previous-hash link broken (a row was removed or reordered)"
            elif _hash_payload(row) != row.hash:
                report.broken_at_id, report.cause = row.id, "content"
                report.reason = "content does not match its hash (the row was edited)"
            elif key is not None and row.hmac is not None and not _signed(_row_hmac(key, row.hash), row.hmac):
                report.broken_at_id, report.cause = row.id, "hmac"
                report.reason = "its HMAC does not match (the row was edited and the chain recomputed without the key)"
            else:
                expected_prev = row.hash
                report.checked += 1
    if report.rows == 0:
        empty = session.execute(_EMPTY_CHAIN).one()
        if empty.rows:
            return verify_chain(session)  # the first rows were committed meanwhile
        anchor = _anchor_in(empty)
    report.anchor_state = _anchor_state(anchor, report.rows, report.last_id, report.head)
    if anchor is not None:
        report.anchor_rows, report.anchor_last_id = anchor.row_count, anchor.last_id
    if key is not None:
        if anchor is None or anchor.hmac is None:
            report.anchor_signature = "unsigned"
        else:
            expected = _anchor_hmac(key, anchor.row_count, anchor.last_id, anchor.head_hash)
            report.anchor_signature = "valid" if _signed(expected, anchor.hmac) else "invalid"
    return report


class ChainNotSealable(Exception):
    """The chain cannot be sealed: no key, or it fails a check the signature would vouch for."""

    def __init__(self, message: str, report: ChainReport | None = None) -> None:
        super().__init__(message)
        self.report = report


def seal_chain(session: Session) -> ChainReport:
    """Sign the anchor with the key, after checking everything the signature vouches for: the
    chain's links, hashes and row HMACs, and the anchor against the chain's end. For an operator,
    once: when the key is first set on a log with rows, or after a process wrote without the key
    (the verification then reports the anchor unsigned). Whoever runs it vouches for the chain
    as it stands."""
    key = _audit_key()
    if key is None:
        raise ChainNotSealable("MAINTENANCE_AUDIT_KEY is not set: there is nothing to sign with")
    _lock_chain(session)
    report = verify_chain(session)
    if not report.chain_ok or report.anchor_state != "ok":
        raise ChainNotSealable("the change log fails its checks: it is not sealed", report)
    # The anchor matches the chain's end: its count, last id and head are the chain's.
    session.connection().execute(_ANCHOR_UPDATE, {"hmac": _anchor_hmac(key, report.rows, report.last_id, report.head)})
    session.info.pop(_HEAD_KEY, None)
    report.anchor_signature = "valid"
    return report
