"""Task metrics shared by validation during training and by the evaluation of exported variants.

Classification figures come from scikit-learn; detection and instance segmentation use the COCO protocol through
faster-coco-eval, whose numbers match pycocotools. Inputs and outputs are plain dataclasses and arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

IouType = Literal["bbox", "segm"]


@dataclass(frozen=True)
class LabelFigures:
    """Per-label figures; ``average_precision`` is set for multilabel classification only."""

    label: str
    precision: float
    recall: float
    f1: float
    support: int
    average_precision: float | None = None


@dataclass(frozen=True)
class MulticlassMetrics:
    accuracy: float
    precision: float
    recall: float
    f1: float
    per_label: list[LabelFigures]
    confusion_matrix: list[list[int]]
    """Rows are true labels, columns predicted labels, both in label-list order."""


@dataclass(frozen=True)
class MultilabelMetrics:
    subset_accuracy: float
    hamming_loss: float
    precision: float
    recall: float
    f1: float
    mean_average_precision: float
    """Mean over the labels that have at least one positive image (AP is undefined for the others)."""
    per_label: list[LabelFigures]
    threshold: float


@dataclass(frozen=True)
class ObjectAnnotations:
    """Ground truth of one image: ``boxes`` (n, 4) as x_min, y_min, x_max, y_max; ``masks`` (n, H, W) booleans."""

    image_id: int
    width: int
    height: int
    boxes: np.ndarray
    labels: np.ndarray
    masks: np.ndarray | None = None


@dataclass(frozen=True)
class ObjectPredictions:
    """Predictions for one image, in the same coordinates as its ground truth."""

    image_id: int
    boxes: np.ndarray
    labels: np.ndarray
    scores: np.ndarray
    masks: np.ndarray | None = None


@dataclass(frozen=True)
class CocoMetrics:
    """COCO figures; like pycocotools, -1 means undefined (no ground truth in that category or area range)."""

    map: float
    map_50: float
    map_75: float
    map_small: float
    map_medium: float
    map_large: float
    mar_100: float
    per_label_ap: dict[str, float] = field(default_factory=dict)


def multiclass_metrics(
    true_labels: Sequence[int], predicted_labels: Sequence[int], label_names: Sequence[str]
) -> MulticlassMetrics:
    """Accuracy and macro precision/recall/F1 over all labels, with per-label figures and the confusion matrix."""
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

    indices = list(range(len(label_names)))
    precision, recall, f1, support = precision_recall_fscore_support(
        true_labels, predicted_labels, labels=indices, zero_division=0
    )
    matrix = confusion_matrix(true_labels, predicted_labels, labels=indices)
    return MulticlassMetrics(
        accuracy=float(accuracy_score(true_labels, predicted_labels)),
        precision=float(np.mean(precision)),
        recall=float(np.mean(recall)),
        f1=float(np.mean(f1)),
        per_label=_label_figures(label_names, precision, recall, f1, support),
        confusion_matrix=matrix.astype(int).tolist(),
    )


def multilabel_metrics(
    true_labels: np.ndarray, scores: np.ndarray, label_names: Sequence[str], threshold: float = 0.5
) -> MultilabelMetrics:
    """Figures for (n_images, n_labels) 0/1 truth and scores in [0, 1]; a label is predicted at ``threshold``."""
    from sklearn.metrics import accuracy_score, hamming_loss, precision_recall_fscore_support

    truth = np.asarray(true_labels, dtype=int)
    predicted = (np.asarray(scores) >= threshold).astype(int)
    precision, recall, f1, support = precision_recall_fscore_support(truth, predicted, zero_division=0)
    precisions = _average_precisions(truth, np.asarray(scores, dtype=float))
    defined = [value for value in precisions if value is not None]
    return MultilabelMetrics(
        subset_accuracy=float(accuracy_score(truth, predicted)),
        hamming_loss=float(hamming_loss(truth, predicted)),
        precision=float(np.mean(precision)),
        recall=float(np.mean(recall)),
        f1=float(np.mean(f1)),
        mean_average_precision=float(np.mean(defined)) if defined else 0.0,
        per_label=_label_figures(label_names, precision, recall, f1, support, precisions),
        threshold=threshold,
    )


def _average_precisions(truth: np.ndarray, scores: np.ndarray) -> list[float | None]:
    from sklearn.metrics import average_precision_score

    return [
        float(average_precision_score(truth[:, index], scores[:, index])) if truth[:, index].any() else None
        for index in range(truth.shape[1])
    ]


def _label_figures(
    names: Sequence[str],
    precision: np.ndarray,
    recall: np.ndarray,
    f1: np.ndarray,
    support: np.ndarray,
    average_precisions: Sequence[float | None] | None = None,
) -> list[LabelFigures]:
    return [
        LabelFigures(
            label=name,
            precision=float(precision[index]),
            recall=float(recall[index]),
            f1=float(f1[index]),
            support=int(support[index]),
            average_precision=average_precisions[index] if average_precisions is not None else None,
        )
        for index, name in enumerate(names)
    ]


def coco_datasets(
    ground_truth: Sequence[ObjectAnnotations],
    predictions: Sequence[ObjectPredictions],
    label_names: Sequence[str],
    iou_type: IouType,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The in-memory COCO ground-truth dataset and result list; label index i becomes category id i + 1."""
    images = [{"id": item.image_id, "width": item.width, "height": item.height} for item in ground_truth]
    categories = [{"id": index + 1, "name": name} for index, name in enumerate(label_names)]
    annotations: list[dict[str, Any]] = []
    for item in ground_truth:
        for record in _object_records(item.boxes, item.labels, item.masks, iou_type):
            record.update(id=len(annotations) + 1, image_id=item.image_id, iscrowd=0)
            annotations.append(record)
    results = []
    for prediction in predictions:
        records = _object_records(prediction.boxes, prediction.labels, prediction.masks, iou_type)
        for record, score in zip(records, prediction.scores, strict=True):
            record.update(image_id=prediction.image_id, score=float(score))
            results.append(record)
    return {"images": images, "categories": categories, "annotations": annotations}, results


