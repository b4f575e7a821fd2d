"""Dataset analysis stored per dataset revision, and the auto-configuration of a model revision.

Revision ID: 0014_dataset_analysis
Revises: 0013_annotation_versions
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from modelyard.db.base import JSONType

revision = "0014_dataset_analysis"
down_revision = "0013_annotation_versions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dataset_revisions") as batch:
        batch.add_column(sa.Column("analysis", JSONType, nullable=True))
    with op.batch_alter_table("model_revisions") as batch:
        batch.add_column(sa.Column("auto_configuration", JSONType, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("model_revisions") as batch:
        batch.drop_column("auto_configuration")
    with op.batch_alter_table("dataset_revisions") as batch:
        batch.drop_column("analysis")
