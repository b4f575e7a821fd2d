"""Dataset items, the labels their annotations use, and immutable dataset revisions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from modelyard.db.base import Base, IdMixin, JSONType, UTCDateTime, utcnow


class DatasetItem(IdMixin, Base):
    """One image of a project: its stored file, its annotation for the task, and its subset."""

    __tablename__ = "dataset_items"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), nullable=False)
    name: Mapped[str] = mapped_column(String(512), nullable=False)
    image_key: Mapped[str] = mapped_column(String(1024), nullable=False)
    thumbnail_key: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    width: Mapped[int] = mapped_column(Integer, nullable=False)
    height: Mapped[int] = mapped_column(Integer, nullable=False)
    format: Mapped[str] = mapped_column(String(16), nullable=False)
    subset: Mapped[str] = mapped_column(String(16), nullable=False, default="unassigned")
    # Set when a dataset revision first includes the item: from then on its subset never changes.
    in_revision: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    annotation: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    annotated: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    # Raised by one on every change of the annotation: a save naming an older version is refused (409).
    annotation_version: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    user_reviewed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    uploaded_by: Mapped[str] = mapped_column(String(128), nullable=False, default="local")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow, nullable=False)

    __table_args__ = (
        UniqueConstraint("project_id", "sha256"),
        # The gallery's two sorts, each with the id that breaks ties: a keyset page is a range of one index,
        # and numbering every page's end (the cursors) reads the index alone, never the rows.
        Index("ix_dataset_items_project_id_uploaded_at_id", "project_id", "uploaded_at", "id"),
        Index("ix_dataset_items_project_id_name_id", "project_id", "name", "id"),
        # The gallery's counts per subset (items, annotated, reviewed) read this index alone.
        Index("ix_dataset_items_project_id_subset_annotated_user_reviewed", "project_id", "subset", "annotated",
              "user_reviewed"),  # fmt: skip
        Index("ix_dataset_items_project_id_annotated", "project_id", "annotated"),
    )


class ItemLabel(Base):
    """A label used by an item's annotation, with how many shapes (or 1 for classification) use it.

    Keeps label filters and label-in-use counts to indexed queries instead of scans of JSON.
    """

    __tablename__ = "dataset_item_labels"

    item_id: Mapped[str] = mapped_column(ForeignKey("dataset_items.id", ondelete="CASCADE"), primary_key=True)
    label_id: Mapped[str] = mapped_column(ForeignKey("labels.id", ondelete="CASCADE"), primary_key=True)
    shapes: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    __table_args__ = (Index("ix_dataset_item_labels_label_id", "label_id"),)


class DatasetRevision(IdMixin, Base):
    """An immutable snapshot of the annotated items: one Parquet file plus the images it references."""

    __tablename__ = "dataset_revisions"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), nullable=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    parquet_key: Mapped[str] = mapped_column(String(1024), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    images_size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    item_count: Mapped[int] = mapped_column(Integer, nullable=False)
    subset_counts: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    label_counts: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, nullable=False)
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    # `datasets.analysis.DatasetAnalysis` as JSON, computed from data.parquet when the revision is made.
    analysis: Mapped[dict[str, Any] | None] = mapped_column(JSONType, nullable=True)
    files_deleted: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    files_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, nullable=False)
    created_by: Mapped[str] = mapped_column(String(128), nullable=False, default="local")

    __table_args__ = (UniqueConstraint("project_id", "number"),)


class RevisionImage(Base):
    """An image a revision references. While the revision's files exist, the image file is kept,
    even after its item is deleted from the dataset."""

    __tablename__ = "dataset_revision_images"

    revision_id: Mapped[str] = mapped_column(ForeignKey("dataset_revisions.id", ondelete="CASCADE"), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    image_key: Mapped[str] = mapped_column(String(1024), nullable=False)

    __table_args__ = (Index("ix_dataset_revision_images_image_key", "image_key"),)
