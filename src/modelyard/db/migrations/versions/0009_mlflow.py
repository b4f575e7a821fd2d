"""Experiments and runs created through MLflow's client: params, tags, metric history and latest values,
artifacts; MLflow's `Default` experiment (id 0).

Revision ID: 0009_mlflow
Revises: 0008_ui_sessions
Create Date: 2026-12-02
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from modelyard.db.base import UTCDateTime

revision = "0009_mlflow"
down_revision = "0008_ui_sessions"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    experiments = op.create_table(
        "mlflow_experiments",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("lifecycle_stage", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mlflow_experiments")),
        sa.UniqueConstraint("name", name=op.f("uq_mlflow_experiments_name")),
    )
    op.create_table(
        "mlflow_experiment_tags",
        sa.Column("experiment_id", BIG_ID, nullable=False),
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["mlflow_experiments.id"],
            ondelete="CASCADE",
            name=op.f("fk_mlflow_experiment_tags_experiment_id_mlflow_experiments"),
        ),
        sa.PrimaryKeyConstraint("experiment_id", "key", name=op.f("pk_mlflow_experiment_tags")),
    )
    op.create_table(
        "mlflow_runs",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("experiment_id", BIG_ID, nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("user_id", sa.String(256), nullable=False),
        sa.Column("start_time", sa.BigInteger(), nullable=False),
        sa.Column("end_time", sa.BigInteger(), nullable=True),
        sa.Column("lifecycle_stage", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["mlflow_experiments.id"],
            ondelete="CASCADE",
            name=op.f("fk_mlflow_runs_experiment_id_mlflow_experiments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mlflow_runs")),
    )
    op.create_index("ix_mlflow_runs_experiment_id_start_time", "mlflow_runs", ["experiment_id", "start_time"])
    for table in ("mlflow_params", "mlflow_run_tags"):
        op.create_table(
            table,
            sa.Column("run_id", sa.String(32), nullable=False),
            sa.Column("key", sa.String(250), nullable=False),
            sa.Column("value", sa.Text(), nullable=False),
            sa.ForeignKeyConstraint(
                ["run_id"], ["mlflow_runs.id"], ondelete="CASCADE", name=op.f(f"fk_{table}_run_id_mlflow_runs")
            ),
            sa.PrimaryKeyConstraint("run_id", "key", name=op.f(f"pk_{table}")),
        )
    op.create_table(
        "mlflow_metrics",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
        *_metric_value_columns(),
        sa.ForeignKeyConstraint(
            ["run_id"], ["mlflow_runs.id"], ondelete="CASCADE", name=op.f("fk_mlflow_metrics_run_id_mlflow_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mlflow_metrics")),
    )
    op.create_index("ix_mlflow_metrics_run_id_key_step", "mlflow_metrics", ["run_id", "key", "step"])
    op.create_table(
        "mlflow_latest_metrics",
        sa.Column("run_id", sa.String(32), nullable=False),
        *_metric_value_columns(),
        sa.ForeignKeyConstraint(
            ["run_id"], ["mlflow_runs.id"], ondelete="CASCADE", name=op.f("fk_mlflow_latest_metrics_run_id_mlflow_runs")
        ),
        sa.PrimaryKeyConstraint("run_id", "key", name=op.f("pk_mlflow_latest_metrics")),
    )
    op.create_index("ix_mlflow_latest_metrics_key_value", "mlflow_latest_metrics", ["key", "value"])
    op.create_table(
        "mlflow_artifacts",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("run_id", sa.String(32), nullable=False),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column("file_key", sa.String(1024), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["mlflow_runs.id"], ondelete="CASCADE", name=op.f("fk_mlflow_artifacts_run_id_mlflow_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mlflow_artifacts")),
        sa.UniqueConstraint("run_id", "path", name=op.f("uq_mlflow_artifacts_run_id_path")),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        experiments,
        [
            {
                "id": 0,
                "name": "Default",
                "lifecycle_stage": "active",
                "created_at": now,
                "updated_at": now,
                "created_by": "local",
            }
        ],
    )


def _metric_value_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("key", sa.String(250), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("is_nan", sa.Boolean(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
    ]


def downgrade() -> None:
    for table in (
        "mlflow_artifacts",
        "mlflow_latest_metrics",
        "mlflow_metrics",
        "mlflow_run_tags",
        "mlflow_params",
        "mlflow_runs",
        "mlflow_experiment_tags",
        "mlflow_experiments",
    ):
        op.drop_table(table)
