"""Acceptance run: scikit-learn's digits as PNG files, trained from scratch with mobilenet_v3_small.

Builds a multiclass project through the SDK (upload, annotate, dataset revision), trains with the real
job runner, prints the validation accuracy per epoch and the wall time, then quantizes to INT8 and prints
every variant's size, testing accuracy and speed.

    .venv/bin/python bench/digits.py [--epochs 12] [--size 32] [--data-dir /tmp/digits] [--cores-busy]

`--cores-busy` keeps every CPU busy with another program (one spinning process per CPU, in a session of its own)
while the training job runs; compare its epoch seconds with a run without it (aim: busy >= 0.5 x idle speed).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits
from training import cores_kept_busy  # bench/training.py: this script's folder is on the path

from modelyard import Client
from modelyard.config import Settings


def write_digits(folder: Path, size: int) -> dict[Path, str]:
    digits = load_digits()
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for index, (image, target) in enumerate(zip(digits.images, digits.target, strict=True)):
        pixels = (image / 16.0 * 255).astype(np.uint8)
        path = folder / f"digit-{index:04d}.png"
        Image.fromarray(pixels, mode="L").resize((size, size), Image.Resampling.BILINEAR).convert("RGB").save(path)
        paths[path] = str(int(target))
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=0.002)
    parser.add_argument("--size", type=int, default=32, help="Side of the PNG files written (upscaled from 8 px).")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--cores-busy", action="store_true", help="Keep every CPU busy while the training job runs.")
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="modelyard-digits-"))
    settings = Settings(data_dir=data_dir, log_level="warning")
    images = write_digits(data_dir.parent / f"{data_dir.name}-images", args.size)
    started = time.monotonic()
    with Client(settings=settings, run_jobs=True) as client:
        client.projects.create("digits", "multiclass_classification", labels=[str(d) for d in range(10)])
        uploaded = client.datasets.upload("digits", list(images))
        by_name = {path.name: label for path, label in images.items()}
        for item in uploaded.created:
            client.datasets.annotate("digits", item.id, labels=[by_name[item.name]])
        prepared = time.monotonic()
        job = client.models.train("digits", "mobilenet_v3_small", base="scratch", overrides={
            "epochs": args.epochs, "batch_size": args.batch_size, "learning_rate": args.learning_rate,
            "early_stopping_patience": 0, "augmentations": {"horizontal_flip": False}})  # fmt: skip
        with cores_kept_busy() if args.cores_busy else nullcontext():
            done = client.jobs.wait(job.id, timeout=3600)
        trained = time.monotonic()
        if done.status != "succeeded":
            raise SystemExit(f"training {done.status}: {done.error}")
        assert done.result is not None  # a succeeded job carries its result
        revision = client.models.get(done.result["revision_id"])
        print(f"{len(uploaded.created)} images, dataset prepared in {prepared - started:.1f} s")
        print("| epoch | train loss | validation accuracy | seconds |")
        print("| ---: | ---: | ---: | ---: |")
        for record in client.models.metrics(revision.id):
            print(f"| {record['epoch']} | {record['train_loss']:.4f} | {record['metric_value']:.4f} "
                  f"| {record['seconds']:.1f} |")  # fmt: skip
        print(f"best validation accuracy {revision.best_metric:.4f} (epoch {revision.best_epoch}); "
              f"training job {trained - prepared:.1f} s wall time on {revision.training_device} "
              "(variants and their evaluations included)")  # fmt: skip
        optimized = client.jobs.wait(client.models.optimize(revision.id).id, timeout=3600)
        if optimized.status != "succeeded":
            raise SystemExit(f"quantization {optimized.status}: {optimized.error}")
        accuracy = {e.variant: e for e in client.models.evaluations(revision.id) if e.subset == "testing"}
        print()
        print("| variant | size (MB) | testing accuracy | latency p50 ms | throughput images/s |")
        print("| --- | ---: | ---: | ---: | ---: |")
        for variant in client.models.variants(revision.id):
            evaluation = accuracy.get(variant.name)
            speed = variant.speed or {}
            print(f"| {variant.name} | {variant.size_bytes / 1e6:.2f} | "
                  f"{evaluation.metric_value if evaluation else float('nan'):.4f} | "
                  f"{speed.get('latency_p50_ms', float('nan')):.2f} | "
                  f"{speed.get('throughput_fps', float('nan')):.1f} |")  # fmt: skip
        print(f"testing images: {next(iter(accuracy.values())).item_count}")
    if args.data_dir is None:
        shutil.rmtree(data_dir, ignore_errors=True)
        shutil.rmtree(data_dir.parent / f"{data_dir.name}-images", ignore_errors=True)


if __name__ == "__main__":
    main()
