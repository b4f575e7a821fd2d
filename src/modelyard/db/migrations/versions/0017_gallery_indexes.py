"""The gallery's sorts and counts as indexes: (project, uploaded_at, id) takes the place of (project, uploaded_at),
and (project, name, id) is new, so a keyset page of either sort is a range of one index with no sort, and the
cursors of every page (each page's last sort value and id) are numbered from the index alone; (project, subset,
annotated, user_reviewed) takes the place of (project, subset), so the counts per subset read no row.

Revision ID: 0017_gallery_indexes
Revises: 0016_job_metrics
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0017_gallery_indexes"
down_revision = "0016_job_metrics"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_dataset_items_project_id_uploaded_at_id", "dataset_items", ["project_id", "uploaded_at", "id"]
    )
    op.create_index("ix_dataset_items_project_id_name_id", "dataset_items", ["project_id", "name", "id"])
    op.drop_index("ix_dataset_items_project_id_uploaded_at", table_name="dataset_items")
    op.create_index(
        "ix_dataset_items_project_id_subset_annotated_user_reviewed",
        "dataset_items",
        ["project_id", "subset", "annotated", "user_reviewed"],
    )
    op.drop_index("ix_dataset_items_project_id_subset", table_name="dataset_items")


def downgrade() -> None:
    op.create_index("ix_dataset_items_project_id_subset", "dataset_items", ["project_id", "subset"])
    op.drop_index("ix_dataset_items_project_id_subset_annotated_user_reviewed", table_name="dataset_items")
    op.create_index("ix_dataset_items_project_id_uploaded_at", "dataset_items", ["project_id", "uploaded_at"])
    op.drop_index("ix_dataset_items_project_id_name_id", table_name="dataset_items")
    op.drop_index("ix_dataset_items_project_id_uploaded_at_id", table_name="dataset_items")
