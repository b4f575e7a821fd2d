"""Every query of the pipelines domain: pipeline rows and the variants they point at."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelyard.pipelines.models import Pipeline
from modelyard.revisions.models import Variant


class PipelineRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, project_id: str) -> Pipeline | None:
        return self.session.get(Pipeline, project_id)

    def add(self, pipeline: Pipeline) -> Pipeline:
        self.session.add(pipeline)
        self.session.flush()
        return pipeline

    def delete(self, pipeline: Pipeline) -> None:
        self.session.delete(pipeline)
        self.session.flush()

    def using_revision(self, revision_id: str) -> Sequence[Pipeline]:
        """Pipelines serving a variant of this revision (deleting its weights must refuse or disable them)."""
        return self.session.scalars(select(Pipeline).where(Pipeline.revision_id == revision_id)).all()


class VariantRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, variant_id: str) -> Variant | None:
        return self.session.get(Variant, variant_id)

    def of_revision(self, revision_id: str) -> Sequence[Variant]:
        return self.session.scalars(
            select(Variant).where(Variant.revision_id == revision_id).order_by(Variant.format, Variant.precision)
        ).all()

    def find(self, revision_id: str, format: str, precision: str) -> Variant | None:
        return self.session.scalar(
            select(Variant).where(
                Variant.revision_id == revision_id, Variant.format == format, Variant.precision == precision
            )
        )
