"""Every query of the pipelines domain: the pipeline rows."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelyard.pipelines.models import Pipeline


class PipelineRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, project_id: str) -> Pipeline | None:
        return self.session.get(Pipeline, project_id)

    def delete(self, pipeline: Pipeline) -> None:
        self.session.delete(pipeline)
        self.session.flush()

    def using_revision(self, revision_id: str) -> Sequence[Pipeline]:
        """Pipelines serving a variant of this revision (deleting its weights must refuse or disable them)."""
        return self.session.scalars(select(Pipeline).where(Pipeline.revision_id == revision_id)).all()