def _object_records(
    boxes: np.ndarray, labels: np.ndarray, masks: np.ndarray | None, iou_type: IouType
) -> list[dict[str, Any]]:
    from faster_coco_eval.core import mask as mask_utils

    if iou_type == "segm" and masks is None:
        raise ValueError("segm metrics need masks for every ground truth and prediction")
    records = []
    for index, (box, label) in enumerate(zip(np.asarray(boxes, dtype=float).reshape(-1, 4), labels, strict=True)):
        x_min, y_min, x_max, y_max = (float(value) for value in box)
        record: dict[str, Any] = {"category_id": int(label) + 1, "bbox": [x_min, y_min, x_max - x_min, y_max - y_min]}
        record["area"] = (x_max - x_min) * (y_max - y_min)
        if iou_type == "segm":
            assert masks is not None
            rle = mask_utils.encode(np.asfortranarray(masks[index].astype(np.uint8)))
            record["segmentation"] = rle
            record["area"] = float(mask_utils.area(rle))
        records.append(record)
    return records


def coco_metrics(
    ground_truth: Sequence[ObjectAnnotations],
    predictions: Sequence[ObjectPredictions],
    label_names: Sequence[str],
    iou_type: IouType = "bbox",
) -> CocoMetrics:
    """COCO mAP@[.5:.95], @.5, @.75 (and by area, mAR@100, per-label AP) for boxes or masks."""
    from faster_coco_eval import COCO, COCOeval_faster

    gt_dataset, results = coco_datasets(ground_truth, predictions, label_names, iou_type)
    if not results:
        # COCO cannot load an empty result list; with nothing predicted every defined figure is 0.
        return _no_predictions(gt_dataset, label_names)
    silent = lambda *args, **kwargs: None  # noqa: E731
    ground = COCO(gt_dataset, print_function=silent)
    evaluator = COCOeval_faster(ground, ground.loadRes(results), iou_type, print_function=silent)
    evaluator.run()
    stats = [float(value) for value in evaluator.stats[:9]]
    return CocoMetrics(
        map=stats[0],
        map_50=stats[1],
        map_75=stats[2],
        map_small=stats[3],
        map_medium=stats[4],
        map_large=stats[5],
        mar_100=stats[8],
        per_label_ap=_per_label_ap(evaluator.eval["precision"], label_names),
    )


def _per_label_ap(precision: np.ndarray, label_names: Sequence[str]) -> dict[str, float]:
    # precision is indexed [iou threshold, recall point, category, area range, max detections]; area "all" is 0
    # and maxDets=100 is last, the same slice pycocotools averages for its headline mAP.
    figures = {}
    for index, name in enumerate(label_names):
        values = precision[:, :, index, 0, -1]
        values = values[values > -1]
        figures[name] = float(values.mean()) if values.size else -1.0
    return figures


def _no_predictions(gt_dataset: dict[str, Any], label_names: Sequence[str]) -> CocoMetrics:
    annotations = gt_dataset["annotations"]
    present = {annotation["category_id"] - 1 for annotation in annotations}

    def figure(low: float, high: float) -> float:
        # COCO's area ranges: a figure is defined (0 here) only if some ground truth falls in its range.
        return 0.0 if any(low <= annotation["area"] <= high for annotation in annotations) else -1.0

    overall = figure(0, float("inf"))
    per_label = {name: (0.0 if index in present else -1.0) for index, name in enumerate(label_names)}
    return CocoMetrics(
        map=overall,
        map_50=overall,
        map_75=overall,
        map_small=figure(0, 32**2),
        map_medium=figure(32**2, 96**2),
        map_large=figure(96**2, float("inf")),
        mar_100=overall,
        per_label_ap=per_label,
    )
