from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from modelyard.db.base import Base, IdMixin, JSONType, UTCDateTime, utcnow


class Evaluation(IdMixin, Base):
    __tablename__ = "evaluations"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), nullable=False)
    revision_id: Mapped[str] = mapped_column(ForeignKey("model_revisions.id", ondelete="CASCADE"), nullable=False)
    variant_id: Mapped[str | None] = mapped_column(ForeignKey("model_variants.id", ondelete="SET NULL"), nullable=True)
    variant: Mapped[str] = mapped_column(String(32), nullable=False)
    """`format-precision` of the variant, kept when the variant itself is deleted."""
    dataset_revision_id: Mapped[str] = mapped_column(ForeignKey("dataset_revisions.id"), nullable=False)
    subset: Mapped[str] = mapped_column(String(16), nullable=False)
    item_count: Mapped[int] = mapped_column(Integer, nullable=False)
    metric_name: Mapped[str] = mapped_column(String(64), nullable=False)
    metric_value: Mapped[float] = mapped_column(Float, nullable=False)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    per_label: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    confusion_matrix: Mapped[list[list[int]] | None] = mapped_column(JSONType, nullable=True)
    predictions_key: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    seconds: Mapped[float] = mapped_column(Float, nullable=False)
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    created_by: Mapped[str] = mapped_column(String(128), nullable=False, default="local")

    __table_args__ = (
        Index("ix_evaluations_revision_id_created_at", "revision_id", "created_at"),
        Index("ix_evaluations_project_id_metric_name", "project_id", "metric_name"),
    )
