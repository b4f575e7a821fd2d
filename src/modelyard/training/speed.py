"""This machine's training speed per architecture: a short timed run on random images at the smallest and
the largest allowed input size, cached per machine profile in `DATA_DIR/cache/training_speed.json`.

    {"cpu|cpus=2|threads=2": {"mobilenet_v3_small": {"64": 0.0021, "224": 0.0139}}}   # seconds per image

An architecture not measured yet on this profile gets an estimate from its GFLOPs, scaled by the measured
ones (or by a default rate when none is measured), so `architectures recommend` answers without training.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from modelyard.architectures.manifest import ArchitectureManifest
from modelyard.training.auto_config import MachineProfile, SpeedModel

CACHE_NAME = "training_speed.json"
MEASURE_SECONDS = 2.0
"""Timed steps (after one untimed warm-up step) run until this many seconds have passed, at least two."""
MEASURE_BATCH = {"classification": 16, "detection": 4, "instance_segmentation": 2}
DEFAULT_GFLOPS_PER_SECOND = {"cpu": 4.0, "cuda": 400.0}
"""Training GFLOPs a second per torch thread (CPU) or per device (GPU), before anything is measured."""
TRAINING_FLOP_FACTOR = 3.0
"""A training step costs about three forward passes (forward, and a backward pass twice as costly)."""


def speed_cache_path(data_dir: Path) -> Path:
    return data_dir / "cache" / CACHE_NAME


def machine_profile(torch_threads: int | None = None, device: str = "auto") -> MachineProfile:
    """CPUs this process may use, torch's threads (a job's, when given) and the training device."""
    import torch

    from modelyard.cpu_threads import choose
    from modelyard.training.loop import resolve_device

    resolved = resolve_device(device)
    name = f"cuda:{torch.cuda.get_device_name(resolved)}" if resolved.type == "cuda" else resolved.type
    return MachineProfile(choose(None).threads, torch_threads or torch.get_num_threads(), name)


def read_cache(path: Path) -> dict[str, dict[str, dict[str, float]]]:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _write_cache(path: Path, content: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".training_speed-")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump(content, out, indent=1, sort_keys=True)
    os.replace(temporary, path)


def measured_points(path: Path, profile: MachineProfile) -> dict[str, dict[int, float]]:
    """Architecture -> {input side: seconds per training image} measured on this profile."""
    entries = read_cache(path).get(profile.key, {})
    return {arch: {int(side): float(value) for side, value in points.items()} for arch, points in entries.items()}


def speed_models(
    manifests: Sequence[ArchitectureManifest], path: Path, profile: MachineProfile
) -> dict[str, SpeedModel]:
    """Each architecture's speed on this profile: measured where the cache has it, else estimated."""
    points = measured_points(path, profile)
    measured = {m.id: SpeedModel.from_points(points[m.id]) for m in manifests if points.get(m.id)}
    rate = _gflops_rate(manifests, measured, profile)
    return {m.id: measured.get(m.id) or _estimate(m, rate) for m in manifests}


def _gflops_rate(
    manifests: Sequence[ArchitectureManifest], measured: dict[str, SpeedModel], profile: MachineProfile
) -> float:
    """Training GFLOPs a second on this profile: the median over measured architectures, else the default."""
    rates = []
    for manifest in manifests:
        model = measured.get(manifest.id)
        if model is not None and manifest.stats.gflops > 0:
            side = manifest.input.size[0]
            rates.append(manifest.stats.gflops * TRAINING_FLOP_FACTOR / model.seconds_per_image(side))
    if rates:
        return sorted(rates)[len(rates) // 2]
    if profile.device.startswith("cuda"):
        return DEFAULT_GFLOPS_PER_SECOND["cuda"]
    return DEFAULT_GFLOPS_PER_SECOND["cpu"] * profile.torch_threads


def _estimate(manifest: ArchitectureManifest, rate: float) -> SpeedModel:
    side = manifest.input.size[0]
    seconds = max(manifest.stats.gflops, 0.01) * TRAINING_FLOP_FACTOR / rate
    return SpeedModel.from_points({side: seconds}, measured=False)


def ensure_measured(
    manifests: Sequence[ArchitectureManifest],
    task: str,
    path: Path,
    profile: MachineProfile,
    device: str = "auto",
    log: Callable[[str], None] | None = None,
) -> None:
    """Time the architectures this profile has no figures for, and add them to the cache."""
    known = measured_points(path, profile)
    for manifest in manifests:
        if known.get(manifest.id):
            continue
        spec = manifest.hyperparameters.input_size
        sides = sorted({min(spec.choices), max(spec.choices)}) if spec is not None else [manifest.input.size[0]]
        points = {side: measure_seconds_per_image(manifest, task, side, device) for side in sides}
        content = read_cache(path)
        entry = {str(side): round(value, 6) for side, value in points.items()}
        content.setdefault(profile.key, {})[manifest.id] = entry
        _write_cache(path, content)
        if log is not None:
            timed = ", ".join(f"{1 / value:.1f} images/s at {side} px" for side, value in points.items())
            log(f"measured training speed of {manifest.id} on {profile.key}: {timed}")


def measure_seconds_per_image(manifest: ArchitectureManifest, task: str, side: int, device: str = "auto") -> float:
    """Seconds per image of training steps on random images at `side` px, from random initialisation."""
    import torch

    from modelyard.training.config import TrainingConfig
    from modelyard.training.data import DetectionTarget
    from modelyard.training.loop import build_optimizer, resolve_device
    from modelyard.training.networks import create_model
    from modelyard.training.tasks import adapter_for

    resized = manifest.at_input_size({"input_size": side})
    generator = torch.Generator().manual_seed(0)
    batch_size = MEASURE_BATCH[manifest.family]
    images = torch.randint(0, 256, (batch_size, 3, side, side), dtype=torch.uint8, generator=generator)
    targets: Any
    if manifest.family == "classification":
        targets = torch.arange(batch_size) % 2
        if task == "multilabel_classification":
            targets = torch.nn.functional.one_hot(targets, 2).float()
    else:
        box = torch.tensor([[side * 0.2, side * 0.2, side * 0.6, side * 0.6]])
        masks = None
        if task == "instance_segmentation":
            masks = torch.zeros((1, side, side), dtype=torch.uint8)
            masks[:, side // 5 : side * 3 // 5, side // 5 : side * 3 // 5] = 1
        targets = [DetectionTarget(box, torch.tensor([0]), masks) for _ in range(batch_size)]
    torch_device = resolve_device(device)
    model = create_model(resized, 2, task, None).to(torch_device).train()
    adapter = adapter_for(task, resized.input, ["a", "b"])
    optimizer = build_optimizer(model, TrainingConfig(task=task))

    def step() -> None:
        loss = adapter.training_loss(model, (images, targets), torch_device)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]  # torch leaves Tensor.backward unannotated
        optimizer.step()
        if torch_device.type == "cuda":
            torch.cuda.synchronize(torch_device)

    step()  # the first step pays for allocations and kernel selection
    started, steps = time.perf_counter(), 0
    while steps < 2 or time.perf_counter() - started < MEASURE_SECONDS:
        step()
        steps += 1
    return (time.perf_counter() - started) / (steps * batch_size)
