"""Round entries keep the id the phone gave them offline

A phone on a round without signal keeps its entries in an outbox and syncs them later, each with an
id it made (crypto.randomUUID). The id is stored, unique, so a replayed sync is recognised even when
a colleague has entered the stop meanwhile. Entries made online have none.

Revision ID: 5c1e7a2d9b40
Revises: 4b7e2c91d0a3
Create Date: 2026-12-06 01:05:08.042755
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c1e7a2d9b40"
down_revision: str | None = "4b7e2c91d0a3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("round_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_id", sa.String(length=36), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_round_entry_client_id"), ["client_id"])


def downgrade() -> None:
    with op.batch_alter_table("round_entry", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_round_entry_client_id"), type_="unique")
        batch_op.drop_column("client_id")
