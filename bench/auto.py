"""Acceptance run of `train --auto`: a dataset imported as a new user would, trained with no option but the
budget, then (with `--defaults`) the architecture's defaults on the same data, for comparison.

    PYTHONPATH=src .venv/bin/python bench/auto.py digits [--budget 600] [--goal balanced] [--defaults]
    PYTHONPATH=src .venv/bin/python bench/auto.py shapes [--images 300] [--budget 780] [--defaults]
    PYTHONPATH=src .venv/bin/python bench/auto.py shapes --compare ssdlite320_mobilenet_v3_large rt_detr_r18vd

digits: scikit-learn's 1,797 digits written as an ImageNet folder (one folder per label, 32 px PNG files) and
imported; shapes: generated scenes of squares, circles and triangles written as a COCO folder with a train and
a val subset only, imported (the import moves 10 % of train to testing). Prints the dataset's analysis, every
choice auto-configuration made with its reason, the training time against the budget, and each variant's
testing figure; with `--defaults`, the same for a training with the manifest's defaults (mobilenet_v3_small or
ssdlite320_mobilenet_v3_large, from the same start as the auto run). With `--compare A B ...`, each named
architecture is trained with `--auto` on the same data and budget instead (the architecture given, everything else
chosen), and a table puts their testing figures and their OpenVINO IR latency and throughput side by side.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from shapes_detection import SHAPES, draw_scene  # bench/shapes_detection.py: this script's folder is on the path

from modelyard import Client
from modelyard.config import Settings

DEFAULT_ARCHITECTURE = {"digits": "mobilenet_v3_small", "shapes": "ssdlite320_mobilenet_v3_large"}


def write_digits_folder(folder: Path, images: int | None = None, size: int = 32) -> Path:
    """ImageNet layout: <folder>/<label>/<file>.png; the first `images` digits, or all 1,797."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    pairs = list(zip(digits.images, digits.target, strict=True))[:images]
    for index, (image, target) in enumerate(pairs):
        pixels = (image / 16.0 * 255).astype(np.uint8)
        label_folder = folder / str(int(target))
        label_folder.mkdir(parents=True, exist_ok=True)
        resized = Image.fromarray(pixels, mode="L").resize((size, size), Image.Resampling.BILINEAR)
        resized.convert("RGB").save(label_folder / f"digit-{index:04d}.png")
    return folder


def write_shapes_coco(folder: Path, images: int, size: int = 160, validation_share: float = 0.2) -> Path:
    """COCO layout with train and val only: images/<subset>/<file>, annotations/instances_<subset>.json."""
    rng = random.Random(11)
    categories = list(SHAPES)
    validation = max(1, round(images * validation_share))
    subsets = {"train": images - validation, "val": validation}
    annotation_id = 1
    for subset, count in subsets.items():
        (folder / "images" / subset).mkdir(parents=True, exist_ok=True)
        document: dict[str, Any] = {
            "images": [],
            "annotations": [],
            "categories": [{"id": i + 1, "name": name, "supercategory": ""} for i, name in enumerate(categories)],
        }
        for image_id in range(1, count + 1):
            scene, boxes = draw_scene(rng, size)
            file_name = f"{subset}-{image_id:04d}.png"
            scene.save(folder / "images" / subset / file_name)
            document["images"].append({"id": image_id, "file_name": file_name, "width": size, "height": size})
            for box in boxes:
                bbox = [box["x"], box["y"], box["width"], box["height"]]
                document["annotations"].append({
                    "id": annotation_id, "image_id": image_id, "category_id": categories.index(box["label"]) + 1,
                    "bbox": bbox, "area": box["width"] * box["height"], "iscrowd": 0, "segmentation": []})  # fmt: skip
                annotation_id += 1
        (folder / "annotations").mkdir(parents=True, exist_ok=True)
        (folder / "annotations" / f"instances_{subset}.json").write_text(json.dumps(document))
    return folder


def run_training(client: Client, project: str, label: str, **train: Any) -> dict[str, Any]:
    started = time.monotonic()
    job = client.models.train(project, **train)
    done = client.jobs.wait(job.id, timeout=4 * 3600)
    wall = time.monotonic() - started
    if done.status != "succeeded":
        raise SystemExit(f"{label}: training {done.status}: {done.error}")
    assert done.result is not None  # a succeeded job carries its result
    revision = client.models.get(done.result["revision_id"])
    log = client.jobs.logs(job.id)
    found = re.search(r"images/s, ([0-9.]+) s of training", log)
    evaluations = list(client.models.evaluations(revision.id))
    return {"label": label, "revision": revision, "log": log, "wall": wall, "evaluations": evaluations,
            "training_seconds": float(found.group(1)) if found else float("nan")}  # fmt: skip


