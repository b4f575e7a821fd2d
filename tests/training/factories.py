"""Factories for the ML-core tests: shipped manifests shrunk to tiny inputs and generated annotated images.

A plain module (not conftest) so that test modules in other folders (export, evaluation) can import it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from modelyard.architectures.manifest import SHIPPED_MANIFESTS_DIR, ArchitectureManifest, load_manifests
from modelyard.training.config import TrainingConfig
from modelyard.training.data import TrainingSample

SHIPPED = load_manifests(SHIPPED_MANIFESTS_DIR, None)
TINY_SIZE = 64
# Smaller proposal and detection budgets keep the R-CNNs to about a second per step at 64 px on two cores.
_TINY_RCNN_KWARGS = {
    "rpn_pre_nms_top_n_train": 200,
    "rpn_post_nms_top_n_train": 100,
    "rpn_pre_nms_top_n_test": 100,
    "rpn_post_nms_top_n_test": 50,
    "box_batch_size_per_image": 64,
    "box_detections_per_img": 20,
}


def tiny_manifest(manifest: ArchitectureManifest, size: int = TINY_SIZE) -> ArchitectureManifest:
    """The manifest with a small input (SSDlite keeps its fixed 320 internally) and light R-CNN settings."""
    builder = manifest.builder
    if "rcnn" in builder.function:
        builder = builder.model_copy(update={"kwargs": {**builder.kwargs, **_TINY_RCNN_KWARGS}})
    return manifest.model_copy(update={"input": manifest.input.model_copy(update={"size": [size, size]}),
                                       "builder": builder})


def tiny_config(task: str, **changes: object) -> TrainingConfig:
    values: dict = dict(task=task, learning_rate=1e-3, batch_size=2, epochs=1, warmup_epochs=0,
                        horizontal_flip=False, color_jitter=0.0, random_resized_crop=1.0, device="cpu", num_workers=0)
    values.update(changes)
    return TrainingConfig(**values)


def write_image(path: Path, width: int, height: int, brightness: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    pixels = np.clip(rng.normal(brightness, 20, (height, width, 3)), 0, 255).astype(np.uint8)
    Image.fromarray(pixels).save(path)
    return path


def make_samples(folder: Path, task: str, count: int, width: int = 48, height: int = 40) -> list[TrainingSample]:
    """``count`` images whose label (0 dark, 1 bright) is learnable; one object per image for detection tasks."""
    folder.mkdir(parents=True, exist_ok=True)
    samples = []
    for index in range(count):
        label = index % 2
        path = write_image(folder / f"{task}-{index}.png", width, height, 60 + 120 * label, seed=index)
        box = (4.0 + index, 5.0, 30.0 + index, 33.0)
        if task == "multiclass_classification":
            samples.append(TrainingSample(path, width, height, (label,)))
        elif task == "multilabel_classification":
            samples.append(TrainingSample(path, width, height, (0, 1) if label else (1,)))
        elif task == "detection":
            samples.append(TrainingSample(path, width, height, (label,), boxes=(box,)))
        else:
            x_min, y_min, x_max, y_max = box
            polygon = (x_min, y_min, x_max, y_min, x_max, y_max, x_min, y_max)
            samples.append(TrainingSample(path, width, height, (label,), polygons=(polygon,)))
    return samples
