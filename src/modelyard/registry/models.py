"""Registry tables. Versions and events get time-ordered ids, so `ORDER BY id` is creation order and
keyset pages over them walk an index (see `new_ordered_id`)."""

from __future__ import annotations

import os
import threading
import time
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, WriteOnlyMapped, mapped_column, relationship

from modelyard.db.base import Base, IdMixin, JSONType, TimestampsMixin, UTCDateTime, utcnow

_id_lock = threading.Lock()
_last_id = [0, 0]  # [milliseconds, sequence]


def new_ordered_id() -> str:
    """32 hex characters: 48-bit milliseconds, a 16-bit sequence, 64 random bits.

    Ids from one process are strictly increasing; ids from different processes sort by time.
    """
    with _id_lock:
        now = time.time_ns() // 1_000_000
        if now <= _last_id[0]:
            now, sequence = _last_id[0], _last_id[1] + 1
            if sequence > 0xFFFF:
                now, sequence = now + 1, 0
        else:
            sequence = 0
        _last_id[0], _last_id[1] = now, sequence
    return f"{now:012x}{sequence:04x}{os.urandom(8).hex()}"


class RegisteredModel(IdMixin, TimestampsMixin, Base):
    __tablename__ = "registered_models"

    name: Mapped[str] = mapped_column(String(256), unique=True, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # `metadata` is taken by SQLAlchemy's declarative base; the column keeps the plain name.
    model_metadata: Mapped[dict[str, Any]] = mapped_column("metadata", JSONType, nullable=False, default=dict)
    archived: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # Kept in the row so numbering is one locked row update, and counting is free.
    next_version_number: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    num_versions: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    updated_by: Mapped[str] = mapped_column(String(128), nullable=False, default="local")
    # The owning project (set when registered from one of its revisions, or given): tokens limited to
    # projects see only models of theirs. Null: a global model, visible to unlimited tokens only.
    project_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)

    # Loaded on access (pages load them with selectinload): version lookups do not pay for them.
    tags: Mapped[list[RegisteredModelTag]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="RegisteredModelTag.key"
    )
    labels: Mapped[list[RegisteredModelLabel]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, order_by="RegisteredModelLabel.label"
    )

    __table_args__ = (
        Index("ix_registered_models_created_at", "created_at"),
        Index("ix_registered_models_updated_at", "updated_at"),
        Index("ix_registered_models_num_versions", "num_versions"),
    )


class RegisteredModelTag(IdMixin, Base):
    __tablename__ = "registered_model_tags"

    model_id: Mapped[str] = mapped_column(ForeignKey("registered_models.id", ondelete="CASCADE"), nullable=False)
    key: Mapped[str] = mapped_column(String(256), nullable=False)
    value: Mapped[str] = mapped_column(String(1024), nullable=False, default="")

    __table_args__ = (
        UniqueConstraint("model_id", "key"),
        Index("ix_registered_model_tags_key_value", "key", "value"),
    )


class RegisteredModelLabel(IdMixin, Base):
    __tablename__ = "registered_model_labels"

    model_id: Mapped[str] = mapped_column(ForeignKey("registered_models.id", ondelete="CASCADE"), nullable=False)
    label: Mapped[str] = mapped_column(String(256), nullable=False)

    __table_args__ = (
        UniqueConstraint("model_id", "label"),
        Index("ix_registered_model_labels_label", "label"),
    )


