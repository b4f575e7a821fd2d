"""Every evaluation query."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelyard.evaluations.models import Evaluation
from modelyard.revisions.models import ModelRevision
from modelyard.revisions.states import RevisionStatus, WeightsStatus


class EvaluationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, evaluation: Evaluation) -> Evaluation:
        self.session.add(evaluation)
        self.session.flush()
        return evaluation

    def latest_of(self, variant_id: str, dataset_revision_id: str, subset: str) -> Evaluation | None:
        """The newest evaluation of this variant on this subset of this dataset revision."""
        return self.session.scalars(
            select(Evaluation)
            .where(Evaluation.variant_id == variant_id, Evaluation.dataset_revision_id == dataset_revision_id,
                   Evaluation.subset == subset)
            .order_by(Evaluation.created_at.desc(), Evaluation.id.desc())
            .limit(1)
        ).first()  # fmt: skip

    def of_revision(self, revision_id: str) -> Sequence[Evaluation]:
        return self.session.scalars(
            select(Evaluation).where(Evaluation.revision_id == revision_id).order_by(Evaluation.created_at)
        ).all()

    def compare(self, project_id: str, *, dataset_revision_id: str | None, subset: str, metric: str | None,
                variant: str | None) -> Sequence[Evaluation]:  # fmt: skip
        """Same subset (and dataset revision, when given), best first."""
        statement = select(Evaluation).where(Evaluation.project_id == project_id, Evaluation.subset == subset)
        if dataset_revision_id:
            statement = statement.where(Evaluation.dataset_revision_id == dataset_revision_id)
        if metric:
            statement = statement.where(Evaluation.metric_name == metric)
        if variant:
            statement = statement.where(Evaluation.variant == variant)
        return self.session.scalars(statement.order_by(Evaluation.metric_value.desc(), Evaluation.created_at)).all()

    def of_usable_revisions(self, project_id: str) -> Sequence[tuple[Evaluation, ModelRevision]]:
        """The project's evaluations, oldest first, of revisions that succeeded and still have their weights."""
        rows = self.session.execute(
            select(Evaluation, ModelRevision)
            .join(ModelRevision, ModelRevision.id == Evaluation.revision_id)
            .where(Evaluation.project_id == project_id, ModelRevision.status == RevisionStatus.SUCCEEDED,
                   ModelRevision.weights_status == WeightsStatus.AVAILABLE)
            .order_by(Evaluation.created_at)
        ).all()  # fmt: skip
        return [(evaluation, revision) for evaluation, revision in rows]
