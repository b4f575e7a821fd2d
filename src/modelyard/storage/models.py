"""Records of stored files: one row per browsable path; the bytes live once per sha256."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from modelyard.db.base import Base, IdMixin, UTCDateTime, utcnow


class StoredFile(IdMixin, Base):
    __tablename__ = "stored_files"

    key: Mapped[str] = mapped_column(String(1024), unique=True, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    media_type: Mapped[str] = mapped_column(String(128), nullable=False, default="application/octet-stream")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    created_by: Mapped[str] = mapped_column(String(128), nullable=False, default="local")

    __table_args__ = (Index("ix_stored_files_sha256", "sha256"),)