class ModelVersion(TimestampsMixin, Base):
    __tablename__ = "model_versions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_ordered_id)
    model_id: Mapped[str] = mapped_column(ForeignKey("registered_models.id", ondelete="CASCADE"), nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str] = mapped_column(String(256), nullable=False, default="")
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    framework: Mapped[str] = mapped_column(String(32), nullable=False, default="other")
    task_type: Mapped[str | None] = mapped_column(String(64), nullable=True)
    label_map: Mapped[dict[str, str]] = mapped_column(JSONType, nullable=False, default=dict)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    runtime: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    metrics: Mapped[dict[str, float]] = mapped_column(JSONType, nullable=False, default=dict)
    stage: Mapped[str] = mapped_column(String(16), nullable=False, default="none")
    source_revision_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    source: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    updated_by: Mapped[str] = mapped_column(String(128), nullable=False, default="local")

    model: Mapped[RegisteredModel] = relationship(lazy="joined", innerjoin=True)
    tags: Mapped[list[ModelVersionTag]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin", order_by="ModelVersionTag.key"
    )
    files: Mapped[list[ModelVersionFile]] = relationship(
        cascade="all, delete-orphan", passive_deletes=True, lazy="selectin", order_by="ModelVersionFile.name"
    )
    # Written with the version (the unit of work then inserts the version first); never loaded.
    metric_rows: WriteOnlyMapped[ModelVersionMetric] = relationship(passive_deletes=True)
    aliases: Mapped[list[ModelAlias]] = relationship(lazy="selectin", order_by="ModelAlias.alias", viewonly=True)

    __table_args__ = (
        UniqueConstraint("model_id", "number"),
        Index("ix_model_versions_model_id_stage", "model_id", "stage"),
        Index("ix_model_versions_source_revision_id", "source_revision_id"),
        # Covering: MLflow's searches walk a model's versions by number and read only the id (migration 0017).
        Index("ix_model_versions_model_id_number_id", "model_id", "number", "id"),
    )


class ModelVersionMetric(Base):
    """One row per (version, metric): searching versions by a metric walks (name, value, version_id)."""

    __tablename__ = "model_version_metrics"

    version_id: Mapped[str] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(256), primary_key=True)
    value: Mapped[float] = mapped_column(Float, nullable=False)

    __table_args__ = (Index("ix_model_version_metrics_name_value", "name", "value", "version_id"),)


class ModelVersionTag(IdMixin, Base):
    __tablename__ = "model_version_tags"

    version_id: Mapped[str] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"), nullable=False)
    key: Mapped[str] = mapped_column(String(256), nullable=False)
    value: Mapped[str] = mapped_column(String(1024), nullable=False, default="")

    __table_args__ = (
        UniqueConstraint("version_id", "key"),
        Index("ix_model_version_tags_key_value", "key", "value", "version_id"),
        # Covering: a version's tag checked without reading the tag's row (migration 0017).
        Index("ix_model_version_tags_version_key_value", "version_id", "key", "value"),
    )


class ModelVersionFile(IdMixin, Base):
    __tablename__ = "model_version_files"

    version_id: Mapped[str] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"), nullable=False)
    name: Mapped[str] = mapped_column(String(512), nullable=False)
    key: Mapped[str] = mapped_column(String(1024), nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    created_by: Mapped[str] = mapped_column(String(128), nullable=False, default="local")

    __table_args__ = (UniqueConstraint("version_id", "name"),)


class ModelAlias(IdMixin, Base):
    __tablename__ = "model_aliases"

    model_id: Mapped[str] = mapped_column(ForeignKey("registered_models.id", ondelete="CASCADE"), nullable=False)
    alias: Mapped[str] = mapped_column(String(256), nullable=False)
    version_id: Mapped[str] = mapped_column(ForeignKey("model_versions.id", ondelete="CASCADE"), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    updated_by: Mapped[str] = mapped_column(String(128), nullable=False, default="local")

    __table_args__ = (
        UniqueConstraint("model_id", "alias"),
        Index("ix_model_aliases_version_id", "version_id"),
    )


class RegistryEvent(Base):
    """Append-only history. No foreign keys: the record outlives the models and versions it names."""

    __tablename__ = "registry_events"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_ordered_id)
    model_id: Mapped[str] = mapped_column(String(32), nullable=False)
    model_name: Mapped[str] = mapped_column(String(256), nullable=False)
    version_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    version_number: Mapped[int | None] = mapped_column(Integer, nullable=True)
    action: Mapped[str] = mapped_column(String(64), nullable=False)
    # What the action is about when it is not the version itself: an alias name, a stage, a file name.
    subject: Mapped[str | None] = mapped_column(String(512), nullable=True)
    actor: Mapped[str] = mapped_column(String(128), nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    comment: Mapped[str] = mapped_column(Text, nullable=False, default="")

    __table_args__ = (
        Index("ix_registry_events_model_id_at", "model_id", "at"),
        Index("ix_registry_events_model_name", "model_name"),
    )
