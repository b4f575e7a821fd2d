"""The parts of training that differ per task: input preparation, loss, and the validation metric.

The loop in ``loop.py`` is shared by every task and only talks to a ``TaskAdapter``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import torch
from torch import nn

from modelyard.architectures.manifest import InputSpec
from modelyard.scoring.metrics import (
    IouType,
    ObjectAnnotations,
    ObjectPredictions,
    coco_metrics,
    multiclass_metrics,
    multilabel_metrics,
)
from modelyard.training.data import CLASSIFICATION_TASKS, DetectionTarget

# Instance masks come out of Mask R-CNN as per-pixel probabilities; COCO and torchvision both cut at 0.5.
MASK_THRESHOLD = 0.5


class TaskAdapter(Protocol):
    @property
    def metric_name(self) -> str:
        """Validation metric that decides the best epoch; higher is better."""

    def training_loss(self, model: nn.Module, batch: Any, device: torch.device) -> torch.Tensor: ...

    def validation_metric(self, model: nn.Module, batches: Iterable[Any], device: torch.device) -> float: ...


def adapter_for(
    task: str, spec: InputSpec, label_names: Sequence[str], label_weights: Sequence[float] | None = None
) -> TaskAdapter:
    """The task's adapter; `label_weights` (classification only) weigh each label's loss."""
    if task in CLASSIFICATION_TASKS:
        weights = torch.tensor(list(label_weights), dtype=torch.float32) if label_weights is not None else None
        return ClassificationAdapter(task, spec, list(label_names), weights)
    if label_weights is not None:
        raise ValueError(f"class balancing by loss is for classification; use sampling for {task}")
    if task in ("detection", "instance_segmentation"):
        return ObjectAdapter(task, list(label_names))
    raise ValueError(f"unknown task {task!r}")


def normalized_images(images: torch.Tensor, spec: InputSpec, device: torch.device) -> torch.Tensor:
    """uint8 (B, 3, H, W) to the float input a classifier expects, converted on ``device``."""
    mean = torch.tensor(spec.mean, device=device).view(1, 3, 1, 1)
    std = torch.tensor(spec.std, device=device).view(1, 3, 1, 1)
    return (images.to(device, non_blocking=True).float().div_(255) - mean) / std


@dataclass
class ClassificationAdapter:
    task: str
    spec: InputSpec
    label_names: list[str]
    label_weights: torch.Tensor | None = None

    @property
    def metric_name(self) -> str:
        return "accuracy" if self.task == "multiclass_classification" else "mean_average_precision"

    def training_loss(self, model: nn.Module, batch: Any, device: torch.device) -> torch.Tensor:
        images, targets = batch
        logits = model(normalized_images(images, self.spec, device))
        targets = targets.to(device, non_blocking=True)
        weights = self.label_weights.to(device) if self.label_weights is not None else None
        if self.task == "multiclass_classification":
            return nn.functional.cross_entropy(logits, targets, weight=weights)
        # Multilabel: each label is an independent yes/no, hence sigmoid + binary cross-entropy; a rare
        # label's positives weigh more.
        return nn.functional.binary_cross_entropy_with_logits(logits, targets, pos_weight=weights)

    @torch.no_grad()
    def validation_metric(self, model: nn.Module, batches: Iterable[Any], device: torch.device) -> float:
        truths, outputs = [], []
        for images, targets in batches:
            outputs.append(model(normalized_images(images, self.spec, device)).float().cpu())
            truths.append(targets)
        logits, truth = torch.cat(outputs), torch.cat(truths)
        if self.task == "multiclass_classification":
            metrics = multiclass_metrics(truth.tolist(), logits.argmax(dim=1).tolist(), self.label_names)
            return metrics.accuracy
        return multilabel_metrics(truth.numpy(), torch.sigmoid(logits).numpy(), self.label_names).mean_average_precision


@dataclass
class ObjectAdapter:
    """Detection and instance segmentation: torchvision detectors take lists and return losses in train mode."""

    task: str
    label_names: list[str]
    details: dict[str, float] = field(default_factory=dict)
    """The other COCO figures of the last validation (map_50, map_75), recorded beside the metric."""

    @property
    def metric_name(self) -> str:
        return "mask_map" if self.task == "instance_segmentation" else "map"

    def training_loss(self, model: nn.Module, batch: Any, device: torch.device) -> torch.Tensor:
        images, targets = batch
        losses = model(_detector_inputs(images, device), [_detector_target(target, device) for target in targets])
        total: torch.Tensor = sum(losses.values())
        return total

    @torch.no_grad()
    def validation_metric(self, model: nn.Module, batches: Iterable[Any], device: torch.device) -> float:
        truths: list[ObjectAnnotations] = []
        predictions: list[ObjectPredictions] = []
        for images, targets in batches:
            outputs = model(_detector_inputs(images, device))
            height, width = images.shape[-2:]
            for target, output in zip(targets, outputs, strict=True):
                image_id = len(truths) + 1
                truths.append(annotations_from_target(image_id, width, height, target))
                predictions.append(predictions_from_output(image_id, output))
        iou_type: IouType = "segm" if self.task == "instance_segmentation" else "bbox"
        metrics = coco_metrics(truths, predictions, self.label_names, iou_type)
        self.details = {"map_50": metrics.map_50, "map_75": metrics.map_75}
        return metrics.map


def _detector_inputs(images: torch.Tensor, device: torch.device) -> list[torch.Tensor]:
    # Detectors normalise internally (their transform holds the manifest's mean/std), so only scale to [0, 1].
    return list(images.to(device, non_blocking=True).float().div_(255))


def _detector_target(target: DetectionTarget, device: torch.device) -> dict[str, torch.Tensor]:
    converted = {"boxes": target.boxes.to(device), "labels": (target.labels + 1).to(device)}  # 0 is background
    if target.masks is not None:
        converted["masks"] = target.masks.to(device)
    return converted


def annotations_from_target(image_id: int, width: int, height: int, target: DetectionTarget) -> ObjectAnnotations:
    masks = target.masks.numpy().astype(bool) if target.masks is not None else None
    return ObjectAnnotations(image_id, width, height, target.boxes.numpy(), target.labels.numpy(), masks)


def predictions_from_output(image_id: int, output: dict[str, torch.Tensor]) -> ObjectPredictions:
    """A torchvision detector's output dict as metric input, labels shifted back to start at 0."""
    masks = None
    if "masks" in output:
        masks = (output["masks"][:, 0] >= MASK_THRESHOLD).cpu().numpy()
    return ObjectPredictions(
        image_id=image_id,
        boxes=output["boxes"].float().cpu().numpy(),
        labels=(output["labels"] - 1).cpu().numpy(),
        scores=output["scores"].float().cpu().numpy(),
        masks=masks,
    )


__all__ = [
    "ClassificationAdapter",
    "ObjectAdapter",
    "TaskAdapter",
    "adapter_for",
    "annotations_from_target",
    "normalized_images",
    "predictions_from_output",
]
