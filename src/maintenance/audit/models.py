"""The change log: one row per create/update/delete of a business record."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, Index, SmallInteger
from sqlmodel import Field, SQLModel

from maintenance.choices import Choice, ChoiceType
from maintenance.db import UTCDateTime, utcnow


class ChangeAction(Choice):
    CREATE = ("create", "新建", "Created", "success")
    UPDATE = ("update", "修改", "Updated", "primary")
    DELETE = ("delete", "删除", "Deleted", "danger")


# The log is CHAINS parallel hash chains: a writer extends one while others extend the others
# (see maintenance.audit.service). Each begins at its own genesis hash (the previous hash of its
# first row, and its anchor's head while it is empty), distinct so that the unique constraints on
# prev_hash and hash hold across chains; chain 0's is the one the single chain had.
CHAINS = 16
GENESIS_HASH = "0" * 64


def genesis_hash(chain: int) -> str:
    if chain == 0:
        return GENESIS_HASH
    return hashlib.sha256(f"object_change genesis|{chain}".encode()).hexdigest()


class ObjectChange(SQLModel, table=True):
    """Rows are chained: ``hash`` covers the row's content and the previous row's hash,
    so editing or removing a row in the database breaks the chain (``maintenance audit verify``).
    With ``MAINTENANCE_AUDIT_KEY`` set, ``hmac`` is the HMAC-SHA256 of ``hash`` under that key:
    whoever edits a row and recomputes every later hash cannot recompute it. Rows written
    without the key (before it was set) carry none and are checked by their hash alone.
    """

    __tablename__ = "object_change"
    __table_args__ = (
        Index("ix_object_change_object", "object_type", "object_id"),
        Index("ix_object_change_at", "at"),
        Index("ix_object_change_actor_id", "actor_id"),
        Index("ix_object_change_chain_id", "chain", "id"),
        CheckConstraint(f"chain >= 0 AND chain < {CHAINS}", name="chain_number"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
    # No foreign key: the log outlives users and knows no domain.
    actor_id: int | None = None
    actor_name: str = Field(max_length=100)
    object_type: str = Field(max_length=50)
    object_id: str = Field(max_length=50)
    object_repr: str = Field(default="", max_length=200)
    action: ChangeAction = Field(sa_type=ChoiceType(ChangeAction))
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    request_id: str = Field(default="", max_length=64)
    prev_hash: str = Field(max_length=64, unique=True)
    hash: str = Field(max_length=64, unique=True)
    hmac: str | None = Field(default=None, max_length=64)
    # Which chain the row extends (covered by its hash from chain 1 on; chain 0's rows hash as
    # the single chain's did).
    chain: int = Field(default=0, nullable=False, sa_type=SmallInteger)

    def changed_fields(self) -> list[tuple[str, Any, Any]]:
        """(field, before, after) for every field that differs, for the history view."""
        before = self.before or {}
        after = self.after or {}
        keys = sorted(set(before) | set(after))
        return [(key, before.get(key), after.get(key)) for key in keys if before.get(key) != after.get(key)]


class AuditChainAnchor(SQLModel, table=True):
    """Where each chain ends, as the application last wrote it: one row per chain (``id`` is the
    chain's number, all CHAINS rows exist from the migration on), updated in the same transaction
    as every change logged on that chain, so deleting a chain's newest rows (which leaves an
    intact, shorter chain) shows as a count and head that no longer match. With
    ``MAINTENANCE_AUDIT_KEY`` set, ``hmac`` signs the chain's number, count, last id and head, so
    the anchor cannot be rewritten to fit a truncated or recomputed chain without the key.
    """

    __tablename__ = "audit_chain_anchor"
    __table_args__ = (CheckConstraint(f"id >= 0 AND id < {CHAINS}", name="one_row_per_chain"),)

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    row_count: int = Field(default=0, nullable=False)
    last_id: int = Field(default=0, nullable=False)
    head_hash: str = Field(default=GENESIS_HASH, max_length=64, nullable=False)
    hmac: str | None = Field(default=None, max_length=64)
