"""Batch prediction over a folder: ``predictions.json`` and, for detectors, COCO results (``coco_results.json``).

COCO ids: images are numbered 1, 2, ... in sorted file-name order and categories are label index + 1, both listed
in predictions.json so the results can be joined with any ground truth.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelyard.inference.predictor import DetectedObject, Prediction, Predictor

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


@dataclass(frozen=True)
class BatchPredictionResult:
    count: int
    predictions_path: Path
    coco_results_path: Path | None


def predict_folder(predictor: Predictor, folder: Path, output_dir: Path) -> BatchPredictionResult:
    images = sorted(path for path in folder.iterdir() if path.suffix.lower() in IMAGE_SUFFIXES)
    predictions = [predictor.predict(path) for path in images]
    output_dir.mkdir(parents=True, exist_ok=True)
    metadata = predictor.metadata
    content = {
        "task": metadata.task,
        "labels": [{"index": label.index, "id": label.id, "name": label.name} for label in metadata.labels],
        "categories": [{"id": label.index + 1, "name": label.name} for label in metadata.labels],
        "confidence_threshold": predictor.confidence_threshold,
        "images": [
            {"id": number, "file_name": path.name, **prediction.to_dict()}
            for number, (path, prediction) in enumerate(zip(images, predictions, strict=True), start=1)
        ],
    }
    predictions_path = output_dir / "predictions.json"
    predictions_path.write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
    coco_path = None
    if metadata.classification_outputs is None:
        coco_path = output_dir / "coco_results.json"
        coco_path.write_text(json.dumps(coco_results(predictions)) + "\n", encoding="utf-8")
    return BatchPredictionResult(len(images), predictions_path, coco_path)


def coco_results(predictions: list[Prediction]) -> list[dict[str, Any]]:
    """COCO results format: one entry per object, bbox as x, y, width, height; masks as RLE."""
    return [
        _coco_entry(image_id, prediction, detected)
        for image_id, prediction in enumerate(predictions, start=1)
        for detected in prediction.objects
    ]


def _coco_entry(image_id: int, prediction: Prediction, detected: DetectedObject) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "image_id": image_id,
        "category_id": detected.label.index + 1,
        "bbox": [round(value, 3) for value in detected.box],
        "score": round(detected.label.score, 6),
    }
    if prediction.task == "instance_segmentation":
        entry["segmentation"] = _rle(detected.polygons, prediction.width, prediction.height)
    return entry


def _rle(polygons: list[list[float]], width: int, height: int) -> dict[str, Any]:
    # COCO evaluation of results needs RLE: it computes areas from it, which polygons do not support.
    from pycocotools import mask as mask_utils

    if not polygons:
        import numpy as np

        encoded = mask_utils.encode(np.asfortranarray(np.zeros((height, width), dtype=np.uint8)))
    else:
        encoded = mask_utils.merge(mask_utils.frPyObjects(polygons, height, width))
    return {"size": encoded["size"], "counts": encoded["counts"].decode("ascii")}
