"""Measuring this machine's training speed, cached per machine profile."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelyard.architectures.manifest import SHIPPED_MANIFESTS_DIR, load_manifests
from modelyard.training import speed
from modelyard.training.auto_config import MachineProfile

MANIFESTS = load_manifests(SHIPPED_MANIFESTS_DIR, None)
PROFILE = MachineProfile(cpus=2, torch_threads=2, device="cpu")


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Torch in the test process spins its threads while they wait; on a busy machine two of them crawl."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.usefixtures("one_thread")
def test_measuring_once_caches_both_sizes_per_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(speed, "MEASURE_SECONDS", 0.1)
    small = MANIFESTS["mobilenet_v3_small"]
    narrowed = small.hyperparameters.input_size.model_copy(update={"choices": [64, 96], "default": 96})
    manifest = small.at_input_size({"input_size": 96}).model_copy(
        update={"hyperparameters": small.hyperparameters.model_copy(update={"input_size": narrowed}),
                "input": small.input.model_copy(update={"size": [96, 96]})})  # fmt: skip
    path = tmp_path / "training_speed.json"
    lines: list[str] = []
    speed.ensure_measured([manifest], "multiclass_classification", path, PROFILE, log=lines.append)
    cached = json.loads(path.read_text())[PROFILE.key]["mobilenet_v3_small"]
    assert set(cached) == {"64", "96"} and all(value > 0 for value in cached.values())
    assert lines[0].startswith("measured training speed of mobilenet_v3_small on cpu|cpus=2|threads=2: ")
    speed.ensure_measured([manifest], "multiclass_classification", path, PROFILE, log=lines.append)
    assert len(lines) == 1  # measured once
    models = speed.speed_models([manifest, MANIFESTS["resnet18"]], path, PROFILE)
    assert models["mobilenet_v3_small"].measured and not models["resnet18"].measured
    assert models["resnet18"].seconds_per_image(224) > models["mobilenet_v3_small"].seconds_per_image(224)
