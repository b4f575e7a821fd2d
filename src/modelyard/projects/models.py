from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from modelyard.db.base import Base, IdMixin, TimestampsMixin


class Project(IdMixin, TimestampsMixin, Base):
    __tablename__ = "projects"

    name: Mapped[str] = mapped_column(String(256), unique=True, nullable=False)
    task_type: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    updated_by: Mapped[str] = mapped_column(String(128), nullable=False, default="local")

    labels: Mapped[list[Label]] = relationship(
        back_populates="project",
        order_by="Label.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
        lazy="selectin",
    )


class Label(IdMixin, TimestampsMixin, Base):
    __tablename__ = "labels"

    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), nullable=False)
    name: Mapped[str] = mapped_column(String(256), nullable=False)
    color: Mapped[str] = mapped_column(String(7), nullable=False)
    hotkey: Mapped[str | None] = mapped_column(String(32), nullable=True)
    position: Mapped[int] = mapped_column(Integer, nullable=False)

    project: Mapped[Project] = relationship(back_populates="labels")

    __table_args__ = (
        UniqueConstraint("project_id", "name"),
        UniqueConstraint("project_id", "hotkey"),
    )
