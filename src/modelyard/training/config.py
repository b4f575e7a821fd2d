"""Typed training configuration, built from a manifest's resolved hyperparameters."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TrainingConfig:
    """Everything that decides how a training run behaves, apart from the data and the architecture."""

    task: str
    """Task type: multiclass_classification, multilabel_classification, detection or instance_segmentation."""

    learning_rate: float = 1e-3
    """Peak learning rate, reached at the end of the warm-up."""

    batch_size: int = 16
    """Images per optimisation step."""

    epochs: int = 20
    """Most passes over the training subset; early stopping may end sooner."""

    weight_decay: float = 1e-4
    """L2 penalty, applied to weights only (not to biases and normalisation parameters)."""

    optimizer: str = "adamw"
    """One of sgd (momentum 0.9, Nesterov), adam, adamw."""

    scheduler: str = "cosine"
    """Learning-rate decay after the warm-up: cosine (to 0), step (x0.1 at 50% and 75%), constant."""

    warmup_epochs: int = 1
    """Epochs over which the learning rate rises linearly to ``learning_rate``."""

    early_stopping_patience: int = 5
    """Stop after this many epochs without a better validation metric; 0 trains all epochs."""

    gradient_clip_norm: float = 0.0
    """Largest L2 norm of all gradients together; 0 disables clipping."""

    horizontal_flip: bool = True
    """Mirror each training image with probability 0.5."""

    color_jitter: float = 0.0
    """Brightness, contrast and saturation jitter strength in [0, 1]; 0 disables it."""

    random_resized_crop: float = 1.0
    """Smallest random crop area as a fraction of the image; 1 disables cropping."""

    input_size: int | None = None
    """Side of the square input; the manifest given to training is already resized to it (None: as published)."""

    class_balancing: str = "none"
    """none; sampling: draw each training image with weight 1 / count of its rarest label; loss: weigh each
    label's loss by its inverse frequency (classification only)."""

    seed: int = 0
    """Seeds model initialisation, data order and augmentations so a run can be repeated."""

    device: str = "auto"
    """torch device for training; auto picks cuda when available, else cpu."""

    num_workers: int | None = None
    """DataLoader worker processes; None chooses from the CPU count and whether augmentations are on."""

    time_limit_seconds: float | None = None
    """Stop after the epoch past which another epoch would end later than this many seconds from the start."""

    @classmethod
    def from_hyperparameters(cls, task: str, hyperparameters: Mapping[str, Any], **runtime: Any) -> TrainingConfig:
        """Build from ``resolve_hyperparameters`` output plus runtime settings (seed, device, num_workers)."""
        flat = {key: value for key, value in hyperparameters.items() if key != "augmentations"}
        flat.update(hyperparameters.get("augmentations", {}))
        return cls(task=task, **flat, **runtime)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> TrainingConfig:
        known = {field.name for field in dataclasses.fields(cls)}
        return cls(**{key: value for key, value in values.items() if key in known})

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @property
    def augments(self) -> bool:
        return self.horizontal_flip or self.color_jitter > 0 or self.random_resized_crop < 1.0
