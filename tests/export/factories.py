"""Tiny checkpoints for the export tests: random weights made to behave like trained ones.

Freshly initialised networks are degenerate in ways trained ones are not: batch-norm statistics of 0/1 blow
activations up or kill them, and near-zero heads give every class (and in SSD every anchor) the same score, so the order of tied
boxes (and with it any parity check) is arbitrary. The factories estimate batch-norm statistics on random images
and give heads seeded random weights, which spreads the scores the way training does.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "ml"))

from ml_factories import SHIPPED, tiny_config, tiny_manifest  # noqa: E402

from modelyard.training.checkpoint import LabelEntry, save_checkpoint  # noqa: E402
from modelyard.training.models import create_model  # noqa: E402

LABELS = [LabelEntry(0, "label-cat", "cat"), LabelEntry(1, "label-dog", "hot dog")]
ARCHITECTURE_FOR_TASK = {
    "multiclass_classification": "mobilenet_v3_small",
    "multilabel_classification": "mobilenet_v3_small",
    "detection": "ssdlite320_mobilenet_v3_large",
    "instance_segmentation": "maskrcnn_resnet50_fpn",
}


def make_checkpoint(folder: Path, task: str, size: int = 64, seed: int = 0) -> Path:
    torch.manual_seed(seed)
    manifest = tiny_manifest(SHIPPED[ARCHITECTURE_FOR_TASK[task]], size=size)
    model = create_model(manifest, len(LABELS), task, None)
    _spread_head_scores(model)
    _estimate_batch_norm_statistics(model, manifest.family, size)
    folder.mkdir(parents=True, exist_ok=True)
    return save_checkpoint(folder / "model.pt", model.eval(), manifest, task, LABELS, tiny_config(task))


def _spread_head_scores(model: nn.Module) -> None:
    head = getattr(model, "head", None) or getattr(model, "roi_heads", None) or model.classifier[-1]
    for parameter in head.parameters():
        nn.init.normal_(parameter, 0.0, 0.3)


def _estimate_batch_norm_statistics(model: nn.Module, family: str, size: int) -> None:
    norms = [module for module in model.modules() if isinstance(module, nn.BatchNorm2d)]
    if not norms:
        return
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # cumulative average over the batches below
    body = model if family == "classification" else model.backbone
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
