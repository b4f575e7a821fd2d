"""Evaluations: run a variant on a subset of a dataset revision and keep metrics and predictions."""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy.orm import Session

from modelyard.datasets.models import DatasetRevision
from modelyard.datasets.revisions import DatasetRevisionService
from modelyard.db.base import new_id
from modelyard.db.engine import transaction
from modelyard.evaluations.models import Evaluation
from modelyard.evaluations.repository import EvaluationRepository
from modelyard.jobs.context import JobContext
from modelyard.projects.models import Project
from modelyard.projects.repository import ProjectRepository
from modelyard.revisions.paths import revision_folder
from modelyard.revisions.usable import require_usable
from modelyard.revisions.variants import VariantFiles, require_variant
from modelyard.storage.service import FileService


def run_evaluation(
    context: JobContext,
    revision_id: str,
    variant_name: str,
    dataset_revision: str | None,
    subset: str,
    *,
    reuse_stored: bool = False,
) -> str:
    """Evaluate one variant; returns the evaluation's id. `reuse_stored`: when the same variant was
    evaluated on the same subset of the same dataset revision already (a second job queued before the
    first ended), return that evaluation's id instead."""
    from modelyard.scoring.runner import evaluate_variant

    with transaction(context.db.read_sessions) as session:
        revision = require_usable(session, revision_id)
        files = FileService(session, context.store)
        variant = require_variant(session, revision, variant_name)
        model_path = VariantFiles(files).model_path(variant)
        project = ProjectRepository(session).get(revision.project_id)
        assert project is not None  # the revision's foreign key cascades from its project
        datasets = DatasetRevisionService(session, files, context.actor)
        data = datasets.get(project, dataset_revision or revision.dataset_revision_id)
        variant_id, data_id, project_id = variant.id, data.id, revision.project_id
        label_ids = [label["id"] for label in revision.labels]
        label_names = [label["name"] for label in revision.labels]
        task = revision.task_type
        stored = EvaluationRepository(session).latest_of(variant_id, data_id, subset) if reuse_stored else None
        items = datasets.read_items(data, subset) if stored is None else []
    if stored is not None:
        context.log.info("%s of revision %s was evaluated on this %s subset already (evaluation %s): reused; "
                         "pass force to run it again", variant_name, revision_id, subset, stored.id)  # fmt: skip
        return stored.id
    context.log.info("evaluating %s of revision %s on %d %s images", variant_name, revision_id, len(items), subset)
    result = evaluate_variant(model_path, items, task, label_ids, label_names)
    context.log.info("%s: %s %.4f", variant_name, result.metric_name, result.metric_value)
    evaluation_id = new_id()
    key = f"{revision_folder(project_id, revision_id)}/evaluations/{evaluation_id}/predictions.json"
    with transaction(context.db.sessions) as session:
        FileService(session, context.store).save(
            key, iter([json.dumps(result.predictions).encode()]), actor=context.actor, media_type="application/json"
        )
        EvaluationRepository(session).add(Evaluation(
            id=evaluation_id, project_id=project_id, revision_id=revision_id, variant_id=variant_id,
            variant=variant_name, dataset_revision_id=data_id, subset=subset, item_count=len(items),
            metric_name=result.metric_name, metric_value=result.metric_value, metrics=result.metrics,
            per_label=result.per_label, confusion_matrix=result.confusion_matrix, predictions_key=key,
            seconds=result.seconds, job_id=context.job_id, created_by=context.actor,
        ))  # fmt: skip
    return evaluation_id


class EvaluationService:
    def __init__(self, session: Session, files: FileService) -> None:
        self.session = session
        self.files = files

    def of_revision(self, revision_id: str) -> Sequence[Evaluation]:
        return EvaluationRepository(self.session).of_revision(revision_id)

    def compare(self, project_id: str, dataset_revision_id: str | None, subset: str, metric: str | None,
                variant: str | None) -> Sequence[Evaluation]:  # fmt: skip
        """Evaluations side by side: same subset (and dataset revision, when given), best first."""
        return EvaluationRepository(self.session).compare(
            project_id, dataset_revision_id=dataset_revision_id, subset=subset, metric=metric, variant=variant
        )

    def dataset_revision(self, project: Project, reference: str) -> DatasetRevision:
        return DatasetRevisionService(self.session, self.files, "local").get(project, reference)
