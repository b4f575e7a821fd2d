"""Evaluations: run a variant on a subset of a dataset revision and keep metrics and predictions."""

from __future__ import annotations

import json
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelyard.datasets.models import DatasetRevision
from modelyard.datasets.parquet import read_revision
from modelyard.datasets.revisions import RevisionService
from modelyard.db.base import new_id
from modelyard.db.engine import transaction
from modelyard.errors import NotFound
from modelyard.evaluations.models import Evaluation
from modelyard.jobs.context import JobContext
from modelyard.projects.models import Project
from modelyard.revisions.models import ModelRevision
from modelyard.revisions.paths import revision_folder
from modelyard.revisions.variants import VariantFiles, find_variant, require_weights
from modelyard.storage.service import FileService


def run_evaluation(
    context: JobContext, revision_id: str, variant_name: str, dataset_revision: str | None, subset: str
) -> str:
    """Evaluate one variant; returns the evaluation's id."""
    from modelyard.evaluation.runner import evaluate_variant

    with transaction(context.db.read_sessions) as session:
        revision = session.get(ModelRevision, revision_id)
        if revision is None:
            raise NotFound(f"model revision {revision_id!r} does not exist")
        require_weights(revision)
        files = FileService(session, context.store)
        variant = find_variant(session, revision, variant_name)
        model_path = VariantFiles(files).model_path(variant)
        project = session.get(Project, revision.project_id)
        datasets = RevisionService(session, files, context.actor)
        data = datasets.get(project, dataset_revision or revision.dataset_revision_id)
        parquet = datasets.parquet_path(data)
        variant_id, data_id, project_id = variant.id, data.id, revision.project_id
        label_ids = [label["id"] for label in revision.labels]
        label_names = [label["name"] for label in revision.labels]
        task = revision.task_type
    items = read_revision(parquet, subset)
    context.log.info("evaluating %s of revision %s on %d %s images", variant_name, revision_id, len(items), subset)
    result = evaluate_variant(model_path, items, task, label_ids, label_names)
    context.log.info("%s: %s %.4f", variant_name, result.metric_name, result.metric_value)
    evaluation_id = new_id()
    key = f"{revision_folder(project_id, revision_id)}/evaluations/{evaluation_id}/predictions.json"
    with transaction(context.db.sessions) as session:
        FileService(session, context.store).save(
            key, iter([json.dumps(result.predictions).encode()]), actor=context.actor, media_type="application/json"
        )
        session.add(Evaluation(
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
        return self.session.scalars(
            select(Evaluation).where(Evaluation.revision_id == revision_id).order_by(Evaluation.created_at)
        ).all()

    def compare(self, project_id: str, dataset_revision_id: str | None, subset: str, metric: str | None,
                variant: str | None) -> Sequence[Evaluation]:  # fmt: skip
        """Evaluations side by side: same subset (and dataset revision, when given), best first."""
        statement = select(Evaluation).where(Evaluation.project_id == project_id, Evaluation.subset == subset)
        if dataset_revision_id:
            statement = statement.where(Evaluation.dataset_revision_id == dataset_revision_id)
        if metric:
            statement = statement.where(Evaluation.metric_name == metric)
        if variant:
            statement = statement.where(Evaluation.variant == variant)
        return self.session.scalars(statement.order_by(Evaluation.metric_value.desc(), Evaluation.created_at)).all()

    def dataset_revision(self, project: Project, reference: str) -> DatasetRevision:
        return RevisionService(self.session, self.files, "local").get(project, reference)
