"""Writing and checking the change log.

Services call :func:`record_create`, :func:`record_update` or :func:`record_delete`
in the same session as the change itself, so the log row commits or rolls back
with it. Each row's hash covers its content and the previous row's hash on its chain.

The log is ``CHAINS`` hash chains side by side (``object_change.chain``), so that writers do not
wait for each other: on PostgreSQL a transaction takes the first chain it finds free (a
non-blocking advisory lock per chain, tried from a random one round the others) at its first
logged change and extends that chain until it ends; it waits only when every chain is taken.
On SQLite one transaction writes at a time anyway: it always extends chain 0. Each chain is
checked on its own, as the single chain was.

A chain alone shows a row edited or removed in the database, but not its newest rows
deleted (what remains is a shorter, intact chain) nor a row edited and every later hash
recomputed. So every logged change also moves its chain's anchor (``audit_chain_anchor``: rows
written, last id, head hash) in the same transaction, and with ``MAINTENANCE_AUDIT_KEY`` set
each row and each anchor carry an HMAC-SHA256 under that key, which nobody without the key can
recompute. :func:`verify_chain` checks all three on every chain: the links and hashes, the
anchor against the chain's end, the HMACs.

Without the key, anyone who can write to the database can recompute the chain and rewrite the
anchor to match: the verification says so rather than claim more. A writer that holds the key
signs the anchor only if the anchor it finds is signed and matches the chain's end, so a
rewritten anchor is never re-signed by the next change; ``maintenance audit seal`` signs them
(after checking everything else) once an operator has looked: when the key is first set on a
log that has rows, or after a process wrote without the key.

An anchor anchors its own chain only: whoever can write the database can cut one chain back to an
earlier state of its rows and anchor (copied from a backup, signature included). So each
scheduler pass (and ``maintenance audit seal``) appends a :func:`checkpoint` to chain 0 naming
every chain's end, and the verification holds every chain against the newest one: only the rows
written since it remain protected by their chain's anchor alone.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any, Literal, Protocol

from sqlalchemy import Row, Select, bindparam, event, func, inspect, select, text
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction, SessionTransactionOrigin
from sqlmodel import Session, SQLModel, col

from maintenance.audit.labels import object_label, register_labels
from maintenance.audit.models import (
    CHAINS,
    GENESIS_HASH,
    AuditChainAnchor,
    ChangeAction,
    ObjectChange,
    genesis_hash,
)
from maintenance.config import get_settings
from maintenance.db import plant_day_start, utcnow
from maintenance.i18n import gettext as _
from maintenance.security import current_request_id

logger = logging.getLogger(__name__)

# Any constant works: plus a chain's number, it keys the advisory lock a PostgreSQL writer holds
# on the chain it extends.
_CHAIN_LOCK_KEY = 0x6D61696E74
# How many chains writers spread over: CHAINS, always, for the application. Not a setting:
# bench/bench_changelog.py sets it to 1 to measure its baseline, every writer on one chain behind
# one lock as before there were several (verification always checks all CHAINS).
writer_chains = CHAINS


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
    payload: dict[str, Any] = {
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
    # The chain's number is covered from chain 1 on: a row moved to another chain no longer
    # matches its hash. Chain 0's rows hash as the single chain's did, so a log written before
    # there were several chains verifies as it is (and a row moved into or out of chain 0 gains
    # or loses the key, so it does not match either).
    if change.chain:
        payload["chain"] = change.chain
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


_TRY_LOCK = text("SELECT pg_try_advisory_xact_lock(:key)")
_LOCK = text("SELECT pg_advisory_xact_lock(:key)")
# The chain this transaction last held, kept until the transaction ends (the tip is forgotten at
# any rollback; a savepoint's rollback may have released the chain's lock with it).
_CHAIN_KEY = "audit_chain"


def _on_postgresql(session: Session) -> bool:
    # SQLite transactions already start with BEGIN IMMEDIATE (see db.py): one writer at a time.
    return session.get_bind().dialect.name == "postgresql"


def _claim_chain(session: Session) -> int:
    """The chain this transaction extends, locked until it ends so no other writer extends the
    same head: on PostgreSQL the first free one (no waiting) from the one it held before, or a
    random one, round the others; only when all are taken does it wait, for the first."""
    if not _on_postgresql(session):
        return 0
    first: int = session.info.get(_CHAIN_KEY, random.randrange(writer_chains))  # noqa: S311 (spreads load; no secret)
    for step in range(writer_chains):
        chain = (first + step) % writer_chains
        if session.scalar(_TRY_LOCK, {"key": _CHAIN_LOCK_KEY + chain}):
            break
    else:
        chain = first
        session.execute(_LOCK, {"key": _CHAIN_LOCK_KEY + chain})
    session.info[_CHAIN_KEY] = chain
    return chain


def _lock_every_chain(session: Session) -> None:
    """Wait for every chain's writer to end and keep them out (to seal the anchors). Chain 0
    last: a checkpoint holding another chain waits for chain 0 (never the other way round)."""
    if _on_postgresql(session):
        for chain in [*range(1, CHAINS), 0]:
            session.execute(_LOCK, {"key": _CHAIN_LOCK_KEY + chain})


def _audit_key() -> bytes | None:
    key = get_settings().audit_key
    return key.get_secret_value().encode() if key is not None else None


def _row_hmac(key: bytes, row_hash: str) -> str:
    return hmac.new(key, f"object_change|{row_hash}".encode(), hashlib.sha256).hexdigest()


def _anchor_hmac(key: bytes, chain: int, row_count: int, last_id: int, head_hash: str) -> str:
    # Chain 0's message is the single chain's (an anchor sealed before there were several stays
    # valid); the others' name their chain, so an anchor's signature does not fit another chain.
    prefix = "audit_chain_anchor" if chain == 0 else f"audit_chain_anchor|{chain}"
    message = f"{prefix}|{row_count}|{last_id}|{head_hash}"
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def _signed(expected: str, actual: str | None) -> bool:
    return actual is not None and hmac.compare_digest(expected, actual)


@dataclass
class _ChainTip:
    """The chain's end and the anchor's count while a transaction extends the chain."""

    chain: int
    head: str
    last_id: int
    row_count: int
    # False while audit_chain_anchor has no row (emptied by hand): the next change inserts it.
    anchored: bool
    # The anchor was signed with the key and matched the chain's end when this transaction read
    # it: only then does this transaction sign the anchor it writes.
    sealed: bool


# Statements about one chain take its number as the parameter "chain".
_IN_CHAIN = col(ObjectChange.chain) == bindparam("chain")
_NEWEST = (
    select(col(ObjectChange.id), col(ObjectChange.hash))
    .where(_IN_CHAIN)
    .order_by(col(ObjectChange.id).desc())  # type: ignore[union-attr]
    .limit(1)
)
_ANCHOR_ROW = select(
    col(AuditChainAnchor.row_count),
    col(AuditChainAnchor.last_id),
    col(AuditChainAnchor.head_hash),
    col(AuditChainAnchor.hmac),
).where(col(AuditChainAnchor.id) == bindparam("chain"))
_CHAIN_COUNT = select(func.count()).select_from(ObjectChange).where(_IN_CHAIN)
# The chain's newest row and its anchor in one round trip (each a lookup by index); the anchor's columns
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
_ANCHOR_UPDATE = _ANCHOR_TABLE.update().where(_ANCHOR_TABLE.c.id == bindparam("anchor_chain"))
_ANCHOR_INSERT = _ANCHOR_TABLE.insert()
_HEAD_KEY = "audit_chain_head"


def _chain_tip(session: Session, chain: int | None = None) -> _ChainTip:
    """The chain this transaction extends (``chain`` when given: waited for if another writer
    holds it), its newest row and its anchor, claimed and read once per transaction and then
    carried along: while the transaction is open this session is the chain's only writer (SQLite
    transactions begin IMMEDIATE; PostgreSQL holds the chain's advisory lock to the end), and the
    transaction's end or any rollback (a savepoint's included) forgets them. Saves queries per
    logged change in bulk work."""
    tips: dict[int, _ChainTip] = session.info.setdefault(_HEAD_KEY, {})
    if chain is None:
        held = session.info.get(_CHAIN_KEY)
        if held in tips:
            return tips[held]
        chain = _claim_chain(session)
    elif chain not in tips and _on_postgresql(session):
        session.execute(_LOCK, {"key": _CHAIN_LOCK_KEY + chain})
    if chain in tips:
        return tips[chain]
    found = session.execute(_TIP, {"chain": chain}).one()
    last_id, head = found.last_id or 0, found.head or genesis_hash(chain)
    if found.anchor_row_count is None:
        # Someone deleted the chain's anchor: start again from the rows there are (unsigned, so
        # with a key the verification keeps failing until an operator seals it).
        count = session.scalar(_CHAIN_COUNT, {"chain": chain}) or 0
        tip = _ChainTip(chain, head, last_id, count, anchored=False, sealed=False)
    else:
        key = _audit_key()
        anchor = (found.anchor_row_count, found.anchor_last_id, found.anchor_head_hash)
        sealed = (
            key is not None
            and (found.anchor_last_id, found.anchor_head_hash) == (last_id, head)
            and _signed(_anchor_hmac(key, chain, *anchor), found.anchor_hmac)
        )
        tip = _ChainTip(chain, head, last_id, found.anchor_row_count, anchored=True, sealed=sealed)
    tips[chain] = tip
    return tip


def _move_anchor(session: Session, tip: _ChainTip, key: bytes | None) -> None:
    """One small statement per logged change, in its transaction (a savepoint rolled back takes
    the anchor back with the rows)."""
    values = {
        "row_count": tip.row_count,
        "last_id": tip.last_id,
        "head_hash": tip.head,
        "hmac": (
            _anchor_hmac(key, tip.chain, tip.row_count, tip.last_id, tip.head)
            if key is not None and tip.sealed
            else None
        ),
    }
    connection = session.connection()
    if tip.anchored:
        connection.execute(_ANCHOR_UPDATE, {**values, "anchor_chain": tip.chain})
    else:
        connection.execute(_ANCHOR_INSERT, {**values, "id": tip.chain})
        tip.anchored = True


@event.listens_for(OrmSession, "after_transaction_end")
def _forget_chain_tip(session: OrmSession, transaction: SessionTransaction) -> None:
    # The transaction's end (commit, rollback or close): the next one reads the chain's end
    # afresh, another writer may have extended it. A released savepoint keeps it (its rows are
    # this transaction's), and so does a flush's own subtransaction.
    if transaction.origin in (SessionTransactionOrigin.AUTOBEGIN, SessionTransactionOrigin.BEGIN):
        session.info.pop(_HEAD_KEY, None)
        session.info.pop(_CHAIN_KEY, None)


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
    repr_text = str(getattr(obj, "audit_repr", "") or getattr(obj, "code", "") or getattr(obj, "username", ""))
    return _append(
        session,
        _chain_tip(session),
        ObjectChange(
            at=utcnow(),
            actor_id=actor.id,
            actor_name=actor.username,
            object_type=type(obj).__tablename__,  # type: ignore[arg-type]
            object_id=_object_id(obj),
            object_repr=repr_text[:200],
            action=action,
            before=dict(before) if before is not None else None,
            after=dict(after) if after is not None else None,
            prev_hash="",
            hash="",
        ),
    )


def _append(session: Session, tip: _ChainTip, change: ObjectChange) -> ObjectChange:
    """Put ``change`` at the end of the tip's chain: link, hash and sign it, move the anchor."""
    key = _audit_key()
    change.request_id = current_request_id()
    change.prev_hash, change.chain = tip.head, tip.chain
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


