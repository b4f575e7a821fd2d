from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from modelyard.db.base import Base, IdMixin, JSONType, TimestampsMixin, UTCDateTime, utcnow


class ModelRevision(IdMixin, TimestampsMixin, Base):
    """One training outcome inside a project."""

    __tablename__ = "model_revisions"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    name: Mapped[str] = mapped_column(String(256), nullable=False)
    architecture_id: Mapped[str] = mapped_column(String(128), nullable=False)
    task_type: Mapped[str] = mapped_column(String(64), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    reason: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    base: Mapped[str] = mapped_column(String(16), nullable=False)
    dataset_revision_id: Mapped[str] = mapped_column(ForeignKey("dataset_revisions.id"), nullable=False)
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("model_revisions.id", ondelete="SET NULL"), nullable=True)
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"), nullable=True)
    configuration: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    labels: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, nullable=False)
    # What `train --auto` chose and why (architecture, hyperparameters, reasons, prediction); null otherwise.
    auto_configuration: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    training_device: Mapped[str | None] = mapped_column(String(32), nullable=True)
    metric_name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    best_metric: Mapped[float | None] = mapped_column(Float, nullable=True)
    best_epoch: Mapped[int | None] = mapped_column(Integer, nullable=True)
    epochs_trained: Mapped[int | None] = mapped_column(Integer, nullable=True)
    weights_status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (
        UniqueConstraint("project_id", "number"),
        Index("ix_model_revisions_project_id_created_at", "project_id", "created_at"),
        Index("ix_model_revisions_parent_id", "parent_id"),
        Index("ix_model_revisions_dataset_revision_id", "dataset_revision_id"),
    )


class TrainingConfiguration(IdMixin, TimestampsMixin, Base):
    """A project's stored hyperparameter overrides for one architecture."""

    __tablename__ = "training_configurations"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), nullable=False)
    architecture_id: Mapped[str] = mapped_column(String(128), nullable=False)
    overrides: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)

    __table_args__ = (UniqueConstraint("project_id", "architecture_id"),)


class Variant(IdMixin, Base):
    """One exported form of a revision: format x precision, with its files, parity and speed."""

    __tablename__ = "model_variants"

    revision_id: Mapped[str] = mapped_column(ForeignKey("model_revisions.id", ondelete="CASCADE"), nullable=False)
    format: Mapped[str] = mapped_column(String(16), nullable=False)
    precision: Mapped[str] = mapped_column(String(8), nullable=False)
    folder: Mapped[str] = mapped_column(String(1024), nullable=False)
    """Storage key of the folder that holds the variant's files."""
    model_file: Mapped[str] = mapped_column(String(256), nullable=False)
    files: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, nullable=False)
    size_bytes: Mapped[int] = mapped_column(BigInteger, nullable=False)
    parity: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    speed: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    created_by: Mapped[str] = mapped_column(String(128), nullable=False, default="local")

    __table_args__ = (UniqueConstraint("revision_id", "format", "precision"),)

    @property
    def name(self) -> str:
        return f"{self.format}-{self.precision}"
