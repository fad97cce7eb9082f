"""session epoch and login throttle

Revision ID: 3c8900e1c051
Revises: 436146a907f2
Create Date: 2026-12-03 14:14:40.112314
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3c8900e1c051"
down_revision: str | None = "436146a907f2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Sessions signed before this upgrade carry no epoch: their users log in once more.
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_epoch", sa.Integer(), server_default=sa.text("0"), nullable=False))

    op.create_table(
        "login_throttle",
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", name=op.f("pk_login_throttle")),
    )


def downgrade() -> None:
    op.drop_table("login_throttle")
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_column("session_epoch")