# --- Checkpoints ---------------------------------------------------------------------------

CHECKPOINT = "audit_checkpoint"
"""The object type of a checkpoint row (see :func:`checkpoint`)."""
_CHECKPOINT_ID = "log"
_NEWEST_CHECKPOINT = (
    select(col(ObjectChange.id), col(ObjectChange.at), col(ObjectChange.after))
    .where(col(ObjectChange.chain) == 0, col(ObjectChange.object_type) == CHECKPOINT)
    .order_by(col(ObjectChange.id).desc())  # type: ignore[union-attr]
    .limit(1)
)
CheckpointEntries = dict[int, tuple[int, int, str]]
"""Chain → (rows, last id, head) as a checkpoint names it."""


@dataclass(frozen=True)
class Checkpoint:
    id: int
    at: datetime
    chains: CheckpointEntries


def newest_checkpoint(session: Session) -> Checkpoint | None:
    found = session.execute(_NEWEST_CHECKPOINT).first()
    if found is None:
        return None
    chains: CheckpointEntries = {}
    for chain, entry in (found.after or {}).items():
        # An edited checkpoint breaks chain 0 (its hash); whatever does not read is left out.
        match entry:
            case [int(rows), int(last_id), str(head)] if str(chain).isdigit():
                chains[int(chain)] = (rows, last_id, head)
    return Checkpoint(found.id, found.at, chains)


