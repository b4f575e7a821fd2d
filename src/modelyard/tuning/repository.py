"""Every query of hyperparameter studies: their journals."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from modelyard.tuning.models import StudyJournalEntry


class StudyJournalRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def operations_from(self, study_job_id: str, seq: int) -> list[str]:
        """The study's operations numbered `seq` and after, in order."""
        rows = self.session.scalars(
            select(StudyJournalEntry.operation)
            .where(StudyJournalEntry.study_job_id == study_job_id, StudyJournalEntry.seq >= seq)
            .order_by(StudyJournalEntry.seq)
        )
        return list(rows)

    def append(self, study_job_id: str, operations: Sequence[str]) -> None:
        """Number the operations after the last one; two writers that pick the same number collide on the primary
        key, and the one that loses tries again (the journal's order is the order its writers committed in)."""
        last = self.session.scalar(
            select(func.max(StudyJournalEntry.seq)).where(StudyJournalEntry.study_job_id == study_job_id)
        )
        first = 0 if last is None else last + 1
        rows = [{"study_job_id": study_job_id, "seq": first + index, "operation": operation}
                for index, operation in enumerate(operations)]  # fmt: skip
        self.session.execute(insert(StudyJournalEntry), rows)

    def exists(self, study_job_id: str) -> bool:
        return self.session.scalar(
            select(StudyJournalEntry.seq).where(StudyJournalEntry.study_job_id == study_job_id).limit(1)
        ) is not None
