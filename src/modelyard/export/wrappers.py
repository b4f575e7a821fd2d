"""Modules that give every task one plain-tensor signature for export and for inference.

torchvision detectors take a list of images and return a list of dicts; runtimes need tensors in and tensors out.
The wrappers take a batch tensor of the manifest's input size and return:

- classification: ``scores`` (B, labels); softmax probabilities for multiclass, raw logits for multilabel (see
  ``ClassifierOutputs`` for why);
- detection: ``boxes`` (1, K, 5) as x_min, y_min, x_max, y_max, score in input pixels, and ``labels`` (1, K)
  counted from 0 without the background; this is the "boxes-labels" layout model_api's ``SSD`` wrapper parses;
- instance segmentation: the same plus ``masks`` (1, K, 28, 28), each the predicted label's mask probabilities
  inside its box (the layout of model_api's ``MaskRCNN`` wrapper, which pastes them into the image itself).

Detectors are traced with batch 1: torchvision's post-processing loops over the images in Python and tracing
unrolls that loop, so a traced detector only ever accepts the batch size it was traced with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import torch
from torch import nn

from modelyard.training.checkpoint import LoadedModel
from modelyard.variant.preprocess import InputScaling

ClassificationOutputs = Literal["probabilities", "logits"]


class ClassifierOutputs(nn.Module):
    """Multiclass: softmax in the graph. Multilabel: logits, because model_api's multilabel decoding applies the
    sigmoid itself and would otherwise apply it twice; consumers apply ``sigmoid`` (recorded in the metadata)."""

    def __init__(self, model: nn.Module, multilabel: bool) -> None:
        super().__init__()
        self.model = model
        self.multilabel = multilabel

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        logits = self.model(images)
        return logits if self.multilabel else torch.softmax(logits, dim=1)


class DetectorOutputs(nn.Module):
    """A torchvision detector (SSD, Faster R-CNN) over a batch of one [0, 1] image."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        detections = self.model(list(images))[0]
        boxes = torch.cat([detections["boxes"], detections["scores"].unsqueeze(1)], dim=1)
        return boxes.unsqueeze(0), (detections["labels"] - 1).unsqueeze(0)  # torchvision's label 0 is background


class MaskRCNNOutputs(nn.Module):
    """Mask R-CNN without the final paste of the 28x28 masks into the image: the runtime side pastes them, which
    keeps the graph free of a per-box loop and its output small."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        from torchvision.models.detection.transform import resize_boxes

        model: Any = self.model  # torchvision ships no types for Mask R-CNN's parts
        image_list, _ = model.transform(list(images))
        features = model.backbone(image_list.tensors)
        proposals, _ = model.rpn(image_list, features)
        detections = model.roi_heads(features, proposals, image_list.image_sizes)[0][0]
        boxes = resize_boxes(detections["boxes"], image_list.image_sizes[0], images.shape[-2:])
        boxes = torch.cat([boxes, detections["scores"].unsqueeze(1)], dim=1)
        masks = detections["masks"][:, 0]
        return boxes.unsqueeze(0), (detections["labels"] - 1).unsqueeze(0), masks.unsqueeze(0)


@dataclass(frozen=True)
class ExportableModule:
    module: nn.Module
    example_input: torch.Tensor
    """A batch of the shape the runtime graph takes (batch 1 for detectors)."""
    output_names: tuple[str, ...]
    dynamic_batch: bool
    input_scaling: InputScaling
    classification_outputs: ClassificationOutputs | None


def exportable_module(loaded: LoadedModel) -> ExportableModule:
    """The wrapper for ``loaded``'s task, in eval mode, with an example input of the manifest's size."""
    height, width = loaded.input_spec.size
    generator = torch.Generator().manual_seed(0)
    example = torch.rand(1, 3, height, width, generator=generator)
    family = loaded.manifest.family
    if family == "classification":
        multilabel = loaded.task == "multilabel_classification"
        module: nn.Module = ClassifierOutputs(loaded.model, multilabel)
        outputs: ClassificationOutputs = "logits" if multilabel else "probabilities"
        return ExportableModule(module.eval(), example, ("scores",), True, "normalize", outputs)
    if family == "detection":
        return ExportableModule(DetectorOutputs(loaded.model).eval(), example, ("boxes", "labels"), False, "unit", None)
    module = MaskRCNNOutputs(loaded.model).eval()
    return ExportableModule(module, example, ("boxes", "labels", "masks"), False, "unit", None)