def _chain_end(session: Session, chain: int) -> tuple[int, int, str]:
    """The chain's committed end as this transaction sees it: (rows, last id, head)."""
    found = session.execute(_TIP, {"chain": chain}).one()
    last_id, head = found.last_id or 0, found.head or genesis_hash(chain)
    if found.anchor_row_count is not None and (found.anchor_last_id, found.anchor_head_hash) == (last_id, head):
        return found.anchor_row_count, last_id, head
    return session.scalar(_CHAIN_COUNT, {"chain": chain}) or 0, last_id, head


def _cut_below(session: Session, previous: Checkpoint) -> list[int]:
    """The chains that no longer hold the newest row ``previous`` names (one lookup by id)."""
    named = {last_id: (chain, head) for chain, (rows, last_id, head) in previous.chains.items() if rows}
    present = {
        row.id: (row.chain, row.hash)
        for row in session.execute(
            select(col(ObjectChange.id), col(ObjectChange.chain), col(ObjectChange.hash)).where(
                col(ObjectChange.id).in_(named)
            )
        )
    }
    return sorted(chain for last_id, (chain, head) in named.items() if present.get(last_id) != (chain, head))


def checkpoint(session: Session, actor: Actor, now: datetime) -> ObjectChange | None:
    """Append a checkpoint to chain 0: a row naming, for every chain, how many rows it holds, its
    newest row's id and hash. A chain alone is protected only by its own anchor: whoever can
    write the database can cut it back to an earlier state of rows and anchor (copied from a
    backup, signature included) and the chain verifies. :func:`verify_chain` holds every chain
    against the newest checkpoint, which chain 0 links, hashes, signs and anchors like any row:
    a chain cut back below it no longer holds the row it names. Rows written after the newest
    checkpoint are what such a cut can still remove unseen (the scheduler writes one every pass).

    Chain 0 is claimed (waited for), the others are not: each chain's end is read as committed
    (or written by this transaction). A checkpoint names a prefix of each chain, and a writer
    extending a chain meanwhile only adds rows after it: it holds the chain's lock, so the
    chain's previous rows were committed before it took ids from the sequence, and its rows'
    ids are all larger than the prefix's last.

    Not written (None, and a warning logged) when a chain no longer holds the newest row the
    previous checkpoint named: a new checkpoint would make the cut chain agree with the newest
    checkpoint again. ``maintenance audit verify`` says which chain."""
    tip = _chain_tip(session, 0)
    previous = newest_checkpoint(session)
    if previous is not None and (cut := _cut_below(session, previous)):
        logger.warning(
            "change-log checkpoint not written: chains %s were cut back below checkpoint row %s; "
            "run `maintenance audit verify`",
            cut,
            previous.id,
        )
        return None
    ends = {chain: _chain_end(session, chain) for chain in range(CHAINS)}
    return _append(
        session,
        tip,
        ObjectChange(
            at=now,
            actor_id=actor.id,
            actor_name=actor.username,
            object_type=CHECKPOINT,
            object_id=_CHECKPOINT_ID,
            object_repr=str(sum(rows for rows, _last, _head in ends.values())),
            action=ChangeAction.CREATE,
            after={str(chain): list(end) for chain, end in ends.items()},
            prev_hash="",
            hash="",
        ),
    )


