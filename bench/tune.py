"""Hyperparameter search on scikit-learn's digits against the best hand-picked configuration.

Builds the digits project through the SDK (as bench/digits.py does), runs `tune` on mobilenet_v3_small from
scratch for the budget with the real job runner, then reads the best trial's testing accuracy (its variants are
evaluated on the testing subset) and compares it with the hand-picked configuration of docs/benchmarks.md
(batch 32, learning rate 0.002, no horizontal flip, 10 epochs: testing accuracy 0.9833), or with that
configuration trained here on the same dataset revision (`--train-baseline`).

    .venv/bin/python bench/tune.py [--budget 30m] [--trials 40] [--epochs 10] [--slots 1] [--train-baseline]

A tiny run, to see it work: `--budget 2m --trials 2 --epochs 1 --limit 200`.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from digits import write_digits  # bench/digits.py: this script's folder is on the path

from modelyard import Client
from modelyard.config import Settings

HAND_PICKED = {"batch_size": 32, "learning_rate": 0.002, "augmentations": {"horizontal_flip": False}}
HAND_PICKED_TESTING_ACCURACY = 0.9833  # docs/benchmarks.md, "Acceptance: digits, mobilenet_v3_small from scratch"


def testing_accuracy(client: Client, revision_id: str) -> float:
    evaluations = [e for e in client.models.evaluations(revision_id) if e.subset == "testing"]
    if not evaluations:
        raise SystemExit(f"revision {revision_id} has no testing evaluation")
    return max(e.metric_value for e in evaluations if e.metric_value is not None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", default="30m", help="The study's budget: 90s, 30m, 2h.")
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--epochs", type=int, default=10, help="Most epochs of each trial.")
    parser.add_argument("--slots", type=int, default=1, help="Job slots: trials at once.")
    parser.add_argument("--size", type=int, default=32, help="Side of the PNG files written (upscaled from 8 px).")
    parser.add_argument("--limit", type=int, default=None, help="Use only the first N digits (a quick run).")
    parser.add_argument("--train-baseline", action="store_true",
                        help="Also train the hand-picked configuration here, after the study.")  # fmt: skip
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="modelyard-tune-"))
    settings = Settings(data_dir=data_dir, log_level="warning", job_slots=args.slots)
    images = write_digits(data_dir.parent / f"{data_dir.name}-images", args.size)
    if args.limit is not None:
        images = dict(list(images.items())[: args.limit])
    with Client(settings=settings, run_jobs=True) as client:
        client.projects.create("digits", "multiclass_classification", labels=[str(d) for d in range(10)])
        uploaded = client.datasets.upload("digits", list(images))
        by_name = {path.name: label for path, label in images.items()}
        for item in uploaded.created:
            client.datasets.annotate("digits", item.id, labels=[by_name[item.name]])
        started = time.monotonic()
        job = client.models.tune("digits", "mobilenet_v3_small", base="scratch", budget=args.budget,
                                 trials=args.trials, overrides={"epochs": args.epochs, "early_stopping_patience": 3})
        done = client.jobs.wait(job.id, timeout=24 * 3600)
        took = time.monotonic() - started
        study = client.models.study(job.id)
        print(f"{len(uploaded.created)} images; study {job.id} {done.status} in {took:.0f} s "
              f"(budget {args.budget}, {len(study.trials)} trials)")  # fmt: skip
        names = sorted({name for trial in study.trials for name in trial.params})
        print("| trial | " + " | ".join(names) + " | validation accuracy | epochs | seconds | status |")
        print("| ---: | " + " | ".join("---:" for _ in names) + " | ---: | ---: | ---: | --- |")
        for trial in study.trials:
            values = " | ".join(_cell(trial.params.get(name)) for name in names)
            print(f"| {trial.number}{' (best)' if trial.best else ''} | {values} | {_cell(trial.value)} | "
                  f"{trial.epochs} | {_cell(trial.seconds)} | {trial.status} |")  # fmt: skip
        if done.status != "succeeded" or study.best_revision_id is None or done.result is None:
            raise SystemExit(f"the study {done.status}: {done.error}")
        tuned = testing_accuracy(client, study.best_revision_id)
        anchor, where = HAND_PICKED_TESTING_ACCURACY, "docs/benchmarks.md"
        if args.train_baseline:
            baseline = client.models.train("digits", "mobilenet_v3_small", base="scratch",
                                           dataset_revision=done.result["dataset_revision_id"],
                                           overrides={**HAND_PICKED, "epochs": 10, "early_stopping_patience": 0})
            trained = client.jobs.wait(baseline.id, timeout=24 * 3600)
            if trained.status != "succeeded" or trained.result is None:
                raise SystemExit(f"the hand-picked training {trained.status}: {trained.error}")
            anchor, where = testing_accuracy(client, trained.result["revision_id"]), "trained here"
        verdict = "met" if tuned >= anchor else f"missed by {anchor - tuned:.4f}"
        print(f"best trial {study.best_trial}: testing accuracy {tuned:.4f}; hand-picked ({where}) {anchor:.4f}; "
              f"aim tuned >= hand-picked: {verdict}")  # fmt: skip
    if args.data_dir is None:
        shutil.rmtree(data_dir, ignore_errors=True)
        shutil.rmtree(data_dir.parent / f"{data_dir.name}-images", ignore_errors=True)


def _cell(value: object) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


if __name__ == "__main__":
    main()
