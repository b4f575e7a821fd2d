"""Stream pipelines: sources, sinks, processed files of watched folders, the webhook outbox.

Revision ID: 0010_stream
Revises: 0009_mlflow
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from modelyard.db.base import JSONType, UTCDateTime

revision = "0010_stream"
down_revision = "0009_mlflow"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stream_pipelines",
        sa.Column("project_id", sa.String(32), nullable=False),
        sa.Column("source_kind", sa.String(16), nullable=True),
        sa.Column("source", JSONType, nullable=False),
        sa.Column("settings", JSONType, nullable=False),
        sa.Column("desired_state", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("supervisor_id", sa.String(128), nullable=True),
        sa.Column("worker_pid", sa.Integer(), nullable=True),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("heartbeat_at", UTCDateTime(), nullable=True),
        sa.Column("restarts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_sequence", sa.Integer(), nullable=False),
        sa.Column("metrics", JSONType, nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name=op.f("fk_stream_pipelines_project_id_projects"),
                                ondelete="CASCADE"),  # fmt: skip
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_stream_pipelines")),
    )
    op.create_table(
        "stream_sinks",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("project_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("config", JSONType, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name=op.f("fk_stream_sinks_project_id_projects"),
                                ondelete="CASCADE"),  # fmt: skip
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stream_sinks")),
    )
    op.create_index("ix_stream_sinks_project_id", "stream_sinks", ["project_id"])
    op.create_table(
        "stream_processed_files",
        sa.Column("project_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(1024), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("processed_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"],
                                name=op.f("fk_stream_processed_files_project_id_projects"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("project_id", "name", name=op.f("pk_stream_processed_files")),
    )
    op.create_table(
        "stream_outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sink_id", sa.String(32), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("payload", JSONType, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["sink_id"], ["stream_sinks.id"], name=op.f("fk_stream_outbox_sink_id_stream_sinks"),
                                ondelete="CASCADE"),  # fmt: skip
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stream_outbox")),
    )
    op.create_index("ix_stream_outbox_sink_id_id", "stream_outbox", ["sink_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_stream_outbox_sink_id_id", table_name="stream_outbox")
    op.drop_table("stream_outbox")
    op.drop_table("stream_processed_files")
    op.drop_index("ix_stream_sinks_project_id", table_name="stream_sinks")
    op.drop_table("stream_sinks")
    op.drop_table("stream_pipelines")
