from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, Text
from sqlalchemy.orm import Mapped, mapped_column

from modelyard.db.base import Base


class StudyJournalEntry(Base):
    """One operation of a hyperparameter study's journal (Optuna's JournalStorage format), numbered from 0 per study.

    A study is named by the id of the tune job that runs it; replaying its entries in order rebuilds the study."""

    __tablename__ = "study_journal"

    study_job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    operation: Mapped[str] = mapped_column(Text, nullable=False)
