"""A served detector without training, for the pipeline page: a detection project with a few images, a dataset
revision, and a succeeded revision whose one variant (pytorch-fp32) is a tiny SSDlite with spread scores, stored
as the training job stores it. Written straight to the server's database and file store (the server reads both)."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from modelyard.config import Settings
from modelyard.context import AppContext
from modelyard.db.engine import transaction
from modelyard.revisions.models import ModelRevision
from modelyard.revisions.paths import revision_file, revision_folder
from modelyard.sdk import Client
from modelyard.storage.service import FileService
from tests.export.factories import make_checkpoint
from tests.pipelines.factories import variant_row
from tests.revisions.factories import detection_project

DETECTION_PROJECT = "shapes-served"


@dataclass(frozen=True)
class ServedDetector:
    project: str
    revision_id: str
    images: list[Path]


def tiny_detector_checkpoint(folder: Path) -> Path:
    """The checkpoint, made once into `folder` (deterministic: seeded) and reused from there afterwards."""
    made = folder / "model.pt"
    if not made.is_file():
        # Made aside and renamed into place: another test process (`make test` runs several) may look at the same
        # cache folder at the same moment, and must see the whole file or none.
        with tempfile.TemporaryDirectory(dir=folder) as scratch:
            os.replace(make_checkpoint(Path(scratch), "detection"), made)
    return made


def serve_tiny_detector(
    sdk: Client, settings: Settings, folder: Path, checkpoint: Path, name: str = DETECTION_PROJECT
) -> ServedDetector:
    project = detection_project(sdk, folder / "images", name=name, count=3)
    found = sdk.projects.get(project)
    dataset_revision = sdk.datasets.create_revision(project)
    labels = [{"index": index, "id": label.id, "name": label.name} for index, label in enumerate(found.labels)]
    context = AppContext(settings)
    try:
        with transaction(context.db.sessions) as session:
            files = FileService(session, context.store)
            revision = ModelRevision(
                project_id=found.id, number=1, name="tiny detector", architecture_id="ssdlite320_mobilenet_v3_large",
                task_type="detection", status="succeeded", base="scratch", dataset_revision_id=dataset_revision.id,
                configuration={}, labels=labels, weights_status="available", created_by="ada",
            )  # fmt: skip
            session.add(revision)
            session.flush()
            files.save(revision_file(found.id, revision.id, "model.pt"), checkpoint, actor="ada")
            root = revision_folder(found.id, revision.id)
            session.add(variant_row(revision.id, "pytorch", "fp32", root, "model.pt", checkpoint.parent, ["model.pt"]))
            revision_id = revision.id
    finally:
        context.close()
    return ServedDetector(project, revision_id, sorted((folder / "images").glob("shape-*.png")))
