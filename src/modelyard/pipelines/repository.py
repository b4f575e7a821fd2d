"""Every query of the pipelines domain: the pipeline rows."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, lazyload

from modelyard.pipelines.models import Pipeline
from modelyard.projects.models import Project


class PipelineRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, project_id: str) -> Pipeline | None:
        return self.session.get(Pipeline, project_id)

    def delete(self, pipeline: Pipeline) -> None:
        self.session.delete(pipeline)
        self.session.flush()

    def project_with_pipeline(self, reference: str) -> tuple[Project, Pipeline | None] | None:
        """The project with this id or name (the id wins) and its pipeline row, in one query: the predict path's only
        one once the variant is loaded. Both rows land in the session, so later lookups of either cost no query."""
        row = self.session.execute(
            select(Project, Pipeline)
            .outerjoin(Pipeline, Pipeline.project_id == Project.id)
            .where(or_(Project.id == reference, Project.name == reference))
            .order_by((Project.id == reference).desc())
            .limit(1)
            .options(lazyload(Project.labels))  # predicting needs no labels; they still load if touched
        ).first()
        return None if row is None else (row[0], row[1])

    def using_revision(self, revision_id: str) -> Sequence[Pipeline]:
        """Pipelines serving a variant of this revision (deleting its weights must refuse or disable them)."""
        return self.session.scalars(select(Pipeline).where(Pipeline.revision_id == revision_id)).all()
