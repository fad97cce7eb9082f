"""Work orders by the time they were raised: the order mix's covering index

The order mix (the KPIs' CBM share, the scorecard's) sums a period's orders by month of
``requested_at``; with no index on it every order was read (bench/bench_scorecard.py). The index
holds the columns the mix reads, so the period's orders are read from it alone.

Revision ID: 75fc24d03d31
Revises: 3e8a41c07d25
Create Date: 2026-12-05 04:09:15.416695
"""

from collections.abc import Sequence

from alembic import op

revision: str = "75fc24d03d31"
down_revision: str | None = "3e8a41c07d25"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["requested_at", "state", "workshop_id", "order_type", "labour_hours", "actual_cost_cny"]


def upgrade() -> None:
    with op.batch_alter_table("work_order", schema=None) as batch_op:
        batch_op.create_index("ix_work_order_requested_mix", COLUMNS, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("work_order", schema=None) as batch_op:
        batch_op.drop_index("ix_work_order_requested_mix")
