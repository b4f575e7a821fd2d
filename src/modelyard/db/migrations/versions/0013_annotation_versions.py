"""A version counter on each dataset item's annotation: the editor's save names the version it changed, and a
save against a version someone else has since replaced is refused (409) instead of overwriting their work.

Revision ID: 0013_annotation_versions
Revises: 0012_job_logs
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_annotation_versions"
down_revision = "0012_job_logs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("dataset_items", sa.Column("annotation_version", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("dataset_items") as batch:
        batch.drop_column("annotation_version")
