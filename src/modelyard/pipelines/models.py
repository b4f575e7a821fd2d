from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from modelyard.db.base import Base, UTCDateTime, utcnow


class Pipeline(Base):
    """The variant a project's predictions come from (one row per project while enabled)."""

    __tablename__ = "pipelines"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True)
    revision_id: Mapped[str] = mapped_column(ForeignKey("model_revisions.id"), nullable=False)
    variant_id: Mapped[str] = mapped_column(ForeignKey("model_variants.id"), nullable=False)
    confidence_threshold: Mapped[float] = mapped_column(Float, nullable=False)
    enabled_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    enabled_by: Mapped[str] = mapped_column(String(128), nullable=False, default="local")
