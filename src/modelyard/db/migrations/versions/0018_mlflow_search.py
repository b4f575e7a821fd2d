"""Covering indexes for MLflow's version searches: a model's versions walked by number give their ids without
reading each row, and a version's tag is checked without reading the tag's row.

Revision ID: 0018_mlflow_search
Revises: 0017_gallery_indexes
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0018_mlflow_search"
down_revision = "0017_gallery_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_model_versions_model_id_number_id", "model_versions", ["model_id", "number", "id"])
    op.create_index("ix_model_version_tags_version_key_value", "model_version_tags", ["version_id", "key", "value"])


def downgrade() -> None:
    op.drop_index("ix_model_version_tags_version_key_value", table_name="model_version_tags")
    op.drop_index("ix_model_versions_model_id_number_id", table_name="model_versions")
