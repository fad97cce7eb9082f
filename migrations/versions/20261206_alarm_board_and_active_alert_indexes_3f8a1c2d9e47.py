"""Indexes of the alarm board and of the active alerts

The alarm board reads the points in warning or alarm of every workshop: by ``latest_state``
first (the index by workshop served only the board of one workshop). The API's active alarms and
the notification bell's alarm count read the open alerts: by ``state``, a few among every alert
ever raised.

Revision ID: 3f8a1c2d9e47
Revises: 8c4e1f2a6d93
Create Date: 2026-12-06 04:34:41.817724
"""

from collections.abc import Sequence

from alembic import op

revision: str = "3f8a1c2d9e47"
down_revision: str | None = "8c4e1f2a6d93"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("condition_alert", schema=None) as batch_op:
        batch_op.create_index("ix_condition_alert_state", ["state"], unique=False)
    with op.batch_alter_table("measurement_point", schema=None) as batch_op:
        batch_op.create_index("ix_measurement_point_state_workshop", ["latest_state", "workshop_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("measurement_point", schema=None) as batch_op:
        batch_op.drop_index("ix_measurement_point_state_workshop")
    with op.batch_alter_table("condition_alert", schema=None) as batch_op:
        batch_op.drop_index("ix_condition_alert_state")