def _checkpoint_value(name: str, value: Any) -> str | None:
    match value:
        case [int(rows), int(last_id), str(head)]:
            return _("%(rows)s rows up to row %(id)s, head %(head)s…", rows=rows, id=last_id, head=head[:12])
    return None


register_labels(
    CHECKPOINT,
    ("变更日志检查点", "Change-log checkpoint"),
    {str(chain): (f"链 {chain}", f"Chain {chain}") for chain in range(CHAINS)},
    _checkpoint_value,
    repr_formatter=lambda rows: _("%(n)s rows in the log", n=rows),
)


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
    """What :func:`verify_chain` found on one chain: its links, hashes and row HMACs, its anchor
    against its end, and what the key could check. Pages say it in the user's language from the
    codes; ``reason`` and :meth:`problems` are for the CLI."""

    chain: int
    checked: int
    broken_at_id: int | None = None
    reason: str = ""
    # What broke, for pages to say in the user's language: "link" (a row before it was removed or
    # reordered), "content" (the row was edited) or "hmac" (edited and its hash recomputed).
    cause: Literal["link", "content", "hmac"] | None = None
    # The chain's end: its rows in the log, the newest row's id and hash.
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
    # The newest checkpoint (None: none yet) and what it names of this chain: its rows, up to row
    # checkpoint_last_id; and what the chain holds up to there (its rows, whether that row is
    # there with the head the checkpoint names).
    checkpoint_id: int | None = None
    checkpoint_rows: int = 0
    checkpoint_last_id: int = 0
    rows_at_checkpoint: int = 0
    checkpoint_head_found: bool = True

    @property
    def chain_ok(self) -> bool:
        return self.broken_at_id is None

    @property
    def checkpoint_ok(self) -> bool:
        return self.checkpoint_head_found and self.rows_at_checkpoint == self.checkpoint_rows

    @property
    def anchor_ok(self) -> bool:
        return self.anchor_state == "ok" and self.anchor_signature in ("valid", "no_key")

    @property
    def ok(self) -> bool:
        return self.chain_ok and self.anchor_ok and self.checkpoint_ok

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
                found.append(
                    "the anchor is missing (audit_chain_anchor has no row for this chain): rows may have been deleted"
                )
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
        if not self.checkpoint_ok:
            found.append(
                f"the chain was cut back below checkpoint row {self.checkpoint_id}: the checkpoint names "
                f"{self.checkpoint_rows} rows up to row {self.checkpoint_last_id}, {self.rows_at_checkpoint} "
                "are present up to there"
                + ("" if self.checkpoint_head_found else f", and row {self.checkpoint_last_id} is not the one it names")
            )
        return found


