"""Where registered versions come from, as the registry sees it: plain dataclasses.

The registry does not read the tables of training or evaluation. Those domains answer through the
two lookups below, which are the only places to change when model revisions and evaluations land.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from modelyard.revisions.states import RevisionStatus


@dataclass(frozen=True)
class RevisionFile:
    name: str
    """File name inside the version (`model.pt`, `openvino/model.xml`)."""
    key: str
    """Key of the stored file in the artifact store; its bytes are linked, never copied."""


@dataclass(frozen=True)
class RevisionSource:
    """A model revision as the registry needs it."""

    revision_id: str
    project_id: str
    dataset_revision_id: str | None
    configuration: dict[str, Any]
    """The training configuration (architecture, hyperparameters)."""
    label_map: dict[int, str]
    parameters: dict[str, Any]
    metrics: dict[str, float]
    files: list[RevisionFile]
    framework: str = "pytorch"
    task_type: str | None = None
    status: str = RevisionStatus.SUCCEEDED

    def lineage(self) -> dict[str, Any]:
        return {
            "kind": "model_revision",
            "revision_id": self.revision_id,
            "project_id": self.project_id,
            "dataset_revision_id": self.dataset_revision_id,
            "configuration": self.configuration,
        }


@dataclass(frozen=True)
class EvaluationSource:
    """One evaluation of a revision: the candidate of `register_best`."""

    revision: RevisionSource
    metric_value: float
    dataset_revision_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def lookup_revision_source(session: Session, revision_id: str) -> RevisionSource:
    """The revision `revision_id` of any project, with the stored files a version links to."""
    from modelyard.revisions.paths import REVISION_FILES, revision_file
    from modelyard.revisions.usable import require_usable
    from modelyard.storage.repository import StoredFileRepository

    revision = require_usable(session, revision_id)
    stored = StoredFileRepository(session)
    files = [
        RevisionFile(name, key)
        for name in REVISION_FILES
        if stored.get(key := revision_file(revision.project_id, revision.id, name)) is not None
    ]
    metrics = {} if revision.best_metric is None else {f"validation_{revision.metric_name}": revision.best_metric}
    return RevisionSource(
        revision_id=revision.id,
        project_id=revision.project_id,
        dataset_revision_id=revision.dataset_revision_id,
        configuration={
            "architecture": revision.architecture_id,
            "hyperparameters": revision.configuration,
            "base": revision.base,
            "parent_revision_id": revision.parent_id,
        },  # fmt: skip
        label_map={label["index"]: label["name"] for label in revision.labels},
        parameters=dict(revision.configuration),
        metrics=metrics,
        files=files,
        framework="pytorch",
        task_type=revision.task_type,
        status=revision.status,
    )


def lookup_evaluations(session: Session, project_id: str, metric: str) -> list[EvaluationSource]:
    """Evaluations carrying `metric` (e.g. `accuracy`, `map_50`) of the project's revisions that
    still have their weights; the evaluation's dataset revision is what `dataset_revision_id` filters."""
    from modelyard.evaluations.repository import EvaluationRepository

    rows = EvaluationRepository(session).of_usable_revisions(project_id)
    sources: dict[str, RevisionSource] = {}
    candidates = []
    for evaluation, revision in rows:
        value = evaluation.metrics.get(metric, evaluation.metric_value if evaluation.metric_name == metric else None)
        if value is None:
            continue
        if revision.id not in sources:
            sources[revision.id] = lookup_revision_source(session, revision.id)
        candidates.append(EvaluationSource(
            revision=sources[revision.id], metric_value=float(value),
            dataset_revision_id=evaluation.dataset_revision_id,
            extra={"evaluation_id": evaluation.id, "variant": evaluation.variant, "subset": evaluation.subset},
        ))  # fmt: skip
    return candidates
