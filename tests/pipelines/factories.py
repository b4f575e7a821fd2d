"""A served model without training: a tiny classifier checkpoint, its OpenVINO FP16 export, stored as the export
job stores variants (files under the revision folder, one Variant row each), on a real dataset revision."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from modelyard.architectures.manifest import SHIPPED_MANIFESTS_DIR, load_manifests
from modelyard.context import AppContext
from modelyard.db.engine import transaction
from modelyard.export import ExportedVariant, export_openvino
from modelyard.export.files import describe_files
from modelyard.revisions.models import ModelRevision, Variant
from modelyard.revisions.paths import revision_file, revision_folder
from modelyard.sdk import Client
from modelyard.storage.service import FileService
from modelyard.training.checkpoint import save_checkpoint
from modelyard.training.config import TrainingConfig
from modelyard.training.networks import create_model
from modelyard.variant import LabelEntry
from tests.revisions.factories import classification_project

LABELS = [LabelEntry(0, "label-red", "red"), LabelEntry(1, "label-blue", "blue")]
INPUT_SIZE = 64


@dataclass(frozen=True)
class TinyModel:
    checkpoint: Path
    fp16: ExportedVariant


@dataclass(frozen=True)
class ServedModel:
    project: str
    project_id: str
    revision_id: str
    images: list[Path]


def make_tiny_model(folder: Path) -> TinyModel:
    """A random mobilenet_v3_small with spread scores (see tests/export/factories.py), exported to FP16."""
    torch.manual_seed(0)
    manifest = load_manifests(SHIPPED_MANIFESTS_DIR, None)["mobilenet_v3_small"]
    manifest = manifest.model_copy(update={"input": manifest.input.model_copy(update={"size": [INPUT_SIZE] * 2})})
    model = create_model(manifest, len(LABELS), "multiclass_classification", None)
    for parameter in model.classifier[-1].parameters():
        nn.init.normal_(parameter, 0.0, 0.3)
    norms = [module for module in model.modules() if isinstance(module, nn.BatchNorm2d)]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.randn(4, 3, INPUT_SIZE, INPUT_SIZE))
    model.eval()
    folder.mkdir(parents=True, exist_ok=True)
    config = TrainingConfig(task="multiclass_classification", epochs=1, device="cpu", num_workers=0)
    checkpoint = save_checkpoint(folder / "model.pt", model, manifest, "multiclass_classification", LABELS, config)
    return TinyModel(checkpoint, export_openvino(checkpoint, folder / "openvino-fp16", "fp16"))


def served_model(client: Client, context: AppContext, tiny: TinyModel, folder: Path) -> ServedModel:
    """Project with 4 annotated images, a dataset revision, and a succeeded revision with two variants:
    pytorch-fp32 (model.pt in the revision folder) and openvino-fp16 (its own subfolder)."""
    project = classification_project(client, folder / "images", per_label=2)
    project_id = client.projects.get(project).id
    dataset_revision = client.datasets.create_revision(project)
    labels = [{"index": index, "id": label.id, "name": label.name}
              for index, label in enumerate(client.projects.labels(project))]  # fmt: skip
    with transaction(context.db.sessions) as session:
        files = FileService(session, context.store)
        revision = ModelRevision(
            project_id=project_id, number=1, name="tiny #1", architecture_id="mobilenet_v3_small",
            task_type="multiclass_classification", status="succeeded", base="pretrained",
            dataset_revision_id=dataset_revision.id, configuration={}, labels=labels, weights_status="available",
            created_by="local",
        )  # fmt: skip
        session.add(revision)
        session.flush()
        root = revision_folder(project_id, revision.id)
        files.save(revision_file(project_id, revision.id, "model.pt"), tiny.checkpoint, actor="local")
        session.add(variant_row(revision.id, "pytorch", "fp32", root, "model.pt", tiny.checkpoint.parent, ["model.pt"]))
        exported = tiny.fp16.folder
        names = [entry.name for entry in tiny.fp16.files]
        for name in [*names, "files.json"]:
            files.save(f"{root}/openvino-fp16/{name}", exported / name, actor="local")
        session.add(variant_row(revision.id, "openvino", "fp16", f"{root}/openvino-fp16", "model.xml", exported, names))
        revision_id = revision.id
    return ServedModel(project, project_id, revision_id, sorted((folder / "images").glob("*.png")))


def second_revision(context: AppContext, served: ServedModel, tiny: TinyModel) -> str:
    """Revision 2 of the served project, with only an openvino-fp16 variant: the same files as revision 1's
    (stored once), under a revision of its own. Its id."""
    with transaction(context.db.sessions) as session:
        first = session.get(ModelRevision, served.revision_id)
        assert first is not None
        revision = ModelRevision(
            project_id=first.project_id, number=2, name="tiny #2", architecture_id=first.architecture_id,
            task_type=first.task_type, status="succeeded", base="pretrained",
            dataset_revision_id=first.dataset_revision_id, configuration={}, labels=first.labels,
            weights_status="available", created_by="local",
        )  # fmt: skip
        session.add(revision)
        session.flush()
        folder = f"{revision_folder(first.project_id, revision.id)}/openvino-fp16"
        files = FileService(session, context.store)
        names = [entry.name for entry in tiny.fp16.files]
        for name in [*names, "files.json"]:
            files.save(f"{folder}/{name}", tiny.fp16.folder / name, actor="local")
        session.add(variant_row(revision.id, "openvino", "fp16", folder, "model.xml", tiny.fp16.folder, names))
        return revision.id


def variant_row(revision_id: str, format: str, precision: str, folder: str, model_file: str, local: Path,
             names: list[str]) -> Variant:  # fmt: skip
    entries = describe_files(local, names)
    return Variant(
        revision_id=revision_id, format=format, precision=precision, folder=folder, model_file=model_file,
        files=[{"name": e.name, "size": e.size, "sha256": e.sha256} for e in entries],
        size_bytes=sum(e.size for e in entries), created_by="local",
    )  # fmt: skip


def set_weights_status(context: AppContext, revision_id: str, weights_status: str) -> None:
    with transaction(context.db.sessions) as session:
        revision = session.get(ModelRevision, revision_id)
        assert revision is not None
        revision.weights_status = weights_status
