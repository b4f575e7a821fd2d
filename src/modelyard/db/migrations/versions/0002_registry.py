"""Model registry: registered models, versions, metrics, tags, files, aliases, events.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from modelyard.db.base import JSONType, UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "registered_models",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("metadata", JSONType, nullable=False),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("next_version_number", sa.Integer(), nullable=False),
        sa.Column("num_versions", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registered_models")),
        sa.UniqueConstraint("name", name=op.f("uq_registered_models_name")),
    )
    op.create_index("ix_registered_models_created_at", "registered_models", ["created_at"])
    op.create_index("ix_registered_models_updated_at", "registered_models", ["updated_at"])
    op.create_index("ix_registered_models_num_versions", "registered_models", ["num_versions"])

    op.create_table(
        "registered_model_tags",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("model_id", sa.String(32), nullable=False),
        sa.Column("key", sa.String(256), nullable=False),
        sa.Column("value", sa.String(1024), nullable=False),
        _fk("registered_model_tags", "model_id", "registered_models"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registered_model_tags")),
        sa.UniqueConstraint("model_id", "key", name=op.f("uq_registered_model_tags_model_id_key")),
    )
    op.create_index("ix_registered_model_tags_key_value", "registered_model_tags", ["key", "value"])

    op.create_table(
        "registered_model_labels",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("model_id", sa.String(32), nullable=False),
        sa.Column("label", sa.String(256), nullable=False),
        _fk("registered_model_labels", "model_id", "registered_models"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registered_model_labels")),
        sa.UniqueConstraint("model_id", "label", name=op.f("uq_registered_model_labels_model_id_label")),
    )
    op.create_index("ix_registered_model_labels_label", "registered_model_labels", ["label"])

    op.create_table(
        "model_versions",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("model_id", sa.String(32), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("framework", sa.String(32), nullable=False),
        sa.Column("task_type", sa.String(64), nullable=True),
        sa.Column("label_map", JSONType, nullable=False),
        sa.Column("parameters", JSONType, nullable=False),
        sa.Column("runtime", JSONType, nullable=False),
        sa.Column("metrics", JSONType, nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("source_revision_id", sa.String(32), nullable=True),
        sa.Column("source", JSONType, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
        _fk("model_versions", "model_id", "registered_models"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_versions")),
        sa.UniqueConstraint("model_id", "number", name=op.f("uq_model_versions_model_id_number")),
    )
    op.create_index("ix_model_versions_model_id_stage", "model_versions", ["model_id", "stage"])
    op.create_index("ix_model_versions_source_revision_id", "model_versions", ["source_revision_id"])

    op.create_table(
        "model_version_metrics",
        sa.Column("version_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        _fk("model_version_metrics", "version_id", "model_versions"),
        sa.PrimaryKeyConstraint("version_id", "name", name=op.f("pk_model_version_metrics")),
    )
    op.create_index("ix_model_version_metrics_name_value", "model_version_metrics", ["name", "value", "version_id"])

    op.create_table(
        "model_version_tags",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("version_id", sa.String(32), nullable=False),
        sa.Column("key", sa.String(256), nullable=False),
        sa.Column("value", sa.String(1024), nullable=False),
        _fk("model_version_tags", "version_id", "model_versions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_version_tags")),
        sa.UniqueConstraint("version_id", "key", name=op.f("uq_model_version_tags_version_id_key")),
    )
    op.create_index("ix_model_version_tags_key_value", "model_version_tags", ["key", "value", "version_id"])

    op.create_table(
        "model_version_files",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("version_id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(512), nullable=False),
        sa.Column("key", sa.String(1024), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        _fk("model_version_files", "version_id", "model_versions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_version_files")),
        sa.UniqueConstraint("version_id", "name", name=op.f("uq_model_version_files_version_id_name")),
    )

    op.create_table(
        "model_aliases",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("model_id", sa.String(32), nullable=False),
        sa.Column("alias", sa.String(256), nullable=False),
        sa.Column("version_id", sa.String(32), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
        _fk("model_aliases", "model_id", "registered_models"),
        _fk("model_aliases", "version_id", "model_versions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_model_aliases")),
        sa.UniqueConstraint("model_id", "alias", name=op.f("uq_model_aliases_model_id_alias")),
    )
    op.create_index("ix_model_aliases_version_id", "model_aliases", ["version_id"])

    op.create_table(
        "registry_events",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("model_id", sa.String(32), nullable=False),
        sa.Column("model_name", sa.String(256), nullable=False),
        sa.Column("version_id", sa.String(32), nullable=True),
        sa.Column("version_number", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(512), nullable=True),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("before", JSONType, nullable=True),
        sa.Column("after", JSONType, nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_events")),
    )
    op.create_index("ix_registry_events_model_id_at", "registry_events", ["model_id", "at"])
    op.create_index("ix_registry_events_model_name", "registry_events", ["model_name"])


def downgrade() -> None:
    for table in (
        "registry_events",
        "model_aliases",
        "model_version_files",
        "model_version_tags",
        "model_version_metrics",
        "model_versions",
        "registered_model_labels",
        "registered_model_tags",
        "registered_models",
    ):
        op.drop_table(table)
