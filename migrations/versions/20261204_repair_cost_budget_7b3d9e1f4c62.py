"""Repair-cost budget: the year's target, baseline years and allocation; the finance journal; completed orders found by their finish time

Revision ID: 7b3d9e1f4c62
Revises: 5c1e2a7f9b30
Create Date: 2026-12-04 23:25:32.480638
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7b3d9e1f4c62"
down_revision: str | None = "5c1e2a7f9b30"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "budget_baseline",
        sa.Column("actual_cny", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budget_baseline")),
        sa.UniqueConstraint("year", name=op.f("uq_budget_baseline_year")),
    )
    op.create_table(
        "budget_year",
        sa.Column("target_cny", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budget_year")),
        sa.UniqueConstraint("year", name=op.f("uq_budget_year_year")),
    )
    op.create_table(
        "budget_allocation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("budget_year_id", sa.Integer(), nullable=False),
        sa.Column("workshop_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=30), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("amount_cny", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("month BETWEEN 1 AND 12", name=op.f("ck_budget_allocation_month_range")),
        sa.ForeignKeyConstraint(
            ["budget_year_id"],
            ["budget_year.id"],
            name=op.f("fk_budget_allocation_budget_year_id_budget_year"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["workshop_id"],
            ["workshop.id"],
            name=op.f("fk_budget_allocation_workshop_id_workshop"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_budget_allocation")),
        sa.UniqueConstraint(
            "budget_year_id",
            "workshop_id",
            "category",
            "month",
            name=op.f("uq_budget_allocation_budget_year_id_workshop_id_category_month"),
        ),
    )
    op.create_table(
        "journal_entry",
        sa.Column("booked_on", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=30), nullable=False),
        sa.Column("amount_cny", sa.Numeric(precision=16, scale=2), nullable=False),
        sa.Column("workshop_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=60), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_file", sa.String(length=200), nullable=False),
        sa.Column("imported_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["imported_by_id"],
            ["app_user.id"],
            name=op.f("fk_journal_entry_imported_by_id_app_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["workshop_id"], ["workshop.id"], name=op.f("fk_journal_entry_workshop_id_workshop"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_entry")),
        sa.UniqueConstraint("reference", name=op.f("uq_journal_entry_reference")),
    )
    with op.batch_alter_table("journal_entry", schema=None) as batch_op:
        batch_op.create_index("ix_journal_entry_booked_workshop", ["booked_on", "workshop_id"], unique=False)

    with op.batch_alter_table("work_order", schema=None) as batch_op:
        batch_op.create_index("ix_work_order_finished", ["actual_finish_at"], unique=False)

    with op.batch_alter_table("cost_line", schema=None) as batch_op:
        batch_op.drop_index("ix_cost_line_order_kind")
        batch_op.create_index(
            "ix_cost_line_order_amounts", ["order_id", "kind", "actual_cny", "planned_cny"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("cost_line", schema=None) as batch_op:
        batch_op.drop_index("ix_cost_line_order_amounts")
        batch_op.create_index("ix_cost_line_order_kind", ["order_id", "kind"], unique=False)

    with op.batch_alter_table("work_order", schema=None) as batch_op:
        batch_op.drop_index("ix_work_order_finished")

    with op.batch_alter_table("journal_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_journal_entry_booked_workshop")

    op.drop_table("journal_entry")
    op.drop_table("budget_allocation")
    op.drop_table("budget_year")
    op.drop_table("budget_baseline")
