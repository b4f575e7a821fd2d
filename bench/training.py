"""Training throughput: modelyard's shared loop against a bare hand-written PyTorch loop.

Both train the same randomly initialised architecture on the same generated images for the same number of steps,
with the same optimizer, learning rate, batch size and no augmentation or validation, so the difference is the
loop's own overhead (data pipeline, scheduler, progress and cancel callbacks, best-weights bookkeeping).

    PYTHONPATH=src python bench/training.py --architecture mobilenet_v3_small --images 128 --size 96 --epochs 3

Each side runs ``--repeats`` times, alternating, and the fastest run of each is reported: on a shared machine other
processes only ever slow a run down, so the minimum is the best estimate of the code's own cost.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from modelyard.architectures.manifest import SHIPPED_MANIFESTS_DIR, ArchitectureManifest, load_manifests
from modelyard.training.config import TrainingConfig
from modelyard.training.data import TrainingSample
from modelyard.training.loop import seed_everything, train_model
from modelyard.training.models import create_model
from modelyard.training.tasks import normalized_images

TASK = "multiclass_classification"


@dataclass(frozen=True)
class Measurement:
    name: str
    images: int
    seconds: float

    @property
    def images_per_second(self) -> float:
        return self.images / self.seconds


def generate_samples(folder: Path, count: int, size: int) -> list[TrainingSample]:
    rng = np.random.default_rng(0)
    samples = []
    for index in range(count):
        label = index % 2
        pixels = np.clip(rng.normal(60 + 120 * label, 30, (size + 32, size + 32, 3)), 0, 255).astype(np.uint8)
        path = folder / f"{index}.jpg"
        Image.fromarray(pixels).save(path, quality=90)
        samples.append(TrainingSample(path, size + 32, size + 32, (label,)))
    return samples


def run_modelyard(
    manifest: ArchitectureManifest, config: TrainingConfig, samples: list[TrainingSample]
) -> tuple[Measurement, Measurement]:
    started = time.perf_counter()
    result = train_model(manifest, config, ["dark", "bright"], samples, progress=lambda progress: None,
                         should_stop=lambda: False)
    total = time.perf_counter() - started
    steps_images = len(samples) // config.batch_size * config.batch_size * config.epochs
    loop_only = Measurement("modelyard loop (training steps)", steps_images, steps_images / result.images_per_second)
    end_to_end = Measurement("modelyard train_model (incl. decode, build)", steps_images, total)
    return loop_only, end_to_end


def run_bare(manifest: ArchitectureManifest, config: TrainingConfig, samples: list[TrainingSample]) -> Measurement:
    """The textbook loop over tensors decoded up front; timed over the training steps only."""
    height, width = manifest.input.size
    images = torch.stack([
        torch.from_numpy(np.array(Image.open(s.image_path).convert("RGB").resize((width, height)))).permute(2, 0, 1)
        for s in samples
    ])
    labels = torch.tensor([s.labels[0] for s in samples])
    seed_everything(config.seed)
    model = create_model(manifest, 2, TASK, None)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    model.train()
    steps = len(samples) // config.batch_size
    started = time.perf_counter()
    for _ in range(config.epochs):
        order = torch.randperm(len(samples))
        for step in range(steps):
            batch = order[step * config.batch_size:(step + 1) * config.batch_size]
            loss = torch.nn.functional.cross_entropy(
                model(normalized_images(images[batch], manifest.input, torch.device("cpu"))), labels[batch]
            )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    seconds = time.perf_counter() - started
    return Measurement("bare PyTorch loop (training steps)", steps * config.batch_size * config.epochs, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--architecture", default="mobilenet_v3_small")
    parser.add_argument("--images", type=int, default=128)
    parser.add_argument("--size", type=int, default=96)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    arguments = parser.parse_args()
    manifest = load_manifests(SHIPPED_MANIFESTS_DIR, None)[arguments.architecture]
    manifest = manifest.model_copy(
        update={"input": manifest.input.model_copy(update={"size": [arguments.size, arguments.size]})}
    )
    config = TrainingConfig(task=TASK, batch_size=arguments.batch_size, epochs=arguments.epochs, warmup_epochs=0,
                            scheduler="constant", horizontal_flip=False, color_jitter=0.0, random_resized_crop=1.0,
                            early_stopping_patience=0, device="cpu", num_workers=0)
    with tempfile.TemporaryDirectory() as folder:
        samples = generate_samples(Path(folder), arguments.images, arguments.size)
        bare_runs, ours_runs = [], []
        for _ in range(arguments.repeats):
            bare_runs.append(run_bare(manifest, config, samples))
            ours_runs.append(run_modelyard(manifest, config, samples))
    bare = min(bare_runs, key=lambda run: run.seconds)
    loop_only = min((run[0] for run in ours_runs), key=lambda run: run.seconds)
    end_to_end = min((run[1] for run in ours_runs), key=lambda run: run.seconds)
    print(f"{arguments.architecture}, {arguments.images} images at {arguments.size}px, batch {arguments.batch_size}, "
          f"{arguments.epochs} epochs, torch {torch.__version__}, {torch.get_num_threads()} CPU threads, "
          f"best of {arguments.repeats}")
    print(f"| {'run':<46} | {'images':>6} | {'seconds':>8} | {'images/s':>8} | {'vs bare':>7} |")
    print(f"| {'-' * 46} | {'-' * 6}:| {'-' * 7}:| {'-' * 7}:| {'-' * 6}:|")
    for measurement in (bare, loop_only, end_to_end):
        ratio = measurement.images_per_second / bare.images_per_second
        print(f"| {measurement.name:<46} | {measurement.images:>6} | {measurement.seconds:>8.2f} | "
              f"{measurement.images_per_second:>8.1f} | {ratio:>7.2f} |")


if __name__ == "__main__":
    main()