def report(outcome: dict[str, Any], budget: float | None) -> None:
    revision = outcome["revision"]
    print(f"\n## {outcome['label']}: {revision.architecture_id}, base {revision.base}, "
          f"{revision.epochs_trained} epochs at {revision.configuration.get('input_size')} px")  # fmt: skip
    chosen = revision.auto_configuration
    if chosen:
        values = {**_flatten(chosen["hyperparameters"]), "architecture": chosen["architecture"], "base": chosen["base"]}
        print(f"predicted {chosen['predicted_seconds']:.0f} s on {chosen['machine']}")
        for name, reason in chosen["reasons"].items():
            print(f"- {name} = {values.get(name)!r}: {reason}")
    limit = f" of a {budget:.0f} s budget" if budget else ""
    print(f"training {outcome['training_seconds']:.1f} s{limit}; whole job (variants and evaluations included) "
          f"{outcome['wall']:.1f} s; best validation {revision.metric_name} {revision.best_metric:.4f} "
          f"(epoch {revision.best_epoch})")  # fmt: skip
    print("| variant | subset | metric | value | images |")
    print("| --- | --- | --- | ---: | ---: |")
    for evaluation in outcome["evaluations"]:
        name, value = evaluation.metric_name, evaluation.metric_value
        if "map_50" in evaluation.metrics:
            name, value = "mAP@.5", evaluation.metrics["map_50"]
        print(f"| {evaluation.variant} | {evaluation.subset} | {name} | {value:.4f} | {evaluation.item_count} |")


def compare(client: Client, project: str, architectures: list[str], budget: float, goal: str) -> None:
    """Each architecture trained with --auto on the same data and budget; testing figures and speed side by side."""
    rows = []
    for architecture in architectures:
        outcome = run_training(client, project, f"--auto --architecture {architecture}", auto=True,
                               budget_seconds=budget, goal=goal, architecture=architecture)  # fmt: skip
        report(outcome, budget)
        revision = outcome["revision"]
        speed = next(v.speed for v in client.models.variants(revision.id) if v.name == "openvino-fp16") or {}
        testing = next(e for e in outcome["evaluations"] if e.variant == "openvino-fp16" and e.subset == "testing")
        rows.append((architecture, revision.configuration.get("input_size"), revision.epochs_trained,
                     outcome["training_seconds"], testing.metrics.get("map_50", float("nan")), testing.metric_value,
                     speed.get("latency_p50_ms", float("nan")), speed.get("throughput_fps", float("nan"))))  # fmt: skip
    print(f"\n## Side by side: the same data, --auto with a {budget:.0f} s budget, OpenVINO FP16 IR on this machine")
    print("| architecture | input px | epochs | training s | testing mAP@.5 | testing mAP | p50 ms | images/s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, side, epochs, seconds, map_50, map_all, p50, fps in rows:
        print(f"| {name} | {side} | {epochs} | {seconds:.0f} | {map_50:.4f} | {map_all:.4f} | {p50:.1f} | {fps:.1f} |")


def _flatten(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", choices=["digits", "shapes"])
    parser.add_argument("--budget", type=float, default=None, help="Seconds (digits: 600, shapes: 780).")
    parser.add_argument("--goal", default="balanced", choices=["fast", "balanced", "accurate"])
    parser.add_argument("--images", type=int, default=None, help="digits: the first N (all 1,797); shapes: scenes "
                        "generated, train and val (300).")  # fmt: skip
    parser.add_argument("--defaults", action="store_true", help="Also train with the architecture's defaults.")
    parser.add_argument("--compare", nargs="+", default=None, metavar="ARCHITECTURE",
                        help="Train these architectures with --auto on the same budget and compare them.")
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()
    budget = args.budget or (600.0 if args.dataset == "digits" else 780.0)
    root = args.data_dir or Path(tempfile.mkdtemp(prefix=f"modelyard-auto-{args.dataset}-"))
    source = root / "source"
    if args.dataset == "digits":
        write_digits_folder(source, args.images)
        task, data_format = "multiclass_classification", "imagenet"
    else:
        write_shapes_coco(source, args.images or 300)
        task, data_format = "detection", "coco"
    settings = Settings(data_dir=root / "data", log_level="warning")
    with Client(settings=settings, run_jobs=True) as client:
        imported = client.jobs.wait(
            client.datasets.import_(source, data_format, new_project=args.dataset, task_type=task).id, timeout=3600
        )
        if imported.status != "succeeded":
            raise SystemExit(f"import {imported.status}: {imported.error}")
        revision = client.datasets.create_revision(args.dataset)
        print(f"# {args.dataset}: {revision.item_count} items, subsets {revision.subset_counts}")
        print(json.dumps(client.datasets.analysis(args.dataset).model_dump(mode="json"), indent=1))
        if args.compare:
            compare(client, args.dataset, args.compare, budget, args.goal)
            return
        auto = run_training(client, args.dataset, "--auto", auto=True, budget_seconds=budget, goal=args.goal)
        report(auto, budget)
        if args.defaults:
            defaults = run_training(client, args.dataset, "defaults", architecture=DEFAULT_ARCHITECTURE[args.dataset],
                                    base=auto["revision"].base)  # fmt: skip
            report(defaults, None)
    if args.data_dir is None:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
