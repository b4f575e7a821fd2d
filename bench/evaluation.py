"""COCO evaluation: modelyard's metrics module (faster-coco-eval) vs pycocotools on the same predictions.

Generates ground truth and noisy predictions for N images (boxes, 5 labels), evaluates both ways in one
run, checks that every figure is equal, and prints the time of each.

    .venv/bin/python bench/evaluation.py [--images 5000]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import time

import numpy as np

from modelyard.scoring.metrics import ObjectAnnotations, ObjectPredictions, coco_datasets, coco_metrics

LABELS = ["person", "car", "dog", "cat", "bicycle"]


def generate(images: int, seed: int = 0) -> tuple[list[ObjectAnnotations], list[ObjectPredictions]]:
    rng = np.random.default_rng(seed)
    truths, predictions = [], []
    for image_id in range(1, images + 1):
        count = int(rng.integers(1, 8))
        xy = rng.uniform(0, 500, size=(count, 2))
        wh = rng.uniform(8, 140, size=(count, 2))
        boxes = np.hstack([xy, xy + wh])
        labels = rng.integers(0, len(LABELS), size=count)
        truths.append(ObjectAnnotations(image_id, 640, 640, boxes, labels))
        # Predictions: jittered copies of most objects, some label mistakes, and false positives.
        keep = rng.random(count) < 0.85
        jitter = rng.normal(0, 6, size=(count, 4))
        found = (boxes + jitter)[keep]
        found_labels = np.where(rng.random(count) < 0.9, labels, rng.integers(0, len(LABELS), size=count))[keep]
        extra = int(rng.integers(0, 4))
        extra_xy = rng.uniform(0, 500, size=(extra, 2))
        extra_boxes = np.hstack([extra_xy, extra_xy + rng.uniform(8, 140, size=(extra, 2))])
        all_boxes = np.vstack([found, extra_boxes])
        all_labels = np.concatenate([found_labels, rng.integers(0, len(LABELS), size=extra)])
        scores = rng.uniform(0.05, 1.0, size=len(all_boxes))
        predictions.append(ObjectPredictions(image_id, all_boxes, all_labels, scores))
    return truths, predictions


def pycocotools_stats(truths: list[ObjectAnnotations], predictions: list[ObjectPredictions]) -> list[float]:
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    gt_dataset, results = coco_datasets(truths, predictions, LABELS, "bbox")
    with contextlib.redirect_stdout(io.StringIO()):
        ground = COCO()
        ground.dataset = gt_dataset
        ground.createIndex()
        evaluator = COCOeval(ground, ground.loadRes(results), "bbox")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return [float(value) for value in evaluator.stats]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5000)
    args = parser.parse_args()
    truths, predictions = generate(args.images)
    objects = sum(len(t.boxes) for t in truths)
    detections = sum(len(p.boxes) for p in predictions)

    started = time.perf_counter()
    ours = coco_metrics(truths, predictions, LABELS, "bbox")
    ours_seconds = time.perf_counter() - started
    started = time.perf_counter()
    reference = pycocotools_stats(truths, predictions)
    reference_seconds = time.perf_counter() - started

    figures = [("mAP@[.5:.95]", ours.map, reference[0]), ("mAP@.5", ours.map_50, reference[1]),
               ("mAP@.75", ours.map_75, reference[2]), ("mAP small", ours.map_small, reference[3]),
               ("mAP medium", ours.map_medium, reference[4]), ("mAP large", ours.map_large, reference[5]),
               ("mAR@100", ours.mar_100, reference[8])]  # fmt: skip
    print(f"{args.images} images, {objects} objects, {detections} predictions")
    print("| figure | modelyard | pycocotools | difference |")
    print("| --- | ---: | ---: | ---: |")
    worst = 0.0
    for name, mine, theirs in figures:
        worst = max(worst, abs(mine - theirs))
        print(f"| {name} | {mine:.12f} | {theirs:.12f} | {abs(mine - theirs):.1e} |")
    print()
    print("| evaluation | seconds |")
    print("| --- | ---: |")
    print(f"| modelyard (faster-coco-eval) | {ours_seconds:.2f} |")
    print(f"| pycocotools | {reference_seconds:.2f} |")
    print(f"largest difference {worst:.1e}; {'equal to 1e-9' if worst <= 1e-9 else 'NOT EQUAL'}; "
          f"speed-up {reference_seconds / ours_seconds:.1f}x")  # fmt: skip


if __name__ == "__main__":
    main()
