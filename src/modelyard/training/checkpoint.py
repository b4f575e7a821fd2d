"""Self-describing ``model.pt``: weights plus everything needed to rebuild and run them without the database.

The file holds the architecture manifest, task, ordered label map, input spec and training configuration next to
the state_dict, all as plain Python types so it loads with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from modelyard.architectures.manifest import ArchitectureManifest, InputSpec
from modelyard.training.config import TrainingConfig
from modelyard.training.networks import get_builder, uses_frozen_norms
from modelyard.variant.metadata import LabelEntry

FORMAT = "modelyard.model"
FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """The file is not a modelyard checkpoint, or one written by a newer version."""

    code = "checkpoint_invalid"


@dataclass
class LoadedModel:
    model: nn.Module
    """Rebuilt module with the saved weights, on the CPU, in eval mode."""
    manifest: ArchitectureManifest
    task: str
    labels: list[LabelEntry]
    input_spec: InputSpec
    configuration: TrainingConfig
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def architecture_id(self) -> str:
        return self.manifest.id


def save_checkpoint(
    path: Path,
    model: nn.Module,
    manifest: ArchitectureManifest,
    task: str,
    labels: Sequence[LabelEntry],
    configuration: TrainingConfig,
    metadata: dict[str, Any] | None = None,
) -> Path:
    """Write ``model.pt`` atomically; ``metadata`` holds extra plain values (metrics, lineage ids)."""
    if [label.index for label in labels] != list(range(len(labels))):
        raise CheckpointError("labels must be given in output order with indices 0, 1, 2, ...")
    content = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "architecture_id": manifest.id,
        "task": task,
        "labels": [{"index": label.index, "id": label.id, "name": label.name} for label in labels],
        "input": manifest.input.model_dump(mode="json"),
        "manifest": manifest.model_dump(mode="json"),
        "configuration": configuration.to_dict(),
        # Fine-tuned detectors use frozen batch norms; rebuilding needs to know which kind of layer to create.
        "frozen_norms": uses_frozen_norms(model),
        "metadata": dict(metadata or {}),
        "state_dict": {key: tensor.detach().cpu() for key, tensor in model.state_dict().items()},
    }
    _save_atomically(content, path)
    return path


def read_checkpoint(path: Path) -> dict[str, Any]:
    """The checkpoint's content as saved, after checking its format."""
    content = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(content, dict) or content.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a modelyard model file")
    if content.get("format_version", 0) > FORMAT_VERSION:
        raise CheckpointError(f"{path} was written by a newer modelyard (format {content['format_version']})")
    return content


def load_model(path: Path) -> LoadedModel:
    """Rebuild the module described by ``path`` and load its weights; needs nothing but the file."""
    content = read_checkpoint(path)
    manifest = ArchitectureManifest.model_validate(content["manifest"])
    builder = get_builder(manifest)
    labels = [LabelEntry(**label) for label in content["labels"]]
    model = builder.build(builder.function, manifest, len(labels), content["frozen_norms"])
    model.load_state_dict(content["state_dict"])
    model.eval()
    return LoadedModel(
        model=model,
        manifest=manifest,
        task=content["task"],
        labels=labels,
        input_spec=InputSpec.model_validate(content["input"]),
        configuration=TrainingConfig.from_dict(content["configuration"]),
        metadata=content["metadata"],
    )


def _save_atomically(content: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary_name = tempfile.mkstemp(prefix=".model-", suffix=".pt", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as sink:
            torch.save(content, sink)
            sink.flush()
            os.fsync(sink.fileno())
        os.replace(temporary_name, path)
    finally:
        Path(temporary_name).unlink(missing_ok=True)
