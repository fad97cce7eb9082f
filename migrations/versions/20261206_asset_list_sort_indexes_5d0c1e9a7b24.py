"""Asset list: an index for every sort, for keyset paging

Each sort of the asset list reads ``(column, tag, id)`` in one direction; with an index on exactly
that, the first, a middle and the last page are each one range of the index, so a page costs the
same at 10,000 and at 1,000,000 assets (bench/bench_lists.py). The commission date is nullable:
the list orders by ``coalesce(commission_date, '0001-01-01')`` so NULL sorts first on SQLite and
PostgreSQL alike, and its index is built on that expression (autogenerate cannot compare
expression indexes on SQLite, so it is written here by hand). ``ix_asset_workshop_tag`` gains the
id so PostgreSQL can serve the workshop sort from it too.

Revision ID: 5d0c1e9a7b24
Revises: 9d5c3e7a21f4
Create Date: 2026-12-06 01:31:06.165381
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5d0c1e9a7b24"
down_revision: str | None = "9d5c3e7a21f4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SORT_INDEXES = {
    "ix_asset_sort_tag": ["tag", "id"],
    "ix_asset_sort_name": ["name", "tag", "id"],
    "ix_asset_sort_class": ["asset_class", "tag", "id"],
    "ix_asset_sort_status": ["status", "tag", "id"],
    "ix_asset_sort_criticality": ["criticality", "tag", "id"],
    "ix_asset_sort_value": ["original_value_cny", "tag", "id"],
    "ix_asset_sort_fixed_asset": ["fixed_asset_number", "tag", "id"],
}


def upgrade() -> None:
    with op.batch_alter_table("asset", schema=None) as batch_op:
        batch_op.drop_index("ix_asset_workshop_tag")
        batch_op.create_index("ix_asset_workshop_tag", ["workshop_id", "tag", "id"], unique=False)
        for name, columns in SORT_INDEXES.items():
            batch_op.create_index(name, columns, unique=False)
    op.create_index(
        "ix_asset_sort_commissioned",
        "asset",
        [sa.text("coalesce(commission_date, '0001-01-01')"), "tag", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_asset_sort_commissioned", table_name="asset")
    with op.batch_alter_table("asset", schema=None) as batch_op:
        for name in reversed(SORT_INDEXES):
            batch_op.drop_index(name)
        batch_op.drop_index("ix_asset_workshop_tag")
        batch_op.create_index("ix_asset_workshop_tag", ["workshop_id", "tag"], unique=False)
