from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from modelyard.kit.ids import one_by_id_prefix
from modelyard.kit.pagination import Order, keyset_page
from modelyard.revisions.models import ModelRevision, TrainingConfiguration, Variant
from modelyard.revisions.states import WeightsStatus


class ModelRevisionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, revision_id: str) -> ModelRevision | None:
        return self.session.get(ModelRevision, revision_id)

    def by_id_prefix(self, prefix: str) -> ModelRevision | None:
        return one_by_id_prefix(self.session, ModelRevision, prefix, what="model revision")

    def by_number(self, project_id: str, number: int) -> ModelRevision | None:
        return self.session.scalar(
            select(ModelRevision).where(ModelRevision.project_id == project_id, ModelRevision.number == number)
        )

    def by_job(self, job_id: str) -> ModelRevision | None:
        return self.session.scalar(select(ModelRevision).where(ModelRevision.job_id == job_id))

    def next_number(self, project_id: str) -> int:
        current = self.session.scalar(
            select(func.max(ModelRevision.number)).where(ModelRevision.project_id == project_id)
        )
        return (current or 0) + 1

    def page(
        self,
        project_id: str,
        *,
        architecture: str | None,
        status: str | None,
        dataset_revision_id: str | None,
        parent_id: str | None,
        order: Order,
        limit: int,
        cursor: str | None,
    ) -> Sequence[ModelRevision]:
        statement = select(ModelRevision).where(ModelRevision.project_id == project_id)
        for column, value in (
            (ModelRevision.architecture_id, architecture),
            (ModelRevision.status, status),
            (ModelRevision.dataset_revision_id, dataset_revision_id),
            (ModelRevision.parent_id, parent_id),
        ):
            if value is not None:
                statement = statement.where(column == value)
        statement = keyset_page(statement, ModelRevision.created_at, ModelRevision.id, order=order, limit=limit,
                                cursor=cursor)  # fmt: skip
        return self.session.scalars(statement).all()

    def children(self, revision_id: str) -> Sequence[ModelRevision]:
        return self.session.scalars(
            select(ModelRevision).where(ModelRevision.parent_id == revision_id).order_by(ModelRevision.created_at)
        ).all()

    def kept_on_dataset_revision(self, dataset_revision_id: str) -> Sequence[ModelRevision]:
        return self.session.scalars(
            select(ModelRevision).where(
                ModelRevision.dataset_revision_id == dataset_revision_id,
                ModelRevision.weights_status == WeightsStatus.AVAILABLE,
            ).order_by(ModelRevision.number)
        ).all()

    def add(self, revision: ModelRevision) -> ModelRevision:
        self.session.add(revision)
        self.session.flush()
        return revision

    def delete(self, revision: ModelRevision) -> None:
        self.session.delete(revision)
        self.session.flush()


class TrainingConfigurationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, project_id: str, architecture_id: str) -> TrainingConfiguration | None:
        return self.session.scalar(
            select(TrainingConfiguration).where(
                TrainingConfiguration.project_id == project_id,
                TrainingConfiguration.architecture_id == architecture_id,
            )
        )

    def add(self, configuration: TrainingConfiguration) -> TrainingConfiguration:
        self.session.add(configuration)
        self.session.flush()
        return configuration


class VariantRepository:
    """Every variant query: by id, by (revision, format, precision), and a revision's variants."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, variant_id: str) -> Variant | None:
        return self.session.get(Variant, variant_id)

    def find(self, revision_id: str, format_: str, precision: str) -> Variant | None:
        return self.session.scalar(
            select(Variant).where(
                Variant.revision_id == revision_id, Variant.format == format_, Variant.precision == precision
            )
        )

    def of_revision(self, revision_id: str) -> Sequence[Variant]:
        """Oldest first (the PyTorch variant the training recorded leads)."""
        return self.session.scalars(
            select(Variant).where(Variant.revision_id == revision_id).order_by(Variant.created_at)
        ).all()

    def total_sizes(self, revision_ids: Sequence[str]) -> dict[str, int]:
        """Bytes of each revision's variants (a revision without variants is left out)."""
        if not revision_ids:
            return {}
        rows = self.session.execute(
            select(Variant.revision_id, func.sum(Variant.size_bytes))
            .where(Variant.revision_id.in_(revision_ids))
            .group_by(Variant.revision_id)
        ).all()
        return {revision_id: int(total or 0) for revision_id, total in rows}

    def add(self, variant: Variant) -> Variant:
        self.session.add(variant)
        self.session.flush()
        return variant

    def delete(self, variant: Variant) -> None:
        self.session.delete(variant)
        self.session.flush()
