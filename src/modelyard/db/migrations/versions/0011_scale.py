"""Jobs beyond one machine: the executor, Ray task and node of a job; a heartbeat row per job runner.

Revision ID: 0011_scale
Revises: 0010_stream
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from modelyard.db.base import UTCDateTime

revision = "0011_scale"
down_revision = "0010_stream"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("executor", sa.String(16), nullable=True))
    op.add_column("jobs", sa.Column("task_id", sa.String(64), nullable=True))
    op.add_column("jobs", sa.Column("node_id", sa.String(64), nullable=True))
    op.create_table(
        "job_runners",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("host", sa.String(256), nullable=False),
        sa.Column("executor", sa.String(16), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("heartbeat_at", UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("job_runners")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("node_id")
        batch.drop_column("task_id")
        batch.drop_column("executor")
