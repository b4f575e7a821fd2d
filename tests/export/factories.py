"""Tiny checkpoints for the export tests: random weights made to behave like trained ones.

Freshly initialised networks are degenerate in ways trained ones are not: batch-norm statistics of 0/1 blow
activations up or kill them, and near-zero heads give every class (and in SSD every anchor) the same score, so
the order of tied boxes (and with it any parity check) is arbitrary. The factories estimate batch-norm statistics
on random images and give heads seeded random weights, which spreads the scores the way training does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import torch
from PIL import Image
from torch import nn

from modelyard.architectures.manifest import ArchitectureManifest
from modelyard.export import ExportedVariant
from modelyard.training.checkpoint import save_checkpoint
from modelyard.training.networks import create_model, get_builder
from modelyard.variant import LabelEntry
from tests.training.factories import SHIPPED, TINY_SIZE, tiny_config, tiny_manifest

LABELS = [LabelEntry(0, "label-cat", "cat"), LabelEntry(1, "label-dog", "hot dog")]
ARCHITECTURE_FOR_TASK = {
    "multiclass_classification": "mobilenet_v3_small",
    "multilabel_classification": "mobilenet_v3_small",
    "detection": "ssdlite320_mobilenet_v3_large",
    "instance_segmentation": "maskrcnn_resnet50_fpn",
}
# Every shipped architecture with its first task: export, parity, INT8 and evaluation do not depend on which of
# a classifier's two tasks it was trained for beyond the final activation, which the classifier tests cover.
REGISTERED_ARCHITECTURES = [(key, manifest.tasks[0]) for key, manifest in SHIPPED.items()]
# The smallest side each network takes through every step: 32 px leaves the classifiers' stride-32 bodies one
# feature and Mask R-CNN's coarsest pyramid level one cell. Exceptions: at 32 px OpenVINO crashes (a segmentation
# fault) while NNCF collects the INT8 calibration statistics of Faster R-CNN, which 64 px avoids; SSDlite resizes
# every input to 320 itself; and the two networks the older tests share stay at the size those tests assert.
SMALLEST_SIZE = {
    "fasterrcnn_mobilenet_v3_large_320_fpn": 64,
    "mobilenet_v3_small": TINY_SIZE,
    "ssdlite320_mobilenet_v3_large": TINY_SIZE,
}
CALIBRATION_IMAGES = 3


def make_checkpoint(folder: Path, task: str, size: int = TINY_SIZE, seed: int = 0,
                    architecture: str | None = None) -> Path:  # fmt: skip
    torch.manual_seed(seed)
    manifest = tiny_manifest(SHIPPED[architecture or ARCHITECTURE_FOR_TASK[task]], size=size)
    model = create_model(manifest, len(LABELS), task, None)
    _spread_head_scores(model, manifest)
    _estimate_batch_norm_statistics(model, manifest.family, size)
    folder.mkdir(parents=True, exist_ok=True)
    return save_checkpoint(folder / "model.pt", model.eval(), manifest, task, LABELS, tiny_config(task))


def _spread_head_scores(model: nn.Module, manifest: ArchitectureManifest) -> None:
    roi_heads = getattr(model, "roi_heads", None)
    if roi_heads is not None:
        # Only the R-CNN class scores: random box-head layers or box regressions would push every proposal to the
        # background or off the image, leaving nothing to compare.
        head: nn.Module = roi_heads.box_predictor.cls_score
        std = 1.0
    else:
        # SSD: its whole head (scores and box regressions); a classifier or RT-DETR: the layer its builder replaces
        # for new labels (fc, classifier.3, head.fc, RT-DETR's decoder class heads, ...).
        ssd_head = getattr(model, "head", None) if manifest.family == "detection" else None
        head = ssd_head or model.get_submodule(get_builder(manifest).head_prefixes[0].rstrip("."))
        std = 0.3
    for parameter in head.parameters():
        nn.init.normal_(parameter, 0.0, std)


def _estimate_batch_norm_statistics(model: nn.Module, family: str, size: int) -> None:
    norms = [module for module in model.modules() if isinstance(module, nn.BatchNorm2d)]
    if not norms:
        return
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # cumulative average over the batches below
    if family == "classification":
        body = model
    elif hasattr(model, "backbone"):
        body = model.get_submodule("backbone")  # torchvision detectors
    else:
        body = model.get_submodule("model")  # RT-DETR: transformers' backbone, hybrid encoder and decoder, no loss
    body.train()
    # SSDlite's transform upsamples every input to 320, so its backbone sees 320 px images.
    side = 320 if hasattr(model, "anchor_generator") else size
    with torch.no_grad():
        for _ in range(3):
            body(torch.randn(4, 3, side, side))
    model.eval()


def write_rgb_image(path: Path, width: int, height: int, seed: int) -> Path:
    """A smooth random image (noise upsampled), closer to a photograph than white noise."""
    generator = np.random.default_rng(seed)
    coarse = generator.integers(0, 256, (max(2, height // 8), max(2, width // 8), 3), dtype=np.uint8)
    Image.fromarray(coarse).resize((width, height), Image.Resampling.BILINEAR).save(path)
    return path


class TinyModels:
    """One tiny checkpoint per (architecture, task) and its variants, each made on first use and kept for the
    session, because an export costs seconds on two cores (a Mask R-CNN's, tens of seconds).

    A checkpoint lives at ``root/<architecture>-<task>/model.pt`` with its variants in folders beside it, so a
    test finds a variant's checkpoint at ``variant.folder.parent / "model.pt"``.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._checkpoints: dict[tuple[str, str], Path] = {}
        self._variants: dict[tuple[str, ...], ExportedVariant] = {}

    def checkpoint(self, architecture: str, task: str) -> Path:
        key = (architecture, task)
        if key not in self._checkpoints:
            size = SMALLEST_SIZE.get(architecture, 32)
            self._checkpoints[key] = make_checkpoint(self.root / f"{architecture}-{task}", task, size,
                                                     architecture=architecture)  # fmt: skip
        return self._checkpoints[key]

    def openvino(self, architecture: str, task: str, precision: Literal["fp16", "fp32"]) -> ExportedVariant:
        from modelyard.export import export_openvino

        key = ("openvino", architecture, task, precision)
        if key not in self._variants:
            checkpoint = self.checkpoint(architecture, task)
            self._variants[key] = export_openvino(checkpoint, checkpoint.parent / f"openvino_{precision}", precision)
        return self._variants[key]

    def onnx(self, architecture: str, task: str) -> ExportedVariant:
        from modelyard.export import export_onnx

        key = ("onnx", architecture, task)
        if key not in self._variants:
            checkpoint = self.checkpoint(architecture, task)
            self._variants[key] = export_onnx(checkpoint, checkpoint.parent / "onnx_fp32")
        return self._variants[key]

    def int8(self, architecture: str, task: str) -> ExportedVariant:
        """Quantized from the FP32 IR, as the variant job does, on a few calibration images of the input size."""
        from modelyard.export import quantize_ir

        key = ("int8", architecture, task)
        if key not in self._variants:
            fp32 = self.openvino(architecture, task, "fp32")
            height, width = fp32.metadata.input_spec.size
            images = [write_rgb_image(fp32.folder.parent / f"calibration-{seed}.png", width, height, seed)
                      for seed in range(CALIBRATION_IMAGES)]  # fmt: skip
            self._variants[key] = quantize_ir(fp32.model_path, images, fp32.folder.parent / "openvino_int8")
        return self._variants[key]
