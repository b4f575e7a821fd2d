"""Acceptance run: generated shapes, detection trained from scratch with ssdlite320_mobilenet_v3_large.

Builds a detection project through the SDK, trains with the real job runner and prints the validation
mAP@[.5:.95] and mAP@.5 of every epoch, to show they rise.

    .venv/bin/python bench/shapes_detection.py [--images 240] [--epochs 10]
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from modelyard import Client
from modelyard.config import Settings

SHAPES = {"square": (200, 40, 40), "circle": (40, 40, 200), "triangle": (40, 160, 40)}


def draw_scene(rng: random.Random, size: int) -> tuple[Image.Image, list[dict[str, Any]]]:
    image = Image.new("RGB", (size, size), tuple(rng.randint(200, 250) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    boxes = []
    for _ in range(rng.randint(1, 3)):
        label = rng.choice(list(SHAPES))
        side = rng.randint(size // 6, size // 3)
        x, y = rng.randint(0, size - side - 1), rng.randint(0, size - side - 1)
        corners = (x, y, x + side, y + side)
        if label == "square":
            draw.rectangle(corners, fill=SHAPES[label])
        elif label == "circle":
            draw.ellipse(corners, fill=SHAPES[label])
        else:
            draw.polygon([(x + side / 2, y), (x, y + side), (x + side, y + side)], fill=SHAPES[label])
        boxes.append({"x": x, "y": y, "width": side + 1, "height": side + 1, "label": label})
    return image, boxes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=240)
    parser.add_argument("--size", type=int, default=160)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--learning-rate", type=float, default=0.003)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="modelyard-shapes-"))
    rng = random.Random(11)
    annotations: dict[str, list[dict[str, Any]]] = {}
    paths: list[Path] = []
    (root / "images").mkdir()
    for index in range(args.images):
        image, boxes = draw_scene(rng, args.size)
        path = root / "images" / f"scene-{index:04d}.png"
        image.save(path)
        annotations[path.name], paths = boxes, [*paths, path]
    started = time.monotonic()
    with Client(settings=Settings(data_dir=root / "data", log_level="warning"), run_jobs=True) as client:
        client.projects.create("shapes", "detection", labels=list(SHAPES))
        for item in client.datasets.upload("shapes", paths).created:
            client.datasets.annotate("shapes", item.id, boxes=annotations[item.name])
        job = client.models.train("shapes", "ssdlite320_mobilenet_v3_large", base="scratch", overrides={
            "epochs": args.epochs, "batch_size": args.batch_size, "learning_rate": args.learning_rate,
            "early_stopping_patience": 0})  # fmt: skip
        done = client.jobs.wait(job.id, timeout=3600)
        if done.status != "succeeded":
            raise SystemExit(f"training {done.status}: {done.error}")
        assert done.result is not None  # a succeeded job carries its result
        revision = client.models.get(done.result["revision_id"])
        print("| epoch | train loss | val mAP@[.5:.95] | val mAP@.5 | seconds |")
        print("| ---: | ---: | ---: | ---: | ---: |")
        for record in client.models.metrics(revision.id):
            print(f"| {record['epoch']} | {record['train_loss']:.4f} | {record['metric_value']:.4f} | "
                  f"{record['details'].get('map_50', float('nan')):.4f} | {record['seconds']:.1f} |")  # fmt: skip
        print(f"{args.images} images; best {revision.metric_name} {revision.best_metric:.4f} at epoch "
              f"{revision.best_epoch}; {time.monotonic() - started:.0f} s in all")  # fmt: skip
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