@dataclass
class LogReport:
    """What :func:`verify_chain` found on the whole log: each chain's report (all ``CHAINS``,
    the empty ones too: their anchors are checked), and rows whose chain number is none of
    them (written around the database's check constraint)."""

    chains: list[ChainReport]
    keyed: bool
    stray_rows: int = 0
    first_stray_id: int | None = None
    # The newest checkpoint, every chain was held against (None: none written yet).
    checkpoint: Checkpoint | None = None

    @property
    def chain_ok(self) -> bool:
        return all(chain.chain_ok for chain in self.chains) and not self.stray_rows

    @property
    def anchor_ok(self) -> bool:
        return all(chain.anchor_ok for chain in self.chains)

    @property
    def checkpoint_ok(self) -> bool:
        return all(chain.checkpoint_ok for chain in self.chains)

    @property
    def ok(self) -> bool:
        return self.chain_ok and self.anchor_ok and self.checkpoint_ok

    @property
    def failed(self) -> list[ChainReport]:
        return [chain for chain in self.chains if not chain.ok]

    @property
    def used_chains(self) -> int:
        return sum(1 for chain in self.chains if chain.rows)

    @property
    def checked(self) -> int:
        return sum(chain.checked for chain in self.chains)

    @property
    def rows(self) -> int:
        return sum(chain.rows for chain in self.chains) + self.stray_rows

    @property
    def signed_rows(self) -> int:
        return sum(chain.signed_rows for chain in self.chains)

    @property
    def unsigned_rows(self) -> int:
        return sum(chain.unsigned_rows for chain in self.chains)

    @property
    def anchors_signed(self) -> bool:
        return self.keyed and all(chain.anchor_signature == "valid" for chain in self.chains)

    def problems(self) -> list[str]:
        """Every failure, one English sentence each, naming its chain (the CLI's messages)."""
        found = [f"chain {chain.chain}: {problem}" for chain in self.chains for problem in chain.problems()]
        if self.stray_rows:
            found.append(
                f"{self.stray_rows} rows belong to no chain (the first is row {self.first_stray_id}): "
                "they were written outside the application"
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
    .where(_IN_CHAIN)
    .order_by(col(ObjectChange.id))
    .execution_options(yield_per=1000)
)
_EMPTY_CHAIN = select(_CHAIN_COUNT.scalar_subquery().label("rows"), *_ANCHOR_COLUMNS)
_STRAY_ROWS = select(func.count(), func.min(col(ObjectChange.id))).where(
    (col(ObjectChange.chain) < 0) | (col(ObjectChange.chain) >= CHAINS)
)


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


