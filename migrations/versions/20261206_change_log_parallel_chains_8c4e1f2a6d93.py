"""change log parallel chains

The change log becomes 16 hash chains side by side (``object_change.chain``), each with its own
anchor row (``audit_chain_anchor.id`` is the chain's number). The rows already in the log are
chain 0, which keeps the single chain's genesis hash, its row hashes and its anchor (moved from
id 1 to id 0, its HMAC unchanged: chain 0's anchor signs the same message as before), so an
existing log verifies as it is. Chains 1 to 15 start empty, each at its own genesis hash; their
anchors are signed here when MAINTENANCE_AUDIT_KEY is set while this runs (as the migration that
made the anchor did), otherwise run ``maintenance audit seal`` once the key is set. A log without
an anchor row (deleted by hand) stays without one for chain 0: the verification reports it.

Going back is possible only while every row is on chain 0 (one chain cannot hold several).

Revision ID: 8c4e1f2a6d93
Revises: 5d0c1e9a7b24
Create Date: 2026-12-06 04:09:32.705433
"""

import hashlib
import hmac
import os
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "8c4e1f2a6d93"
down_revision: str | None = "5d0c1e9a7b24"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The same values as maintenance.audit.models (a migration does not import the application).
CHAINS = 16


def _genesis_hash(chain: int) -> str:
    return hashlib.sha256(f"object_change genesis|{chain}".encode()).hexdigest()


def _anchor_hmac(key: bytes, chain: int, head_hash: str) -> str:
    # The same message as maintenance.audit.service._anchor_hmac, for an empty chain.
    message = f"audit_chain_anchor|{chain}|0|0|{head_hash}"
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def _create_anchor_table(check: str, name: str) -> sa.Table:
    return op.create_table(
        "audit_chain_anchor",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("hmac", sa.String(length=64), nullable=True),
        sa.CheckConstraint(check, name=op.f(f"ck_audit_chain_anchor_{name}")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_anchor")),
    )


def _anchor_rows() -> list[dict[str, Any]]:
    rows = op.get_bind().execute(sa.text("SELECT id, row_count, last_id, head_hash, hmac FROM audit_chain_anchor"))
    return [dict(row._mapping) for row in rows]


def upgrade() -> None:
    # The anchor table is small: rebuilt with its new check rather than altered (SQLite).
    anchors = _anchor_rows()
    op.drop_table("audit_chain_anchor")
    table = _create_anchor_table(f"id >= 0 AND id < {CHAINS}", "one_row_per_chain")
    key = os.environ.get("MAINTENANCE_AUDIT_KEY") or None
    new_rows = [{**anchor, "id": 0} for anchor in anchors]
    for chain in range(1, CHAINS):
        head = _genesis_hash(chain)
        signature = _anchor_hmac(key.encode(), chain, head) if key else None
        new_rows.append({"id": chain, "row_count": 0, "last_id": 0, "head_hash": head, "hmac": signature})
    op.bulk_insert(table, new_rows)

    with op.batch_alter_table("object_change", schema=None) as batch_op:
        batch_op.add_column(sa.Column("chain", sa.SmallInteger(), nullable=False, server_default=sa.text("0")))
        batch_op.create_index("ix_object_change_chain_id", ["chain", "id"], unique=False)
        batch_op.create_check_constraint(op.f("ck_object_change_chain_number"), f"chain >= 0 AND chain < {CHAINS}")
    with op.batch_alter_table("object_change", schema=None) as batch_op:
        batch_op.alter_column("chain", server_default=None)


def downgrade() -> None:
    elsewhere = op.get_bind().execute(sa.text("SELECT count(*) FROM object_change WHERE chain <> 0")).scalar_one()
    if elsewhere:
        raise RuntimeError(f"{elsewhere} change-log rows are on chains other than 0: one chain cannot hold them")
    anchors = [{**anchor, "id": 1} for anchor in _anchor_rows() if anchor["id"] == 0]
    with op.batch_alter_table("object_change", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_object_change_chain_number"), type_="check")
        batch_op.drop_index("ix_object_change_chain_id")
        batch_op.drop_column("chain")
    op.drop_table("audit_chain_anchor")
    op.bulk_insert(_create_anchor_table("id = 1", "single_row"), anchors)
