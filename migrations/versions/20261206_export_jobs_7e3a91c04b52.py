"""Export jobs: a large export run in the background for its user (state, progress, heartbeat, file
name, error); not business records, so the change log does not record them

Revision ID: 7e3a91c04b52
Revises: eadc435fdf6d
Create Date: 2026-12-06 04:10:18.673930
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7e3a91c04b52"
down_revision: str | None = "eadc435fdf6d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "export_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("request_key", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("filter_text", sa.String(length=2000), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("state", sa.String(length=30), nullable=False),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=True),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("error", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_export_job_user_id_app_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_job")),
        # Ids never reused: files and a running job's writes are keyed by the id.
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("export_job", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_export_job_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("export_job", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_export_job_user_id"))

    op.drop_table("export_job")
