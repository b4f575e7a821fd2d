"""modelyard projects as MLflow experiments and their training revisions as runs, read-only.

An experiment's id is the project's id, a run's id the revision's id (both stable). A revision shows its
hyperparameters as params (nested groups joined with dots), its per-epoch training figures as metrics with
the epoch as the step, what modelyard knows of it as `modelyard.*` tags, and its stored files as artifacts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelyard.auth.access import ProjectAccess
from modelyard.errors import InvalidInput
from modelyard.kit.pagination import split_page
from modelyard.mlflow.tracking_views import ACTIVE, ExperimentView, MetricValue, RunView, millis
from modelyard.projects.models import Project
from modelyard.projects.repository import ProjectRepository
from modelyard.revisions.models import ModelRevision
from modelyard.revisions.paths import revision_file, revision_folder
from modelyard.revisions.states import RevisionStatus
from modelyard.storage.models import StoredFile
from modelyard.storage.service import FileService

RUN_STATUS = {
    RevisionStatus.RUNNING: "RUNNING",
    RevisionStatus.SUCCEEDED: "FINISHED",
    RevisionStatus.FAILED: "FAILED",
    RevisionStatus.CANCELLED: "KILLED",
}
EPOCH_FIGURES = {"train_loss": "train_loss", "learning_rate": "learning_rate", "seconds": "epoch_seconds"}
FILES_PAGE = 1000


def read_only(what: str) -> InvalidInput:
    """The refusal of any change to a project or a revision through MLflow (INVALID_PARAMETER_VALUE)."""
    return InvalidInput(
        f"{what} is read-only through MLflow's API: it is a modelyard project or training revision; change it "
        "with modelyard's own API, SDK or CLI, or log to an experiment created through MLflow"
    )


def is_project_id(experiment_id: str) -> bool:
    """Experiments created through MLflow have numbers for ids; projects have 32 hexadecimal characters."""
    return experiment_number(experiment_id) is None


def experiment_number(experiment_id: str) -> int | None:
    """The number of an experiment created through MLflow (ASCII digits, 64 bits), or None."""
    if experiment_id.isascii() and experiment_id.isdigit() and len(experiment_id) < 19:
        return int(experiment_id)
    return None


class ProjectRuns:
    def __init__(self, session: Session, files: FileService, access: ProjectAccess) -> None:
        self.session = session
        self.files = files
        self.access = access
        self.projects = ProjectRepository(session)

    # -- experiments -------------------------------------------------------------------------
    def project(self, experiment_id: str) -> Project | None:
        project = self.projects.get(experiment_id)
        return project if project is not None and self.access.allows(project.id) else None

    def project_named(self, name: str) -> Project | None:
        project = self.projects.get_by_name(name)
        return project if project is not None and self.access.allows(project.id) else None

    def visible_projects(self) -> Sequence[Project]:
        statement = select(Project)
        if self.access.project_ids is not None:
            statement = statement.where(Project.id.in_(sorted(self.access.project_ids)))
        return self.session.scalars(statement).all()

    @staticmethod
    def experiment(project: Project) -> ExperimentView:
        tags = {"modelyard.task_type": project.task_type, "modelyard.project": project.name}
        if project.description:
            tags["mlflow.note.content"] = project.description
        return ExperimentView(
            project.id, project.name, ACTIVE, millis(project.created_at) or 0, millis(project.updated_at) or 0, tags
        )

    # -- runs --------------------------------------------------------------------------------
    def revision(self, run_id: str) -> ModelRevision | None:
        revision = self.session.get(ModelRevision, run_id)
        return revision if revision is not None and self.access.allows(revision.project_id) else None

    def revisions(self, project_ids: Sequence[str]) -> Sequence[ModelRevision]:
        if not project_ids:
            return []
        return self.session.scalars(select(ModelRevision).where(ModelRevision.project_id.in_(project_ids))).all()

    def run(self, revision: ModelRevision) -> RunView:
        start = millis(revision.started_at or revision.created_at) or 0
        history = self.epoch_metrics(revision, start)
        latest: dict[str, MetricValue] = {}
        for metric in history:
            latest[metric.key] = metric  # epochs come in order: the last one stays
        if revision.best_metric is not None and revision.metric_name:
            best_step = revision.best_epoch or 0
            latest[f"best_{revision.metric_name}"] = MetricValue(
                f"best_{revision.metric_name}", revision.best_metric, millis(revision.finished_at) or start, best_step
            )
        return RunView(
            run_id=revision.id,
            experiment_id=revision.project_id,
            run_name=revision.name,
            status=RUN_STATUS.get(RevisionStatus(revision.status), "FAILED"),
            user_id=revision.created_by,
            start_time=start,
            end_time=millis(revision.finished_at),
            lifecycle_stage=ACTIVE,
            params=dict(flatten(revision.configuration)),
            tags=self._tags(revision),
            metrics=latest,
        )

    def _tags(self, revision: ModelRevision) -> dict[str, str]:
        tags = {
            "mlflow.runName": revision.name,
            "mlflow.user": revision.created_by,
            "modelyard.revision_number": str(revision.number),
            "modelyard.architecture": revision.architecture_id,
            "modelyard.task_type": revision.task_type,
            "modelyard.base": revision.base,
            "modelyard.dataset_revision": revision.dataset_revision_id,
            "modelyard.weights": revision.weights_status,
        }
        if revision.parent_id:
            tags["modelyard.parent_revision"] = revision.parent_id
        if revision.error:
            tags["modelyard.error"] = revision.error
        return tags

    def epoch_metrics(self, revision: ModelRevision, start: int) -> list[MetricValue]:
        """Each epoch's figures as metrics, the epoch as the step; timestamps count the epochs' seconds from the
        training's start (revisions keep no wall time per epoch)."""
        record = self.files.files.get(revision_file(revision.project_id, revision.id, "training_metrics.json"))
        if record is None:
            return []
        epochs = json.loads(b"".join(self.files.open(record)))
        metrics: list[MetricValue] = []
        elapsed = 0.0
        for epoch in epochs:
            elapsed += float(epoch.get("seconds", 0.0))
            timestamp = start + int(elapsed * 1000)
            step = int(epoch["epoch"])
            figures = {name: epoch.get(field) for field, name in EPOCH_FIGURES.items()}
            figures[str(epoch["metric_name"])] = epoch.get("metric_value")
            figures.update(epoch.get("details") or {})
            metrics.extend(
                MetricValue(key, float(value), timestamp, step)
                for key, value in figures.items()
                if isinstance(value, int | float)
            )
        return metrics

    def metric_history(self, revision: ModelRevision, key: str) -> list[MetricValue]:
        start = millis(revision.started_at or revision.created_at) or 0
        history = [metric for metric in self.epoch_metrics(revision, start) if metric.key == key]
        if not history:
            best = self.run(revision).metrics.get(key)
            history = [best] if best is not None else []
        return history

    # -- artifacts ---------------------------------------------------------------------------
    def files_of(self, revision: ModelRevision) -> Iterator[tuple[str, StoredFile]]:
        """(path in the run, stored file) of each file of the revision's folder, variants' subfolders included."""
        prefix = revision_folder(revision.project_id, revision.id) + "/"
        cursor: str | None = None
        while True:
            rows, cursor = split_page(self.files.page(prefix, limit=FILES_PAGE, cursor=cursor), FILES_PAGE, "key")
            for record in rows:
                yield record.key[len(prefix) :], record
            if cursor is None:
                return


def flatten(document: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """A nested document as (dotted key, text) pairs: how hyperparameter groups show as MLflow params."""
    for key, value in document.items():
        if isinstance(value, Mapping):
            yield from flatten(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", value if isinstance(value, str) else json.dumps(value)
