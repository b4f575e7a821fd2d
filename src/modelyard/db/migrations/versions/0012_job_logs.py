"""Job logs in the database: a row per line, written by the job wherever it runs.

Revision ID: 0012_job_logs
Revises: 0011_scale
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from modelyard.db.base import UTCDateTime

revision = "0012_job_logs"
down_revision = "0011_scale"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_log_lines",
        sa.Column("job_id", sa.String(32), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("text", sa.String(4000), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.id"], name=op.f("fk_job_log_lines_job_id_jobs"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("job_id", "seq", name=op.f("pk_job_log_lines")),
    )


def downgrade() -> None:
    op.drop_table("job_log_lines")
