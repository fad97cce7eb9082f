"""The year's programme: scorecard targets, savings ledgers, accidents, projects, operating log

Revision ID: 3e8a41c07d25
Revises: 7b3d9e1f4c62
Create Date: 2026-12-05 03:18:25.603849
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3e8a41c07d25"
down_revision: str | None = "7b3d9e1f4c62"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scorecard_target",
        sa.Column("value", sa.Numeric(precision=16, scale=4), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("indicator", sa.String(length=30), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scorecard_target")),
        sa.UniqueConstraint("year", "indicator", name=op.f("uq_scorecard_target_year_indicator")),
    )
    op.create_table(
        "project",
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("owner", sa.String(length=60), nullable=False),
        sa.Column("workshop_id", sa.Integer(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("aim_date", sa.Date(), nullable=True),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.Column("description", sa.String(length=4000), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workshop_id"], ["workshop.id"], name=op.f("fk_project_workshop_id_workshop"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project")),
        sa.UniqueConstraint("year", "code", name=op.f("uq_project_year_code")),
    )
    with op.batch_alter_table("project", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_project_workshop_id"), ["workshop_id"], unique=False)

    op.create_table(
        "savings_entry",
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("recorded_on", sa.Date(), nullable=False),
        sa.Column("workshop_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("reference", sa.String(length=60), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("reference_price_cny", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("actual_price_cny", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("saving_cny", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workshop_id"], ["workshop.id"], name=op.f("fk_savings_entry_workshop_id_workshop"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_savings_entry")),
    )
    with op.batch_alter_table("savings_entry", schema=None) as batch_op:
        batch_op.create_index("ix_savings_entry_kind_recorded_on", ["kind", "recorded_on"], unique=False)
        batch_op.create_index(batch_op.f("ix_savings_entry_workshop_id"), ["workshop_id"], unique=False)

    op.create_table(
        "operating_month",
        sa.Column("hours_run", sa.Numeric(precision=5, scale=1), nullable=False),
        sa.Column("planned_hours", sa.Numeric(precision=5, scale=1), nullable=False),
        sa.Column("load_pct", sa.Numeric(precision=5, scale=1), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("hours_run <= 744 AND planned_hours <= 744", name=op.f("ck_operating_month_hours_in_month")),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["unit.id"], name=op.f("fk_operating_month_unit_id_unit"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_operating_month")),
        sa.UniqueConstraint("unit_id", "month", name=op.f("uq_operating_month_unit_id_month")),
    )
    op.create_table(
        "project_milestone",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("owner", sa.String(length=60), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["project.id"], name=op.f("fk_project_milestone_project_id_project"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_milestone")),
    )
    with op.batch_alter_table("project_milestone", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_project_milestone_project_id"), ["project_id"], unique=False)

    op.create_table(
        "accident",
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("accident_class", sa.String(length=30), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("downtime_hours", sa.Numeric(precision=8, scale=1), nullable=False),
        sa.Column("loss_cny", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("description", sa.String(length=4000), nullable=False),
        sa.Column("cause", sa.String(length=4000), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workshop_id", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["asset.id"], name=op.f("fk_accident_asset_id_asset"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["app_user.id"], name=op.f("fk_accident_recorded_by_id_app_user"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["workshop_id"], ["workshop.id"], name=op.f("fk_accident_workshop_id_workshop"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accident")),
    )
    with op.batch_alter_table("accident", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_accident_asset_id"), ["asset_id"], unique=False)
        batch_op.create_index("ix_accident_occurred_on_class", ["occurred_on", "accident_class"], unique=False)
        batch_op.create_index(batch_op.f("ix_accident_workshop_id"), ["workshop_id"], unique=False)

    op.create_table(
        "accident_action",
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("owner", sa.String(length=60), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("accident_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["accident_id"], ["accident.id"], name=op.f("fk_accident_action_accident_id_accident"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["work_order.id"], name=op.f("fk_accident_action_order_id_work_order"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accident_action")),
    )
    with op.batch_alter_table("accident_action", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_accident_action_accident_id"), ["accident_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_accident_action_order_id"), ["order_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("accident_action", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accident_action_order_id"))
        batch_op.drop_index(batch_op.f("ix_accident_action_accident_id"))

    op.drop_table("accident_action")
    with op.batch_alter_table("accident", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accident_workshop_id"))
        batch_op.drop_index("ix_accident_occurred_on_class")
        batch_op.drop_index(batch_op.f("ix_accident_asset_id"))

    op.drop_table("accident")
    with op.batch_alter_table("project_milestone", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_milestone_project_id"))

    op.drop_table("project_milestone")
    op.drop_table("operating_month")
    with op.batch_alter_table("savings_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_savings_entry_workshop_id"))
        batch_op.drop_index("ix_savings_entry_kind_recorded_on")

    op.drop_table("savings_entry")
    with op.batch_alter_table("project", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_project_workshop_id"))

    op.drop_table("project")
    op.drop_table("scorecard_target")
