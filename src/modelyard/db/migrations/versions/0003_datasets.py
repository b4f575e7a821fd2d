"""Datasets: items, the labels their annotations use, revisions and the images revisions keep.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from modelyard.db.base import JSONType, UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dataset_items",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("project_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(512), nullable=False),
        sa.Column("image_key", sa.String(1024), nullable=False),
        sa.Column("thumbnail_key", sa.String(1024), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("subset", sa.String(16), nullable=False),
        sa.Column("in_revision", sa.Boolean(), nullable=False),
        sa.Column("annotation", JSONType, nullable=True),
        sa.Column("annotated", sa.Boolean(), nullable=False),
        sa.Column("user_reviewed", sa.Boolean(), nullable=False),
        sa.Column("uploaded_at", UTCDateTime(), nullable=False),
        sa.Column("uploaded_by", sa.String(128), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_dataset_items_project_id_projects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_items")),
        sa.UniqueConstraint("project_id", "sha256", name=op.f("uq_dataset_items_project_id_sha256")),
    )
    op.create_index("ix_dataset_items_project_id_uploaded_at", "dataset_items", ["project_id", "uploaded_at"])
    op.create_index("ix_dataset_items_project_id_subset", "dataset_items", ["project_id", "subset"])
    op.create_index("ix_dataset_items_project_id_annotated", "dataset_items", ["project_id", "annotated"])

    op.create_table(
        "dataset_item_labels",
        sa.Column("item_id", sa.String(32), nullable=False),
        sa.Column("label_id", sa.String(32), nullable=False),
        sa.Column("shapes", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["dataset_items.id"],
            name=op.f("fk_dataset_item_labels_item_id_dataset_items"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["label_id"], ["labels.id"], name=op.f("fk_dataset_item_labels_label_id_labels"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("item_id", "label_id", name=op.f("pk_dataset_item_labels")),
    )
    op.create_index("ix_dataset_item_labels_label_id", "dataset_item_labels", ["label_id"])

    op.create_table(
        "dataset_revisions",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("project_id", sa.String(32), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("parquet_key", sa.String(1024), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("images_size", sa.BigInteger(), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("subset_counts", JSONType, nullable=False),
        sa.Column("label_counts", JSONType, nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("files_deleted", sa.Boolean(), nullable=False),
        sa.Column("files_deleted_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_dataset_revisions_project_id_projects"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dataset_revisions")),
        sa.UniqueConstraint("project_id", "number", name=op.f("uq_dataset_revisions_project_id_number")),
    )

    op.create_table(
        "dataset_revision_images",
        sa.Column("revision_id", sa.String(32), nullable=False),
        sa.Column("item_id", sa.String(32), nullable=False),
        sa.Column("image_key", sa.String(1024), nullable=False),
        sa.ForeignKeyConstraint(
            ["revision_id"],
            ["dataset_revisions.id"],
            name=op.f("fk_dataset_revision_images_revision_id_dataset_revisions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("revision_id", "item_id", name=op.f("pk_dataset_revision_images")),
    )
    op.create_index("ix_dataset_revision_images_image_key", "dataset_revision_images", ["image_key"])


def downgrade() -> None:
    op.drop_index("ix_dataset_revision_images_image_key", table_name="dataset_revision_images")
    op.drop_table("dataset_revision_images")
    op.drop_table("dataset_revisions")
    op.drop_index("ix_dataset_item_labels_label_id", table_name="dataset_item_labels")
    op.drop_table("dataset_item_labels")
    op.drop_index("ix_dataset_items_project_id_annotated", table_name="dataset_items")
    op.drop_index("ix_dataset_items_project_id_subset", table_name="dataset_items")
    op.drop_index("ix_dataset_items_project_id_uploaded_at", table_name="dataset_items")
    op.drop_table("dataset_items")
