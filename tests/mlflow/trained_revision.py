"""A modelyard project with one succeeded training revision, stored the way training stores one: the revision's
record and its files (weights, per-epoch metrics, hyperparameters), written into a running server's data."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

from modelyard.config import Settings
from modelyard.context import AppContext
from modelyard.db.engine import transaction
from modelyard.revisions.models import ModelRevision
from modelyard.revisions.paths import revision_file
from modelyard.sdk import Client
from modelyard.storage.service import FileService
from modelyard.training.loop import EpochRecord
from tests.revisions.factories import classification_project

HYPERPARAMETERS = {"epochs": 3, "learning_rate": 0.01, "batch_size": 4, "augmentations": {"horizontal_flip": True}}
EPOCHS = [
    EpochRecord(1, 0.9, "accuracy", 0.5, 1.5, 0.01),
    EpochRecord(2, 0.6, "accuracy", 0.75, 1.25, 0.01),
    EpochRecord(3, 0.4, "accuracy", 0.875, 1.0, 0.005),
]
WEIGHTS = b"tiny weights " * 64


@dataclass(frozen=True)
class TrainedRevision:
    project_id: str
    project_name: str
    revision_id: str


def trained_revision(url: str, data_dir: Path, folder: Path) -> TrainedRevision:
    with Client(base_url=url) as sdk:
        name = classification_project(sdk, folder / "images", name="colors", per_label=2)
        project_id = sdk.projects.get(name).id
        dataset_revision = sdk.datasets.create_revision(name)
    context = AppContext(Settings(data_dir=data_dir))
    started = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    try:
        with transaction(context.db.sessions) as session:
            revision = ModelRevision(
                project_id=project_id,
                number=1,
                name="first training",
                architecture_id="mobilenet_v3_small",
                task_type="multiclass_classification",
                status="succeeded",
                base="pretrained",
                dataset_revision_id=dataset_revision.id,
                configuration=HYPERPARAMETERS,
                labels=[],
                metric_name="accuracy",
                best_metric=0.875,
                best_epoch=3,
                epochs_trained=3,
                weights_status="available",
                started_at=started,
                finished_at=started + timedelta(seconds=4),
                created_by="trainer",
            )
            session.add(revision)
            session.flush()
            files = FileService(session, context.store)
            contents = {
                "model.pt": WEIGHTS,
                "training_metrics.json": json.dumps([epoch.to_dict() for epoch in EPOCHS]).encode(),
                "hyperparameters.yaml": yaml.safe_dump({"hyperparameters": HYPERPARAMETERS}).encode(),
            }
            for file_name, content in contents.items():
                source = folder / file_name
                source.write_bytes(content)
                files.save(revision_file(project_id, revision.id, file_name), source, actor="trainer")
            revision_id = revision.id
    finally:
        context.close()
    return TrainedRevision(project_id, name, revision_id)
