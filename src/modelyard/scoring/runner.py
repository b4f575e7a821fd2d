"""Evaluate one variant on annotated images: run it, then score it with the task's standard metrics.

Pure core: paths and dataclasses in, an EvaluationResult out (no database, no HTTP).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from modelyard.datasets.parquet import RevisionItem

# COCO mAP integrates over every score, so detectors are evaluated without a confidence cut.
EVALUATION_SCORE_THRESHOLD = 0.001


@dataclass
class EvaluationResult:
    metric_name: str
    metric_value: float
    metrics: dict[str, float]
    per_label: dict[str, Any]
    confusion_matrix: list[list[int]] | None
    predictions: list[dict[str, Any]] = field(repr=False)
    seconds: float = 0.0


def evaluate_variant(
    model_path: Path, items: Sequence[RevisionItem], task: str, label_ids: Sequence[str], label_names: Sequence[str]
) -> EvaluationResult:
    """Predict every item with the variant at `model_path` and compute the task's metrics.

    `label_ids` / `label_names` are in the model's output order."""
    from modelyard.inference import Predictor

    if not items:
        raise ValueError("there are no images to evaluate on: the chosen subset of the dataset revision is empty")
    started = time.perf_counter()
    threshold = EVALUATION_SCORE_THRESHOLD if task in ("detection", "instance_segmentation") else None
    predictor = Predictor.open(model_path, confidence_threshold=threshold)
    predictions = [predictor.predict(item.image_path) for item in items]
    index = {label_id: position for position, label_id in enumerate(label_ids)}
    scorer = {
        "multiclass_classification": _multiclass,
        "multilabel_classification": _multilabel,
        "detection": _objects,
        "instance_segmentation": _objects,
    }[task]
    result = scorer(items, predictions, index, list(label_names), task)
    result.predictions = [
        {"item_id": item.item_id, **prediction.to_dict()} for item, prediction in zip(items, predictions, strict=True)
    ]
    result.seconds = time.perf_counter() - started
    return result


def _multiclass(items: Sequence[RevisionItem], predictions: list[Any], index: dict[str, int], names: list[str],
                task: str) -> EvaluationResult:  # fmt: skip
    from modelyard.scoring.metrics import multiclass_metrics

    truth = [index[item.label_ids[0]] for item in items]
    predicted = [int(np.argmax(prediction.scores)) for prediction in predictions]
    metrics = multiclass_metrics(truth, predicted, names)
    figures = {"accuracy": metrics.accuracy, "precision": metrics.precision, "recall": metrics.recall, "f1": metrics.f1}
    return EvaluationResult("accuracy", metrics.accuracy, figures, {"labels": _plain(metrics.per_label)},
                            [list(map(int, row)) for row in metrics.confusion_matrix], [])  # fmt: skip


def _multilabel(items: Sequence[RevisionItem], predictions: list[Any], index: dict[str, int], names: list[str],
                task: str) -> EvaluationResult:  # fmt: skip
    from modelyard.scoring.metrics import multilabel_metrics

    truth = np.zeros((len(items), len(names)), dtype=np.int64)
    for row, item in enumerate(items):
        for label_id in item.label_ids:
            truth[row, index[label_id]] = 1
    scores = np.array([prediction.scores for prediction in predictions], dtype=np.float64)
    metrics = multilabel_metrics(truth, scores, names)
    figures = {"subset_accuracy": metrics.subset_accuracy, "hamming_loss": metrics.hamming_loss,
               "precision": metrics.precision, "recall": metrics.recall, "f1": metrics.f1,
               "mean_average_precision": metrics.mean_average_precision}  # fmt: skip
    return EvaluationResult("mean_average_precision", metrics.mean_average_precision, figures,
                            {"labels": _plain(metrics.per_label)}, None, [])  # fmt: skip


def _objects(items: Sequence[RevisionItem], predictions: list[Any], index: dict[str, int], names: list[str],
             task: str) -> EvaluationResult:  # fmt: skip
    from modelyard.scoring.metrics import ObjectAnnotations, ObjectPredictions, coco_metrics

    segmentation = task == "instance_segmentation"
    truths, found = [], []
    for image_id, (item, prediction) in enumerate(zip(items, predictions, strict=True), start=1):
        size = (item.height, item.width)
        if segmentation:
            gt_boxes = [_polygon_box(p.points) for p in item.polygons]
            gt_labels = [index[p.label_id] for p in item.polygons]
            gt_masks = np.array([_mask([c for point in p.points for c in point], size) for p in item.polygons],
                                dtype=bool).reshape(-1, *size)  # fmt: skip
        else:
            gt_boxes = [(b.x, b.y, b.x + b.width, b.y + b.height) for b in item.boxes]
            gt_labels = [index[b.label_id] for b in item.boxes]
            gt_masks = None
        truths.append(ObjectAnnotations(image_id, item.width, item.height,
                                        np.array(gt_boxes, dtype=np.float64).reshape(-1, 4),
                                        np.array(gt_labels, dtype=np.int64), gt_masks))  # fmt: skip
        objects = prediction.objects
        boxes = np.array([(o.box[0], o.box[1], o.box[0] + o.box[2], o.box[1] + o.box[3]) for o in objects],
                         dtype=np.float64).reshape(-1, 4)  # fmt: skip
        masks = None
        if segmentation:
            masks = np.array([_union([_mask(outline, size) for outline in o.polygons], size) for o in objects],
                             dtype=bool).reshape(-1, *size)  # fmt: skip
        found.append(ObjectPredictions(image_id, boxes, np.array([o.label.index for o in objects], dtype=np.int64),
                                       np.array([o.label.score for o in objects], dtype=np.float64),
                                       masks))  # fmt: skip
    metrics = coco_metrics(truths, found, names, "segm" if segmentation else "bbox")
    figures = {"map": metrics.map, "map_50": metrics.map_50, "map_75": metrics.map_75, "map_small": metrics.map_small,
               "map_medium": metrics.map_medium, "map_large": metrics.map_large,
               "mar_100": metrics.mar_100}  # fmt: skip
    name = "mask_map" if segmentation else "map"
    # The main figure is always readable under its own name: for masks, `map` is the mask mAP as well.
    figures[name] = metrics.map
    return EvaluationResult(name, metrics.map, figures, {"ap": dict(metrics.per_label_ap)}, None, [])


def _polygon_box(points: Sequence[tuple[float, float]]) -> tuple[float, float, float, float]:
    xs, ys = [x for x, _ in points], [y for _, y in points]
    return min(xs), min(ys), max(xs), max(ys)


def _mask(outline: Sequence[float], size: tuple[int, int]) -> np.ndarray:
    from PIL import Image, ImageDraw

    canvas = Image.new("1", (size[1], size[0]), 0)
    if len(outline) >= 6:
        ImageDraw.Draw(canvas).polygon(list(outline), fill=1)
    return np.asarray(canvas, dtype=bool)


def _union(masks: list[np.ndarray], size: tuple[int, int]) -> np.ndarray:
    return np.logical_or.reduce(masks) if masks else np.zeros(size, dtype=bool)


def _plain(value: Any) -> Any:
    """Metric objects (dataclasses, numpy numbers) as JSON-ready values."""
    import dataclasses

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, np.generic):
        return value.item()
    return value
