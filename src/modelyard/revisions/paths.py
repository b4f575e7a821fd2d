"""Where a model revision's files live in the data directory (browsable, self-describing)."""

from __future__ import annotations

REVISION_FILES = ("model.pt", "training_metrics.json", "training.log", "hyperparameters.yaml")


def revision_folder(project_id: str, revision_id: str) -> str:
    return f"projects/{project_id}/models/{revision_id}"


def revision_file(project_id: str, revision_id: str, name: str) -> str:
    return f"{revision_folder(project_id, revision_id)}/{name}"
