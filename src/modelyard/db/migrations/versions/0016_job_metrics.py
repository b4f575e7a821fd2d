"""Live job metrics in the database: a row per record, written by the job wherever it runs.

Revision ID: 0016_job_metrics
Revises: 0015_tune
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from modelyard.db.base import JSONType, UTCDateTime

revision = "0016_job_metrics"
down_revision = "0015_tune"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_metrics",
        sa.Column("job_id", sa.String(32), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("record", JSONType, nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_job_metrics_job_id_jobs"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("job_id", "seq", name=op.f("pk_job_metrics")),
    )


def downgrade() -> None:
    op.drop_table("job_metrics")
