"""Evaluation of exported variants of every registered architecture, FP32 and INT8, with the task's metrics.

The ground truth is what the FP32 variant itself predicts, so its evaluation must score perfectly wherever the
annotation format can say exactly what it predicted: a wrong label order, box convention or coordinate scale in
the runner would show up as a score below one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from modelyard.datasets.parquet import Box, Polygon, RevisionItem
from modelyard.inference import Prediction, Predictor
from modelyard.scoring.runner import EVALUATION_SCORE_THRESHOLD, EvaluationResult, evaluate_variant
from tests.export.factories import LABELS, REGISTERED_ARCHITECTURES, TinyModels, write_rgb_image

LABEL_IDS = [label.id for label in LABELS]
# Each task's main figure, as the revision and evaluation records name it.
MAIN_METRIC = {
    "multiclass_classification": "accuracy",
    "multilabel_classification": "mean_average_precision",
    "detection": "map",
    "instance_segmentation": "mask_map",
}
LABEL_NAMES = [label.name for label in LABELS]
# Wider than tall and not the input size, so the runner has to map predictions back to the original pixels.
WIDTH, HEIGHT = 48, 40
# Random detectors find hundreds of objects; a few dozen per image, of the highest scores, make the annotations.
ANNOTATION_SCORE, MAX_OBJECTS = 0.3, 30


def _item(image: Path, index: int, prediction: Prediction, task: str, above: float) -> RevisionItem:
    """The image annotated with what the FP32 variant predicts: its top label, or its objects scoring above
    ``above``."""
    label_ids, label_names, boxes, polygons = [], [], [], []
    if task.endswith("classification"):
        best = max(range(len(prediction.scores)), key=prediction.scores.__getitem__)
        label_ids, label_names = [LABEL_IDS[best]], [LABEL_NAMES[best]]
    for obj in (obj for obj in prediction.objects if obj.label.score > above):
        label_id, label_name = LABEL_IDS[obj.label.index], obj.label.name
        boxes.append(Box(*obj.box, label_id, label_name))
        # An annotation is one outline; a predicted mask of several parts keeps its largest.
        if obj.polygons:
            outline = max(obj.polygons, key=len)
            polygons.append(Polygon(list(zip(outline[::2], outline[1::2], strict=True)), label_id, label_name))
    return RevisionItem(f"item-{index}", image, "0" * 64, image.stat().st_size, WIDTH, HEIGHT, "test", True,
                        label_ids, label_names, boxes, polygons)  # fmt: skip


def _annotation_threshold(predictions: list[Prediction]) -> float:
    """A score no image has more than MAX_OBJECTS objects above, so every annotated object outranks, in every
    image, each one left out (COCO ranks detections across images and keeps 100 per image)."""
    cut = [sorted((obj.label.score for obj in prediction.objects), reverse=True)[MAX_OBJECTS:MAX_OBJECTS + 1]
           for prediction in predictions]  # fmt: skip
    return max([ANNOTATION_SCORE] + [scores[0] for scores in cut if scores])


def _items_annotated_by(variant: Path, folder: Path, task: str) -> list[RevisionItem]:
    predictor = Predictor.open(variant, confidence_threshold=EVALUATION_SCORE_THRESHOLD)
    folder.mkdir(parents=True, exist_ok=True)
    images = [write_rgb_image(folder / f"image-{index}.png", WIDTH, HEIGHT, seed=20 + index) for index in range(3)]
    predictions = [predictor.predict(image) for image in images]
    above = _annotation_threshold(predictions)
    return [_item(image, index, prediction, task, above)
            for index, (image, prediction) in enumerate(zip(images, predictions, strict=True))]  # fmt: skip


def _evaluate(variant: Path, items: list[RevisionItem], task: str) -> EvaluationResult:
    result = evaluate_variant(variant, items, task, LABEL_IDS, LABEL_NAMES)
    assert result.metric_name == MAIN_METRIC[task]
    assert result.metrics[result.metric_name] == result.metric_value
    assert [prediction["item_id"] for prediction in result.predictions] == [item.item_id for item in items]
    return result


@pytest.mark.parametrize(("architecture", "task"), REGISTERED_ARCHITECTURES)
def test_fp32_and_int8_variants_of_every_architecture_are_evaluated(architecture: str, task: str,
                                                                    tiny_models: TinyModels,
                                                                    tmp_path: Path) -> None:  # fmt: skip
    fp32, int8 = tiny_models.openvino(architecture, task, "fp32"), tiny_models.int8(architecture, task)
    items = _items_annotated_by(fp32.folder, tmp_path, task)
    fp32_result = _evaluate(fp32.folder, items, task)
    int8_result = _evaluate(int8.folder, items, task)
    assert 0.0 <= int8_result.metric_value <= 1.0
    if task == "multiclass_classification":
        assert fp32_result.metric_value == 1.0
        for result in (fp32_result, int8_result):
            assert sum(map(sum, result.confusion_matrix or [])) == len(items)
    elif task == "detection":
        assert sum(len(item.boxes) for item in items) > 0
        assert fp32_result.metric_value == pytest.approx(1.0)
        assert set(fp32_result.per_label["ap"]) <= set(LABEL_NAMES)
    else:
        assert task == "instance_segmentation"
        # A random mask head paints speckles: a mask of several parts is annotated by its largest, and empty masks
        # not at all, so the figure is well below one. The PyTorch checkpoint predicts the same masks and so gets
        # the same figure, up to the pixels that box coordinates differing by float noise (1e-3 px) move when the
        # 28x28 masks are pasted into a 48x40 image.
        assert sum(len(item.polygons) for item in items) > 0
        checkpoint_result = _evaluate(fp32.folder.parent / "model.pt", items, task)
        assert 0.0 < fp32_result.metric_value <= 1.0
        assert fp32_result.metric_value == pytest.approx(checkpoint_result.metric_value, abs=0.02)
