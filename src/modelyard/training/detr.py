"""RT-DETR (transformers) behind the torchvision detector interface the rest of modelyard speaks.

torchvision detectors take a list of [0, 1] images; in training mode they also take targets (``boxes`` as
x_min, y_min, x_max, y_max in pixels, ``labels`` counted from 1 because 0 is the background) and return a dict of
losses; in evaluation mode they return one dict per image with ``boxes``, ``scores`` and ``labels``. ``RTDetr``
gives transformers' ``RTDetrForObjectDetection`` that interface, so training, validation, export (the
``DetectorOutputs`` wrapper), parity and evaluation treat it like SSDlite.

The class subclasses transformers' model instead of wrapping it, so its weight names are the published
checkpoints' own (``model.backbone...``, ``model.decoder.class_embed...``) and a hub ``model.safetensors`` loads
as it is.

DETR-style detectors predict a fixed set of queries and need no non-maximum suppression: the evaluation output is
the ``DETECTIONS`` highest (query, label) scores of the sigmoid class scores, the decoding RT-DETR's own
post-processor uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from transformers import RTDetrConfig, RTDetrForObjectDetection, RTDetrResNetConfig

from modelyard.architectures.manifest import ArchitectureManifest

DETECTIONS = 100
"""Detections per image, COCO's evaluation limit (maxDets 100)."""

# The published RT-DETR configurations (Lv et al., 2023; the transformers conversion of their checkpoints):
# a ResNet-vd backbone whose last three stages feed the hybrid encoder, 3 decoder layers for R18 and R34.
_CONFIGS: dict[str, dict[str, Any]] = {
    "rt_detr_r18vd": {
        "backbone": {"layer_type": "basic", "depths": [2, 2, 2, 2], "hidden_sizes": [64, 128, 256, 512]},
        "encoder_in_channels": [128, 256, 512],
        "hidden_expansion": 0.5,
        "decoder_layers": 3,
    },
    "rt_detr_r34vd": {
        "backbone": {"layer_type": "basic", "depths": [3, 4, 6, 3], "hidden_sizes": [64, 128, 256, 512]},
        "encoder_in_channels": [128, 256, 512],
        "hidden_expansion": 0.5,
        "decoder_layers": 4,
    },
}


def rt_detr_config(function: str, num_labels: int, overrides: dict[str, Any]) -> RTDetrConfig:
    """The transformers configuration of ``function`` for ``num_labels`` labels; ``overrides`` are the manifest's
    builder kwargs (any ``RTDetrConfig`` field, for example ``num_queries``)."""
    values = dict(_CONFIGS[function])
    backbone = RTDetrResNetConfig(**values.pop("backbone"))
    backbone.out_features = ["stage2", "stage3", "stage4"]
    config = RTDetrConfig(backbone_config=backbone, **values, **overrides)
    config.num_labels = num_labels
    return config


class RTDetr(RTDetrForObjectDetection):  # type: ignore[no-untyped-call]  # transformers' __init_subclass__ is untyped
    """RT-DETR taking and returning what torchvision detectors do (see the module's docstring)."""

    pixel_mean: torch.Tensor
    pixel_std: torch.Tensor

    def __init__(self, config: RTDetrConfig, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__(config)
        # transformers picks the loss by class name, which a subclass's name no longer matches.
        self.loss_type = "RTDetrForObjectDetection"
        # Not persistent: the normalisation belongs to the manifest, not to the weights file.
        self.register_buffer("pixel_mean", torch.tensor(list(mean)).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("pixel_std", torch.tensor(list(std)).view(1, 3, 1, 1), persistent=False)

    def forward(  # torchvision's detector signature, not transformers'
        self, images: Sequence[torch.Tensor], targets: Sequence[dict[str, torch.Tensor]] | None = None
    ) -> Any:
        batch = torch.stack(list(images))
        height, width = batch.shape[-2:]
        scale = torch.tensor([width, height, width, height], dtype=batch.dtype, device=batch.device)
        pixel_values = (batch - self.pixel_mean) / self.pixel_std
        if self.training:
            if targets is None:
                raise ValueError("RT-DETR in training mode needs targets")
            labels = [
                {"class_labels": target["labels"] - 1, "boxes": _corners_to_centers(target["boxes"]) / scale}
                for target in targets
            ]
            # transformers weighs and sums the matching, box, GIoU and denoising losses into one figure.
            return {"loss": super().forward(pixel_values=pixel_values, labels=labels).loss}
        output = super().forward(pixel_values=pixel_values)
        return _top_detections(output.logits, output.pred_boxes, scale)


def _corners_to_centers(boxes: torch.Tensor) -> torch.Tensor:
    x_min, y_min, x_max, y_max = boxes.unbind(-1)
    return torch.stack([(x_min + x_max) / 2, (y_min + y_max) / 2, x_max - x_min, y_max - y_min], dim=-1)


def _top_detections(logits: torch.Tensor, centers: torch.Tensor, scale: torch.Tensor) -> list[dict[str, torch.Tensor]]:
    queries, labels = logits.shape[1:]
    scores, index = logits.sigmoid().flatten(1).topk(min(DETECTIONS, queries * labels), dim=1)
    query = torch.div(index, labels, rounding_mode="floor")
    label = torch.remainder(index, labels)
    chosen = centers.gather(1, query.unsqueeze(-1).expand(-1, -1, 4))
    x, y, w, h = chosen.unbind(-1)
    corners = torch.stack([x - w / 2, y - h / 2, x + w / 2, y + h / 2], dim=-1).clamp(0.0, 1.0) * scale
    return [
        {"boxes": corners[image], "scores": scores[image], "labels": label[image] + 1}  # torchvision: 0 is background
        for image in range(logits.shape[0])
    ]


def build_rt_detr(function: str, manifest: ArchitectureManifest, num_labels: int) -> RTDetr:
    config = rt_detr_config(function, num_labels, dict(manifest.builder.kwargs))
    # The encoder picks its queries among the feature-map cells of strides 8, 16 and 32; a small input has fewer
    # cells than the 300 queries (64 px: 84), so there it takes them all.
    height, width = manifest.input.size
    cells = sum(-(-height // stride) * -(-width // stride) for stride in (8, 16, 32))
    config.num_queries = min(config.num_queries, cells)
    return RTDetr(config, manifest.input.mean, manifest.input.std)
