"""leak-free plant: seal points, surveys, leaks, certifications, rule documents

Revision ID: 5c1e2a7f9b30
Revises: a42f2d6d9a8d
Create Date: 2026-12-04 20:24:11.135045
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5c1e2a7f9b30"
down_revision: str | None = "a42f2d6d9a8d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rule_document",
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("version_label", sa.String(length=20), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["app_user.id"],
            name=op.f("fk_rule_document_uploaded_by_id_app_user"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rule_document")),
        sa.UniqueConstraint("code", "version_label", name=op.f("uq_rule_document_code_version_label")),
    )
    op.create_table(
        "leak_survey",
        sa.Column("survey_date", sa.Date(), nullable=False),
        sa.Column("surveyed_by", sa.String(length=100), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workshop_id", sa.Integer(), nullable=False),
        sa.Column("static_points", sa.Integer(), nullable=False),
        sa.Column("dynamic_points", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["app_user.id"],
            name=op.f("fk_leak_survey_recorded_by_id_app_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["workshop_id"], ["workshop.id"], name=op.f("fk_leak_survey_workshop_id_workshop"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leak_survey")),
        sa.UniqueConstraint("workshop_id", "survey_date", name=op.f("uq_leak_survey_workshop_id_survey_date")),
    )
    op.create_table(
        "leakfree_certification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workshop_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=30), nullable=False),
        sa.Column("applied_date", sa.Date(), nullable=False),
        sa.Column("applied_by_id", sa.Integer(), nullable=True),
        sa.Column("application_note", sa.String(length=2000), nullable=False),
        sa.Column("inventory_complete", sa.Boolean(), nullable=True),
        sa.Column("survey_recent", sa.Boolean(), nullable=True),
        sa.Column("thresholds_met", sa.Boolean(), nullable=True),
        sa.Column("documents_in_place", sa.Boolean(), nullable=True),
        sa.Column("self_assessed_date", sa.Date(), nullable=True),
        sa.Column("assessor", sa.String(length=100), nullable=False),
        sa.Column("assessed_date", sa.Date(), nullable=True),
        sa.Column("assessment_remarks", sa.String(length=2000), nullable=False),
        sa.Column("certified_date", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("revoked_date", sa.Date(), nullable=True),
        sa.Column("revoke_reason", sa.String(length=2000), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["applied_by_id"],
            ["app_user.id"],
            name=op.f("fk_leakfree_certification_applied_by_id_app_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["workshop_id"],
            ["workshop.id"],
            name=op.f("fk_leakfree_certification_workshop_id_workshop"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leakfree_certification")),
    )
    with op.batch_alter_table("leakfree_certification", schema=None) as batch_op:
        batch_op.create_index("ix_leakfree_certification_workshop", ["workshop_id", "applied_date"], unique=False)

    op.create_table(
        "seal_point",
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("workshop_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("asset_id", sa.Integer(), nullable=True),
        sa.Column("seal_type", sa.String(length=30), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"], ["asset.id"], name=op.f("fk_seal_point_asset_id_asset"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_seal_point_unit_id_unit"), ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(
            ["workshop_id"], ["workshop.id"], name=op.f("fk_seal_point_workshop_id_workshop"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seal_point")),
        sa.UniqueConstraint("code", name=op.f("uq_seal_point_code")),
    )
    with op.batch_alter_table("seal_point", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_seal_point_asset_id"), ["asset_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_seal_point_unit_id"), ["unit_id"], unique=False)
        batch_op.create_index("ix_seal_point_workshop_type", ["workshop_id", "seal_type"], unique=False)

    op.create_table(
        "leak",
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("severity", sa.String(length=30), nullable=False),
        sa.Column("found_date", sa.Date(), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workshop_id", sa.Integer(), nullable=False),
        sa.Column("seal_point_id", sa.Integer(), nullable=True),
        sa.Column("asset_id", sa.Integer(), nullable=True),
        sa.Column("survey_id", sa.Integer(), nullable=True),
        sa.Column("round_entry_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("photo_sha256", sa.String(length=64), nullable=False),
        sa.Column("photo_content_type", sa.String(length=100), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("repaired_date", sa.Date(), nullable=True),
        sa.Column("rechecked_date", sa.Date(), nullable=True),
        sa.Column("rechecked_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["asset_id"], ["asset.id"], name=op.f("fk_leak_asset_id_asset"), ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(
            ["order_id"], ["work_order.id"], name=op.f("fk_leak_order_id_work_order"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["rechecked_by_id"], ["app_user.id"], name=op.f("fk_leak_rechecked_by_id_app_user"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["app_user.id"], name=op.f("fk_leak_recorded_by_id_app_user"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["round_entry_id"], ["round_entry.id"], name=op.f("fk_leak_round_entry_id_round_entry"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["seal_point_id"], ["seal_point.id"], name=op.f("fk_leak_seal_point_id_seal_point"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["survey_id"], ["leak_survey.id"], name=op.f("fk_leak_survey_id_leak_survey"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["workshop_id"], ["workshop.id"], name=op.f("fk_leak_workshop_id_workshop"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leak")),
        sa.UniqueConstraint("round_entry_id", name=op.f("uq_leak_round_entry_id")),
    )
    with op.batch_alter_table("leak", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_leak_asset_id"), ["asset_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_leak_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_leak_seal_point_id"), ["seal_point_id"], unique=False)
        batch_op.create_index("ix_leak_survey", ["survey_id"], unique=False)
        batch_op.create_index("ix_leak_workshop_status", ["workshop_id", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("leak", schema=None) as batch_op:
        batch_op.drop_index("ix_leak_workshop_status")
        batch_op.drop_index("ix_leak_survey")
        batch_op.drop_index(batch_op.f("ix_leak_seal_point_id"))
        batch_op.drop_index(batch_op.f("ix_leak_order_id"))
        batch_op.drop_index(batch_op.f("ix_leak_asset_id"))

    op.drop_table("leak")
    with op.batch_alter_table("seal_point", schema=None) as batch_op:
        batch_op.drop_index("ix_seal_point_workshop_type")
        batch_op.drop_index(batch_op.f("ix_seal_point_unit_id"))
        batch_op.drop_index(batch_op.f("ix_seal_point_asset_id"))

    op.drop_table("seal_point")
    with op.batch_alter_table("leakfree_certification", schema=None) as batch_op:
        batch_op.drop_index("ix_leakfree_certification_workshop")

    op.drop_table("leakfree_certification")
    op.drop_table("leak_survey")
    op.drop_table("rule_document")
