"""Training samples, the Dataset over decoded images, augmentations, collate functions and loaders.

The Dataset yields uint8 tensors; conversion to float and normalisation happen on the training device in the
task adapter, which moves a quarter of the bytes to the GPU and keeps workers cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageDraw
from torch.utils.data import DataLoader, Dataset

from modelyard.architectures.manifest import InputSpec
from modelyard.training.config import TrainingConfig
from modelyard.training.images import DecodedImages, ImageGeometry, geometry_for

Box = tuple[float, float, float, float]
"""x_min, y_min, x_max, y_max in pixels of the original image."""
Polygon = tuple[float, ...]
"""x0, y0, x1, y1, ... in pixels of the original image."""

CLASSIFICATION_TASKS = ("multiclass_classification", "multilabel_classification")
# Boxes thinner than this (in input pixels) after cropping carry no signal and make R-CNN box losses blow up.
_MIN_BOX_SIDE = 1.0


class SampleError(ValueError):
    """A sample's annotation does not fit its task or its labels."""

    code = "training_sample_invalid"


@dataclass(frozen=True)
class TrainingSample:
    """One annotated image; ``labels`` are indices into the ordered label list.

    Classification: ``labels`` are the image's labels (exactly one for multiclass). Detection: ``labels[i]`` is the
    label of ``boxes[i]``. Instance segmentation: ``labels[i]`` is the label of ``polygons[i]``.
    """

    image_path: Path
    width: int
    height: int
    labels: tuple[int, ...]
    boxes: tuple[Box, ...] = ()
    polygons: tuple[Polygon, ...] = ()

    def check(self, task: str, num_labels: int) -> None:
        if any(not 0 <= label < num_labels for label in self.labels):
            raise SampleError(f"{self.image_path}: label index outside 0..{num_labels - 1}")
        expected = {"detection": len(self.boxes), "instance_segmentation": len(self.polygons)}.get(task)
        if task == "multiclass_classification" and len(self.labels) != 1:
            raise SampleError(f"{self.image_path}: a multiclass sample needs exactly one label, has {len(self.labels)}")
        if expected is not None and expected != len(self.labels):
            raise SampleError(f"{self.image_path}: {len(self.labels)} labels for {expected} {task} annotations")
        if any(len(polygon) < 6 or len(polygon) % 2 for polygon in self.polygons):
            raise SampleError(f"{self.image_path}: a polygon needs at least 3 x,y points")


@dataclass(frozen=True)
class DetectionTarget:
    """Annotations of one image in input pixels, labels counted from 0 (the adapter adds the background)."""

    boxes: torch.Tensor
    labels: torch.Tensor
    masks: torch.Tensor | None = None


ImageAndTarget = tuple[torch.Tensor, torch.Tensor | DetectionTarget]
"""One sample as the dataset hands it to the loader: the image and its label tensor or boxes."""


