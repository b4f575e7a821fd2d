"""Predictor over a variant: preprocessing as in training, one runtime, task-shaped predictions in original pixels.

``Predictor.open`` takes a variant folder (with variant.json), its ``model.xml`` / ``model.onnx``, or a ``model.pt``.
The image is resized on the host exactly as in training; an OpenVINO variant is compiled to take those uint8 pixels
and scales them inside the graph (see ``variant.backends``). A predictor is safe to share between threads: the
OpenVINO backend lends each call its own infer request.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from modelyard.variant.backends import (
    DEFAULT_INFERENCE_PRECISION,
    InferenceBackend,
    OpenVINOBackend,
    PixelScaling,
    TorchBackend,
)
from modelyard.variant.metadata import DEFAULT_CONFIDENCE_THRESHOLD, VariantMetadata, read_variant_metadata
from modelyard.variant.preprocess import ImageInput, ResizedImage, resize_image, scaled_pixels

MASK_THRESHOLD = 0.5


@dataclass(frozen=True)
class LabelScore:
    index: int
    id: str
    name: str
    score: float


@dataclass(frozen=True)
class DetectedObject:
    label: LabelScore
    box: tuple[float, float, float, float]
    """x, y, width, height in pixels of the original image."""
    polygons: list[list[float]] = field(default_factory=list)
    """Instance segmentation: outlines x0, y0, x1, y1, ... in original pixels (several when the mask is split)."""


@dataclass(frozen=True)
class Prediction:
    task: str
    width: int
    height: int
    labels: list[LabelScore] = field(default_factory=list)
    """Classification: the top label (multiclass) or every label at or above the threshold (multilabel)."""
    scores: list[float] = field(default_factory=list)
    """Classification: the probability of every label, in label order."""
    objects: list[DetectedObject] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Predictor:
    def __init__(self, backend: InferenceBackend, metadata: VariantMetadata, confidence_threshold: float | None = None):
        self.backend = backend
        self.metadata = metadata
        self.spec = metadata.input_spec
        self.confidence_threshold = (
            metadata.confidence_threshold if confidence_threshold is None else confidence_threshold
        )

    @classmethod
    def open(
        cls,
        variant: Path,
        confidence_threshold: float | None = None,
        device: str = "CPU",
        inference_precision: str | None = DEFAULT_INFERENCE_PRECISION,
        concurrency: int | None = 2,
        config: dict[str, Any] | None = None,
    ) -> Predictor:
        """A predictor for a variant folder, its graph file (.xml, .onnx) or a ``model.pt`` checkpoint.

        ``concurrency`` and ``config`` (OpenVINO properties) are as ``OpenVINOBackend`` takes them."""
        if variant.suffix == ".pt":
            return cls._open_checkpoint(variant, confidence_threshold)
        folder = variant if variant.is_dir() else variant.parent
        metadata = read_variant_metadata(folder)
        model_path = variant if variant.is_file() else folder / metadata.model_file
        scaling = PixelScaling(metadata.input_spec, metadata.input_scaling)
        backend = OpenVINOBackend(model_path, device, inference_precision, concurrency, config, scaling)
        return cls(backend, metadata, confidence_threshold)

    @classmethod
    def _open_checkpoint(cls, checkpoint: Path, confidence_threshold: float | None) -> Predictor:
        from modelyard.export.variant import metadata_for
        from modelyard.export.wrappers import exportable_module
        from modelyard.training.checkpoint import load_model

        loaded = load_model(checkpoint)
        exportable = exportable_module(loaded)
        metadata = metadata_for(loaded, "pytorch", "fp32", checkpoint.name, exportable, DEFAULT_CONFIDENCE_THRESHOLD)
        return cls(TorchBackend(exportable.module), metadata, confidence_threshold)

    def predict(self, image: ImageInput) -> Prediction:
        resized = resize_image(image, self.spec)
        if self.backend.takes_pixels:
            batch = resized.pixels[np.newaxis]
        else:
            batch = scaled_pixels(resized.pixels, self.spec, self.metadata.input_scaling)[np.newaxis]
        outputs = self.backend.infer(batch)
        return self.decode([output[0] for output in outputs], resized)

    def decode(self, outputs: list[np.ndarray], prepared: ResizedImage) -> Prediction:
        """One image's outputs (batch dimension removed) as a ``Prediction``."""
        if self.metadata.classification_outputs is not None:
            return self._classification(outputs[0], prepared)
        return self._objects(outputs, prepared)

    def _label(self, index: int, score: float) -> LabelScore:
        label = self.metadata.labels[index]
        return LabelScore(label.index, label.id, label.name, float(score))

    def _classification(self, scores: np.ndarray, prepared: ResizedImage) -> Prediction:
        if self.metadata.classification_outputs == "logits":
            scores = 1.0 / (1.0 + np.exp(-scores.astype(np.float64)))
        if self.metadata.task == "multilabel_classification":
            chosen = [index for index in np.argsort(-scores) if scores[index] >= self.confidence_threshold]
        else:
            chosen = [int(np.argmax(scores))]
        labels = [self._label(int(index), scores[index]) for index in chosen]
        return Prediction(self.metadata.task, prepared.width, prepared.height, labels, [float(s) for s in scores])

    def _objects(self, outputs: list[np.ndarray], prepared: ResizedImage) -> Prediction:
        boxes, labels = outputs[0], outputs[1].astype(np.int64)
        keep = (boxes[:, 4] >= self.confidence_threshold) & (labels >= 0) & (labels < len(self.metadata.labels))
        original = prepared.to_original(boxes[keep])
        masks = outputs[2][keep] if len(outputs) > 2 else None
        objects = []
        for position, (box, label, score) in enumerate(zip(original, labels[keep], boxes[keep, 4], strict=True)):
            x_min, y_min, x_max, y_max = (float(value) for value in box)
            polygons = []
            if masks is not None:
                polygons = mask_polygons(masks[position], box, prepared.width, prepared.height)
            objects.append(
                DetectedObject(self._label(int(label), score), (x_min, y_min, x_max - x_min, y_max - y_min), polygons)
            )
        return Prediction(self.metadata.task, prepared.width, prepared.height, objects=objects)


