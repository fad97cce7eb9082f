"""audit chain anchor and row HMACs

The anchor starts where the existing chain ends (its row count, last id and newest hash). Rows
already in the log get no HMAC: they are verified by their hash, and the anchor covers them
once it is signed. When MAINTENANCE_AUDIT_KEY is set while this runs, the anchor is signed here
(vouching for the log as it stands, as ``maintenance audit seal`` does); when the key is set
later, run ``maintenance audit seal`` once.

Revision ID: 49752b9ef92f
Revises: 3c8900e1c051
Create Date: 2026-12-03 14:20:37.485237
"""

import hashlib
import hmac
import os
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "49752b9ef92f"
down_revision: str | None = "3c8900e1c051"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS_HASH = "0" * 64


def _anchor_hmac(key: bytes, row_count: int, last_id: int, head_hash: str) -> str:
    # The same message as maintenance.audit.service._anchor_hmac.
    message = f"audit_chain_anchor|{row_count}|{last_id}|{head_hash}"
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def upgrade() -> None:
    anchor = op.create_table(
        "audit_chain_anchor",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("hmac", sa.String(length=64), nullable=True),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_chain_anchor_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain_anchor")),
    )
    with op.batch_alter_table("object_change", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hmac", sa.String(length=64), nullable=True))

    connection = op.get_bind()
    row_count = connection.execute(sa.text("SELECT count(*) FROM object_change")).scalar_one()
    last = connection.execute(sa.text("SELECT id, hash FROM object_change ORDER BY id DESC LIMIT 1")).first()
    last_id, head_hash = (last[0], last[1]) if last is not None else (0, GENESIS_HASH)
    key = os.environ.get("MAINTENANCE_AUDIT_KEY") or None
    signature = _anchor_hmac(key.encode(), row_count, last_id, head_hash) if key else None
    op.bulk_insert(
        anchor,
        [{"id": 1, "row_count": row_count, "last_id": last_id, "head_hash": head_hash, "hmac": signature}],
    )


def downgrade() -> None:
    with op.batch_alter_table("object_change", schema=None) as batch_op:
        batch_op.drop_column("hmac")
    op.drop_table("audit_chain_anchor")
