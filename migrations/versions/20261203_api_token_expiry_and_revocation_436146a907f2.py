"""api token expiry and revocation

Revision ID: 436146a907f2
Revises: 969aac482b32
Create Date: 2026-12-03 14:06:27.474128
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "436146a907f2"
down_revision: str | None = "969aac482b32"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Tokens made before tokens expired get the default lifetime from the upgrade on, so that their
# owners have time to replace them.
EXISTING_TOKENS_DAYS = 90


def upgrade() -> None:
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("revoked_by", sa.String(length=100), nullable=True))

    token = sa.table(
        "api_token",
        sa.column("expires_at", sa.DateTime(timezone=True)),
        sa.column("revoked_by", sa.String(length=100)),
    )
    op.execute(token.update().values(expires_at=datetime.now(UTC) + timedelta(days=EXISTING_TOKENS_DAYS)))
    op.execute(token.update().values(revoked_by=""))

    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.alter_column("expires_at", existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.alter_column("revoked_by", existing_type=sa.String(length=100), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_column("revoked_by")
        batch_op.drop_column("expires_at")