def mask_polygons(box_mask: np.ndarray, box: np.ndarray, width: int, height: int) -> list[list[float]]:
    """Outlines of a Mask R-CNN box mask (probabilities over the box) pasted at ``box`` in a width x height image."""
    import cv2

    # As torchvision's paste: a one-pixel zero border, and the box widened so the border falls outside it.
    padded = np.pad(box_mask.astype(np.float32), 1)
    scale = padded.shape[0] / box_mask.shape[0]
    center_x, center_y = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    half_width, half_height = (box[2] - box[0]) * scale / 2, (box[3] - box[1]) * scale / 2
    left, top = int(np.floor(center_x - half_width)), int(np.floor(center_y - half_height))
    right, bottom = int(np.ceil(center_x + half_width)), int(np.ceil(center_y + half_height))
    resized = cv2.resize(padded, (max(1, right - left), max(1, bottom - top)), interpolation=cv2.INTER_LINEAR)
    binary = (resized >= MASK_THRESHOLD).astype(np.uint8)
    # Crop to the image so outlines never leave it, remembering the offset of the crop.
    crop_left, crop_top = max(0, -left), max(0, -top)
    binary = binary[crop_top : crop_top + height - max(0, top), crop_left : crop_left + width - max(0, left)]
    contours, _ = cv2.findContours(np.ascontiguousarray(binary), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    offset = np.array([max(0, left), max(0, top)], dtype=np.float32)
    return [
        (contour.reshape(-1, 2).astype(np.float32) + offset).reshape(-1).tolist()
        for contour in contours
        if len(contour) >= 3
    ]
