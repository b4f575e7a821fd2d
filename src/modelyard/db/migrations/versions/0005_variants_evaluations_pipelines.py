"""Variants of model revisions, evaluations, per-project pipelines.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from modelyard.db.base import JSONType, UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_variants",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("revision_id", sa.String(32), nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("precision", sa.String(8), nullable=False),
        sa.Column("folder", sa.String(1024), nullable=False),
        sa.Column("model_file", sa.String(256), nullable=False),
        sa.Column("files", JSONType, nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("parity", JSONType, nullable=True),
        sa.Column("speed", JSONType, nullable=True),
        sa.Column("job_id", sa.String(32), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.ForeignKeyConstraint(["revision_id"], ["model_revisions.id"],
                                name=op.f("fk_model_variants_revision_id_model_revisions"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_model_variants_job_id_jobs"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_variants")),
        sa.UniqueConstraint("revision_id", "format", "precision",
                            name=op.f("uq_model_variants_revision_id_format_precision")),
    )  # fmt: skip
    op.create_table(
        "evaluations",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("project_id", sa.String(32), nullable=False),
        sa.Column("revision_id", sa.String(32), nullable=False),
        sa.Column("variant_id", sa.String(32), nullable=True),
        sa.Column("variant", sa.String(32), nullable=False),
        sa.Column("dataset_revision_id", sa.String(32), nullable=False),
        sa.Column("subset", sa.String(16), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("metric_name", sa.String(64), nullable=False),
        sa.Column("metric_value", sa.Float(), nullable=False),
        sa.Column("metrics", JSONType, nullable=False),
        sa.Column("per_label", JSONType, nullable=False),
        sa.Column("confusion_matrix", JSONType, nullable=True),
        sa.Column("predictions_key", sa.String(1024), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("job_id", sa.String(32), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name=op.f("fk_evaluations_project_id_projects"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["revision_id"], ["model_revisions.id"],
                                name=op.f("fk_evaluations_revision_id_model_revisions"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["variant_id"], ["model_variants.id"],
                                name=op.f("fk_evaluations_variant_id_model_variants"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["dataset_revision_id"], ["dataset_revisions.id"],
                                name=op.f("fk_evaluations_dataset_revision_id_dataset_revisions")),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_evaluations_job_id_jobs"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluations")),
    )  # fmt: skip
    op.create_index("ix_evaluations_revision_id_created_at", "evaluations", ["revision_id", "created_at"])
    op.create_index("ix_evaluations_project_id_metric_name", "evaluations", ["project_id", "metric_name"])
    op.create_table(
        "pipelines",
        sa.Column("project_id", sa.String(32), nullable=False),
        sa.Column("revision_id", sa.String(32), nullable=False),
        sa.Column("variant_id", sa.String(32), nullable=False),
        sa.Column("confidence_threshold", sa.Float(), nullable=False),
        sa.Column("enabled_at", UTCDateTime(), nullable=False),
        sa.Column("enabled_by", sa.String(128), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name=op.f("fk_pipelines_project_id_projects"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["revision_id"], ["model_revisions.id"],
                                name=op.f("fk_pipelines_revision_id_model_revisions")),
        sa.ForeignKeyConstraint(["variant_id"], ["model_variants.id"],
                                name=op.f("fk_pipelines_variant_id_model_variants")),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_pipelines")),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("pipelines")
    op.drop_index("ix_evaluations_project_id_metric_name", table_name="evaluations")
    op.drop_index("ix_evaluations_revision_id_created_at", table_name="evaluations")
    op.drop_table("evaluations")
    op.drop_table("model_variants")
