"""Model revisions and per-project training configurations.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from modelyard.db.base import JSONType, UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "model_revisions",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("project_id", sa.String(32), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("architecture_id", sa.String(128), nullable=False),
        sa.Column("task_type", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("base", sa.String(16), nullable=False),
        sa.Column("dataset_revision_id", sa.String(32), nullable=False),
        sa.Column("parent_id", sa.String(32), nullable=True),
        sa.Column("job_id", sa.String(32), nullable=True),
        sa.Column("configuration", JSONType, nullable=False),
        sa.Column("labels", JSONType, nullable=False),
        sa.Column("training_device", sa.String(32), nullable=True),
        sa.Column("metric_name", sa.String(64), nullable=True),
        sa.Column("best_metric", sa.Float(), nullable=True),
        sa.Column("best_epoch", sa.Integer(), nullable=True),
        sa.Column("epochs_trained", sa.Integer(), nullable=True),
        sa.Column("weights_status", sa.String(16), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        *_timestamps(),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name=op.f("fk_model_revisions_project_id_projects"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["dataset_revision_id"], ["dataset_revisions.id"],
                                name=op.f("fk_model_revisions_dataset_revision_id_dataset_revisions")),
        sa.ForeignKeyConstraint(["parent_id"], ["model_revisions.id"],
                                name=op.f("fk_model_revisions_parent_id_model_revisions"), ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_model_revisions_job_id_jobs"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_revisions")),
        sa.UniqueConstraint("project_id", "number", name=op.f("uq_model_revisions_project_id_number")),
    )  # fmt: skip
    op.create_index("ix_model_revisions_project_id_created_at", "model_revisions", ["project_id", "created_at"])
    op.create_index("ix_model_revisions_parent_id", "model_revisions", ["parent_id"])
    op.create_index("ix_model_revisions_dataset_revision_id", "model_revisions", ["dataset_revision_id"])

    op.create_table(
        "training_configurations",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("project_id", sa.String(32), nullable=False),
        sa.Column("architecture_id", sa.String(128), nullable=False),
        sa.Column("overrides", JSONType, nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"],
                                name=op.f("fk_training_configurations_project_id_projects"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_configurations")),
        sa.UniqueConstraint("project_id", "architecture_id",
                            name=op.f("uq_training_configurations_project_id_architecture_id")),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_table("training_configurations")
    op.drop_index("ix_model_revisions_dataset_revision_id", table_name="model_revisions")
    op.drop_index("ix_model_revisions_parent_id", table_name="model_revisions")
    op.drop_index("ix_model_revisions_project_id_created_at", table_name="model_revisions")
    op.drop_table("model_revisions")