def verify_chain(session: Session) -> LogReport:
    """Check every chain (:func:`_verify_one_chain`) and against the newest checkpoint (read
    first: the chains walked after it only hold more rows), and that no row lies outside them."""
    key = _audit_key()
    newest = newest_checkpoint(session)
    report = LogReport(
        [_verify_one_chain(session, key, chain, newest) for chain in range(CHAINS)],
        keyed=key is not None,
        checkpoint=newest,
    )
    report.stray_rows, report.first_stray_id = session.execute(_STRAY_ROWS).one()
    return report


def _verify_one_chain(session: Session, key: bytes | None, chain: int, newest: Checkpoint | None = None) -> ChainReport:
    """Walk the chain in order, recomputing each hash (and each HMAC, with the key); note the
    first break and count on to the end; then hold the chain's end against its anchor, read in
    the same statement (no lock: writers go on while the log is checked). On the way, count the
    rows up to the one the newest checkpoint names and check its hash."""
    expected_prev = genesis_hash(chain)
    report = ChainReport(chain=chain, checked=0, keyed=key is not None, head=expected_prev)
    named_head = ""
    if newest is not None:
        report.checkpoint_id = newest.id
        report.checkpoint_rows, report.checkpoint_last_id, named_head = newest.chains.get(chain, (-1, 0, ""))
        report.checkpoint_head_found = report.checkpoint_rows == 0
    anchor: _Anchor | None = None
    with session.execute(_CHAIN_ROWS, {"chain": chain}) as rows:
        for row in rows:
            if report.rows == 0:
                anchor = _anchor_in(row)
            report.rows += 1
            if row.id <= report.checkpoint_last_id:
                report.rows_at_checkpoint += 1
                if row.id == report.checkpoint_last_id:
                    report.checkpoint_head_found = row.hash == named_head
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
        empty = session.execute(_EMPTY_CHAIN, {"chain": chain}).one()
        if empty.rows:
            return _verify_one_chain(session, key, chain, newest)  # the first rows were committed meanwhile
        anchor = _anchor_in(empty)
    report.anchor_state = _anchor_state(anchor, report.rows, report.last_id, report.head)
    if anchor is not None:
        report.anchor_rows, report.anchor_last_id = anchor.row_count, anchor.last_id
    if key is not None:
        if anchor is None or anchor.hmac is None:
            report.anchor_signature = "unsigned"
        else:
            expected = _anchor_hmac(key, chain, anchor.row_count, anchor.last_id, anchor.head_hash)
            report.anchor_signature = "valid" if _signed(expected, anchor.hmac) else "invalid"
    return report


class ChainNotSealable(Exception):
    """The chain cannot be sealed: no key, or it fails a check the signature would vouch for."""

    def __init__(self, message: str, report: LogReport | None = None) -> None:
        super().__init__(message)
        self.report = report


def seal_chain(session: Session) -> LogReport:
    """Sign every chain's anchor with the key, after checking everything the signatures vouch
    for: each chain's links, hashes and row HMACs, and its anchor against its end. For an
    operator, once: when the key is first set on a log with rows, or after a process wrote
    without the key (the verification then reports anchors unsigned). Whoever runs it vouches
    for the log as it stands."""
    key = _audit_key()
    if key is None:
        raise ChainNotSealable("MAINTENANCE_AUDIT_KEY is not set: there is nothing to sign with")
    _lock_every_chain(session)
    report = verify_chain(session)
    if not report.chain_ok or not report.checkpoint_ok or any(chain.anchor_state != "ok" for chain in report.chains):
        raise ChainNotSealable("the change log fails its checks: it is not sealed", report)
    # Each anchor matches its chain's end: its count, last id and head are the chain's.
    connection = session.connection()
    for chain in report.chains:
        signature = _anchor_hmac(key, chain.chain, chain.rows, chain.last_id, chain.head)
        connection.execute(_ANCHOR_UPDATE, {"hmac": signature, "anchor_chain": chain.chain})
        chain.anchor_signature = "valid"
    session.info.pop(_HEAD_KEY, None)
    return report
