from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest
from sklearn import metrics as sk

from modelyard.scoring.metrics import (
    ObjectAnnotations,
    ObjectPredictions,
    coco_datasets,
    coco_metrics,
    multiclass_metrics,
    multilabel_metrics,
)

NAMES = ["cat", "dog", "bird"]


def test_multiclass_figures_equal_scikit_learn() -> None:
    truth = [0, 0, 1, 1, 2, 2, 2, 0]
    predicted = [0, 1, 1, 1, 2, 0, 2, 0]
    result = multiclass_metrics(truth, predicted, NAMES)
    assert result.accuracy == 0.75
    assert result.precision == pytest.approx(sk.precision_score(truth, predicted, average="macro"), abs=1e-12)
    assert result.recall == pytest.approx(sk.recall_score(truth, predicted, average="macro"), abs=1e-12)
    assert result.f1 == pytest.approx(sk.f1_score(truth, predicted, average="macro"), abs=1e-12)
    assert result.confusion_matrix == [[2, 1, 0], [0, 2, 0], [1, 0, 2]]
    assert [(f.label, f.precision, f.recall, f.support) for f in result.per_label] == [
        ("cat", 2 / 3, 2 / 3, 3), ("dog", 2 / 3, 1.0, 2), ("bird", 1.0, 2 / 3, 3)
    ]


def test_multiclass_label_never_seen_counts_as_zero() -> None:
    result = multiclass_metrics([0, 1], [0, 1], NAMES)
    assert result.per_label[2].support == 0 and result.per_label[2].f1 == 0.0
    assert result.f1 == pytest.approx(2 / 3)
    assert result.confusion_matrix[2] == [0, 0, 0]


def test_multilabel_figures_equal_scikit_learn() -> None:
    truth = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 0, 1], [1, 0, 0]])
    scores = np.array([[0.9, 0.2, 0.6], [0.3, 0.8, 0.1], [0.7, 0.4, 0.2], [0.1, 0.3, 0.45], [0.55, 0.6, 0.3]])
    predicted = (scores >= 0.5).astype(int)
    result = multilabel_metrics(truth, scores, NAMES)
    assert result.subset_accuracy == sk.accuracy_score(truth, predicted) == 0.4
    assert result.hamming_loss == pytest.approx(sk.hamming_loss(truth, predicted), abs=1e-12)
    assert result.f1 == pytest.approx(sk.f1_score(truth, predicted, average="macro"), abs=1e-12)
    assert result.precision == pytest.approx(sk.precision_score(truth, predicted, average="macro"), abs=1e-12)
    assert result.mean_average_precision == pytest.approx(sk.average_precision_score(truth, scores), abs=1e-12)
    assert [f.average_precision for f in result.per_label] == pytest.approx(
        [sk.average_precision_score(truth[:, i], scores[:, i]) for i in range(3)]
    )


def test_multilabel_map_skips_labels_without_positives() -> None:
    truth = np.array([[1, 0], [0, 0]])
    result = multilabel_metrics(truth, np.array([[0.9, 0.1], [0.2, 0.7]]), ["a", "b"])
    assert result.mean_average_precision == 1.0
    assert result.per_label[1].average_precision is None


def _scene(seed: int, with_masks: bool) -> tuple[list[ObjectAnnotations], list[ObjectPredictions]]:
    """Five 160x120 images with up to four objects each; predictions jitter, miss and invent objects."""
    rng = np.random.default_rng(seed)
    truths, predictions = [], []
    for image_id in range(1, 6):
        count = int(rng.integers(1, 5))
        corners = rng.uniform([0, 0], [100, 70], size=(count, 2))
        sizes = rng.uniform([8, 8], [60, 50], size=(count, 2))  # small and medium objects
        boxes = np.round(np.hstack([corners, corners + sizes]))
        labels = rng.integers(0, 3, count)
        predicted = boxes + rng.normal(0, 1.5, boxes.shape)
        predicted_labels = np.where(rng.random(count) < 0.8, labels, (labels + 1) % 3)
        keep = rng.random(count) < 0.85
        extra = np.array([[10.0, 10.0, 30.0, 40.0]])
        predicted = np.vstack([predicted[keep], extra])
        predicted_labels = np.concatenate([predicted_labels[keep], [image_id % 3]])
        scores = rng.uniform(0.05, 1.0, len(predicted))
        truths.append(ObjectAnnotations(image_id, 160, 120, boxes, labels, _masks(boxes) if with_masks else None))
        predictions.append(ObjectPredictions(image_id, predicted, predicted_labels, scores,
                                             _masks(predicted) if with_masks else None))
    return truths, predictions


def _masks(boxes: np.ndarray) -> np.ndarray:
    masks = np.zeros((len(boxes), 120, 160), dtype=bool)
    for index, (x_min, y_min, x_max, y_max) in enumerate(np.clip(np.round(boxes), 0, 160).astype(int)):
        masks[index, y_min:y_max, x_min + 1:x_max] = True  # not a full rectangle, so masks differ from boxes
    return masks


def _pycocotools_stats(truths: list, predictions: list, iou_type: str) -> np.ndarray:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    dataset, results = coco_datasets(truths, predictions, NAMES, iou_type)  # type: ignore[arg-type]
    for record in results:  # pycocotools wants RLE counts as bytes, as its own encoder returns them
        if "segmentation" in record:
            record["segmentation"] = _pycocotools_rle(record["segmentation"])
    for record in dataset["annotations"]:
        if "segmentation" in record:
            record["segmentation"] = _pycocotools_rle(record["segmentation"])
    with contextlib.redirect_stdout(io.StringIO()):
        ground = COCO()
        ground.dataset = dataset
        ground.createIndex()
        evaluator = COCOeval(ground, ground.loadRes(results), iou_type)
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return evaluator.stats


def _pycocotools_rle(rle: dict) -> dict:
    counts = rle["counts"]
    return {"size": list(rle["size"]), "counts": counts.encode() if isinstance(counts, str) else counts}


@pytest.mark.parametrize("iou_type", ["bbox", "segm"])
def test_coco_map_equals_pycocotools(iou_type: str) -> None:
    truths, predictions = _scene(seed=3, with_masks=iou_type == "segm")
    result = coco_metrics(truths, predictions, NAMES, iou_type)  # type: ignore[arg-type]
    reference = _pycocotools_stats(truths, predictions, iou_type)
    ours = [result.map, result.map_50, result.map_75, result.map_small, result.map_medium, result.map_large,
            result.mar_100]
    assert ours == pytest.approx([*reference[:6], reference[8]], abs=1e-9)
    assert 0.2 < result.map < 0.9  # the scene is neither trivial nor hopeless


def test_perfect_predictions_score_one_and_none_score_zero() -> None:
    truths, _ = _scene(seed=5, with_masks=False)
    perfect = [ObjectPredictions(t.image_id, t.boxes, t.labels, np.ones(len(t.labels))) for t in truths]
    empty = [ObjectPredictions(t.image_id, np.zeros((0, 4)), np.zeros(0, int), np.zeros(0)) for t in truths]
    best = coco_metrics(truths, perfect, NAMES)
    assert (best.map, best.map_50, best.map_75) == (1.0, 1.0, 1.0)
    assert set(best.per_label_ap.values()) == {1.0}
    nothing = coco_metrics(truths, empty, NAMES)
    assert (nothing.map, nothing.map_50, nothing.map_large) == (0.0, 0.0, -1.0)