class TrainingDataset(Dataset[ImageAndTarget]):
    """Samples over images decoded once; augmentations are applied per access when ``config`` asks for them."""

    def __init__(
        self,
        samples: Sequence[TrainingSample],
        task: str,
        num_labels: int,
        spec: InputSpec,
        config: TrainingConfig | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        for sample in samples:
            sample.check(task, num_labels)
        self.samples = list(samples)
        self.task = task
        self.num_labels = num_labels
        self.spec = spec
        self.images = DecodedImages([(s.image_path, s.width, s.height) for s in samples], spec, cache_dir)
        self.augment = _build_augmentations(config, spec) if config is not None and config.augments else None

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> ImageAndTarget:
        sample = self.samples[index]
        # copy: the cached pixels are shared (and may be a read-only memory map); augmentations must not touch them.
        image = torch.from_numpy(np.array(self.images[index], copy=True)).permute(2, 0, 1)
        if self.task in CLASSIFICATION_TASKS:
            if self.augment is not None:
                image = self.augment(image)
            return image, self._classification_target(sample)
        return self._detection_item(sample, image)

    def _classification_target(self, sample: TrainingSample) -> torch.Tensor:
        if self.task == "multiclass_classification":
            return torch.tensor(sample.labels[0], dtype=torch.int64)
        multi_hot = torch.zeros(self.num_labels, dtype=torch.float32)
        multi_hot[list(sample.labels)] = 1.0
        return multi_hot

    def _detection_item(self, sample: TrainingSample, image: torch.Tensor) -> tuple[torch.Tensor, DetectionTarget]:
        from torchvision import tv_tensors

        geometry = geometry_for(sample.width, sample.height, self.spec)
        height, width = image.shape[-2:]
        masks = None
        if self.task == "instance_segmentation":
            masks = tv_tensors.Mask(_rasterize(sample.polygons, geometry, (height, width)))
            boxes = _polygon_extents(sample.polygons, geometry)
        else:
            boxes = torch.tensor([_scale_box(box, geometry) for box in sample.boxes], dtype=torch.float32)
        item: dict[str, Any] = {
            "image": tv_tensors.Image(image),
            "boxes": tv_tensors.BoundingBoxes(boxes.reshape(-1, 4), format="XYXY", canvas_size=(height, width)),
            "labels": torch.tensor(sample.labels, dtype=torch.int64),
        }
        if masks is not None:
            item["masks"] = masks
        if self.augment is not None:
            item = self.augment(item)
        return item["image"].as_subclass(torch.Tensor), _clean_target(item)


def _scale_box(box: Box, geometry: ImageGeometry) -> Box:
    x_min, y_min, x_max, y_max = box
    return (x_min * geometry.scale_x, y_min * geometry.scale_y, x_max * geometry.scale_x, y_max * geometry.scale_y)


def _scaled_points(polygon: Polygon, geometry: ImageGeometry) -> list[tuple[float, float]]:
    return [(polygon[i] * geometry.scale_x, polygon[i + 1] * geometry.scale_y) for i in range(0, len(polygon), 2)]


def _rasterize(polygons: Sequence[Polygon], geometry: ImageGeometry, size: tuple[int, int]) -> torch.Tensor:
    height, width = size
    masks = torch.zeros((len(polygons), height, width), dtype=torch.uint8)
    for index, polygon in enumerate(polygons):
        canvas = Image.new("L", (width, height), 0)
        ImageDraw.Draw(canvas).polygon(_scaled_points(polygon, geometry), fill=1)
        masks[index] = torch.from_numpy(np.array(canvas, dtype=np.uint8))
    return masks


def _polygon_extents(polygons: Sequence[Polygon], geometry: ImageGeometry) -> torch.Tensor:
    extents = []
    for polygon in polygons:
        points = np.asarray(_scaled_points(polygon, geometry), dtype=np.float32)
        extents.append([*points.min(axis=0), *points.max(axis=0)])
    return torch.tensor(extents, dtype=torch.float32).reshape(-1, 4)


def _clean_target(item: dict[str, Any]) -> DetectionTarget:
    """Plain tensors, with boxes recomputed from masks (tight after crops) and degenerate instances dropped."""
    from torchvision.ops import masks_to_boxes

    boxes = item["boxes"].as_subclass(torch.Tensor)
    masks = item["masks"].as_subclass(torch.Tensor) if "masks" in item else None
    keep = (boxes[:, 2] - boxes[:, 0] >= _MIN_BOX_SIDE) & (boxes[:, 3] - boxes[:, 1] >= _MIN_BOX_SIDE)
    if masks is not None:
        keep &= masks.flatten(1).bool().any(dim=1)
        masks = masks[keep]
        # masks_to_boxes gives the last covered pixel; +1 makes x_max/y_max exclusive like the polygon extents.
        tight = masks_to_boxes(masks) + torch.tensor([0.0, 0.0, 1.0, 1.0]) if len(masks) else boxes[keep]
        return DetectionTarget(boxes=tight.reshape(-1, 4), labels=item["labels"][keep], masks=masks)
    return DetectionTarget(boxes=boxes[keep], labels=item["labels"][keep])


def _build_augmentations(config: TrainingConfig, spec: InputSpec) -> Callable[[Any], Any]:
    from torchvision.transforms import v2

    steps: list[Callable[[Any], Any]] = []
    if config.random_resized_crop < 1.0:
        steps.append(v2.RandomResizedCrop(tuple(spec.size), scale=(config.random_resized_crop, 1.0), antialias=True))
    if config.horizontal_flip:
        steps.append(v2.RandomHorizontalFlip(p=0.5))
    if config.color_jitter > 0:
        strength = config.color_jitter
        steps.append(v2.ColorJitter(brightness=strength, contrast=strength, saturation=strength))
    composed: Callable[[Any], Any] = v2.Compose(steps)
    return composed


def collate_classification(batch: Sequence[tuple[torch.Tensor, torch.Tensor]]) -> tuple[torch.Tensor, torch.Tensor]:
    images, targets = zip(*batch, strict=True)
    return torch.stack(images), torch.stack(targets)


def collate_detection(
    batch: Sequence[tuple[torch.Tensor, DetectionTarget]],
) -> tuple[torch.Tensor, list[DetectionTarget]]:
    images, targets = zip(*batch, strict=True)
    return torch.stack(images), list(targets)


def choose_num_workers(config: TrainingConfig) -> int:
    """Workers only pay off when there is per-sample work (augmentations) and spare cores beside training."""
    if config.num_workers is not None:
        return config.num_workers
    from modelyard.cpu_threads import usable_cpus

    cores = usable_cpus()
    return min(4, cores // 2) if config.augments and cores >= 4 else 0


def make_loader(
    dataset: TrainingDataset,
    config: TrainingConfig,
    shuffle: bool,
    seed: int,
    sample_weights: Sequence[float] | None = None,
) -> DataLoader[ImageAndTarget]:
    """Batches of the dataset; with `sample_weights`, an epoch draws as many images, each with that weight
    (with replacement), instead of a shuffle."""
    from torch.utils.data import WeightedRandomSampler

    workers = choose_num_workers(config) if shuffle else 0
    generator = torch.Generator().manual_seed(seed)
    classification = dataset.task in CLASSIFICATION_TASKS
    sampler = None
    if sample_weights is not None:
        sampler = WeightedRandomSampler(list(sample_weights), len(dataset), replacement=True, generator=generator)
    return DataLoader(
        dataset,
        batch_size=config.batch_size,
        shuffle=shuffle and sampler is None,
        sampler=sampler,
        # A lone last image would break batch-norm statistics in training (one value per channel); drop only that.
        drop_last=shuffle and len(dataset) % config.batch_size == 1 and len(dataset) > 1,
        num_workers=workers,
        persistent_workers=workers > 0,
        collate_fn=collate_classification if classification else collate_detection,
        generator=generator,
        pin_memory=torch.cuda.is_available(),
    )
