from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from PIL import Image

from modelyard.training.config import TrainingConfig
from modelyard.training.data import TrainingDataset, TrainingSample, make_loader
from modelyard.training.loop import (
    TrainingCancelled,
    TrainingProgress,
    build_optimizer,
    build_scheduler,
    fit,
    train_model,
)
from modelyard.training.networks import create_model
from modelyard.training.tasks import ClassificationAdapter
from tests.training.factories import SHIPPED, make_samples, tiny_config, tiny_manifest

END_TO_END = [
    ("mobilenet_v3_small", "multiclass_classification", "accuracy"),
    ("mobilenet_v3_small", "multilabel_classification", "mean_average_precision"),
    ("fasterrcnn_mobilenet_v3_large_320_fpn", "detection", "map"),
    ("maskrcnn_resnet50_fpn", "instance_segmentation", "mask_map"),
]


@pytest.mark.parametrize(("architecture", "task", "metric"), END_TO_END)
def test_each_task_trains_two_epochs_end_to_end(architecture: str, task: str, metric: str, tmp_path: Path) -> None:
    samples = make_samples(tmp_path / "images", task, 4)
    config = tiny_config(task, epochs=2, horizontal_flip=True, color_jitter=0.2)
    steps: list[TrainingProgress] = []

    result = train_model(tiny_manifest(SHIPPED[architecture]), config, ["dark", "bright"], samples[:2], samples[2:],
                         progress=steps.append)

    assert [record.epoch for record in result.records] == [1, 2]
    assert {record.metric_name for record in result.records} == {metric}
    values = [record.metric_value for record in result.records]
    assert all(0.0 <= value <= 1.0 for value in values)
    assert result.best_metric == max(values) and result.best_epoch == values.index(max(values)) + 1
    assert all(record.train_loss > 0 and record.seconds > 0 for record in result.records)
    assert [(step.epoch, step.step) for step in steps] == [(1, 1), (2, 1)]
    assert steps[-1].fraction == 1.0
    assert not result.model.training


def test_same_seed_gives_identical_runs(tmp_path: Path) -> None:
    samples = make_samples(tmp_path, "multiclass_classification", 4)
    manifest = tiny_manifest(SHIPPED["mobilenet_v3_small"], size=32)
    config = tiny_config("multiclass_classification", epochs=2, seed=7, horizontal_flip=True, color_jitter=0.3)
    first = train_model(manifest, config, ["a", "b"], samples)
    second = train_model(manifest, config, ["a", "b"], samples)
    assert [r.train_loss for r in first.records] == [r.train_loss for r in second.records]
    assert all(torch.equal(a, b) for a, b in zip(first.model.state_dict().values(),
                                                  second.model.state_dict().values(), strict=True))


class ScriptedValidation(ClassificationAdapter):
    """Real loss, scripted validation figures; snapshots the weights each validation sees."""

    def __init__(self, figures: list[float]) -> None:
        super().__init__(
            "multiclass_classification", tiny_manifest(SHIPPED["mobilenet_v3_small"], 32).input, ["a", "b"]
        )
        self.figures = list(figures)
        self.snapshots: list[dict[str, torch.Tensor]] = []

    def validation_metric(self, model: torch.nn.Module, batches: Any, device: torch.device) -> float:
        self.snapshots.append({key: value.clone() for key, value in model.state_dict().items()})
        return self.figures.pop(0)


def _fit_scripted(tmp_path: Path, figures: list[float], **changes: Any) -> tuple[Any, ScriptedValidation]:
    task = "multiclass_classification"
    manifest = tiny_manifest(SHIPPED["mobilenet_v3_small"], size=32)
    config = tiny_config(task, epochs=len(figures), learning_rate=0.05, **changes)
    dataset = TrainingDataset(make_samples(tmp_path, task, 2), task, 2, manifest.input)
    adapter = ScriptedValidation(figures)
    loader = make_loader(dataset, config, shuffle=True, seed=0)
    model = create_model(manifest, 2, task, None)
    return fit(model, adapter, loader, make_loader(dataset, config, False, 0), config), adapter


def test_best_epoch_weights_are_kept(tmp_path: Path) -> None:
    result, adapter = _fit_scripted(tmp_path, [0.2, 0.9, 0.4], early_stopping_patience=0)
    assert (result.best_epoch, result.best_metric, len(result.records), result.stopped_early) == (2, 0.9, 3, False)
    state = result.model.state_dict()
    assert all(torch.equal(state[key], adapter.snapshots[1][key]) for key in state)
    assert not all(torch.equal(state[key], adapter.snapshots[2][key]) for key in state)


def test_early_stopping_waits_for_patience(tmp_path: Path) -> None:
    result, _ = _fit_scripted(tmp_path, [0.5, 0.4, 0.3, 0.9, 0.95], early_stopping_patience=2)
    assert [record.epoch for record in result.records] == [1, 2, 3]
    assert (result.best_epoch, result.stopped_early) == (1, True)


def test_should_stop_cancels_the_run(tmp_path: Path) -> None:
    samples = make_samples(tmp_path, "multiclass_classification", 4)
    calls: list[int] = []

    def stop_on_second_check() -> bool:
        calls.append(1)
        return len(calls) >= 2

    with pytest.raises(TrainingCancelled, match="epoch 1, step 2"):
        train_model(tiny_manifest(SHIPPED["mobilenet_v3_small"], 32), tiny_config("multiclass_classification"),
                    ["a", "b"], samples, should_stop=stop_on_second_check)


def test_scheduler_warms_up_linearly_then_decays_by_cosine() -> None:
    model = torch.nn.Linear(2, 2)
    config = TrainingConfig(task="multiclass_classification", learning_rate=1.0, epochs=3, warmup_epochs=1)
    optimizer = build_optimizer(model, config)
    scheduler = build_scheduler(optimizer, config, steps_per_epoch=4)
    rates = []
    for _ in range(12):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert rates[:4] == pytest.approx([0.2, 0.4, 0.6, 0.8])
    assert rates[4:] == pytest.approx([0.5 * (1 + math.cos(math.pi * step / 8)) for step in range(8)])


def test_optimizer_does_not_decay_biases() -> None:
    optimizer = build_optimizer(torch.nn.Linear(2, 2), TrainingConfig(task="detection", weight_decay=0.1))
    decays = [(len(group["params"]), group["weight_decay"]) for group in optimizer.param_groups]
    assert decays == [(1, 0.1), (1, 0.0)]


def test_dataset_decodes_once_into_an_npy_cache(tmp_path: Path) -> None:
    samples = make_samples(tmp_path / "images", "multiclass_classification", 3)
    spec = tiny_manifest(SHIPPED["resnet18"], size=16).input
    first = TrainingDataset(samples, "multiclass_classification", 2, spec, cache_dir=tmp_path / "cache")
    cached = sorted((tmp_path / "cache").glob("*.npy"))
    stamps = [path.stat().st_mtime_ns for path in cached]
    second = TrainingDataset(samples, "multiclass_classification", 2, spec, cache_dir=tmp_path / "cache")
    assert len(cached) == 3 and [path.stat().st_mtime_ns for path in cached] == stamps
    expected = np.array(Image.open(samples[1].image_path).convert("RGB").resize((16, 16), Image.Resampling.BILINEAR))
    image, label = second[1]
    assert torch.equal(image, torch.from_numpy(expected).permute(2, 0, 1))
    assert label.item() == 1
    assert torch.equal(first[2][0], second[2][0])


def test_detection_boxes_follow_the_resize(tmp_path: Path) -> None:
    path = tmp_path / "wide.png"
    Image.new("RGB", (64, 32)).save(path)
    sample = TrainingSample(path, 64, 32, (1,), boxes=((8.0, 4.0, 32.0, 20.0),))
    spec = tiny_manifest(SHIPPED["fasterrcnn_mobilenet_v3_large_320_fpn"], size=32).input
    _, stretched = TrainingDataset([sample], "detection", 2, spec)[0]
    _, letterboxed = TrainingDataset([sample], "detection", 2, spec.model_copy(update={"resize": "letterbox"}))[0]
    assert stretched.boxes.tolist() == [[4.0, 4.0, 16.0, 20.0]]
    assert letterboxed.boxes.tolist() == [[4.0, 2.0, 16.0, 10.0]]
    assert stretched.labels.tolist() == [1]


def test_segmentation_polygons_become_masks_and_tight_boxes(tmp_path: Path) -> None:
    path = tmp_path / "square.png"
    Image.new("RGB", (32, 32)).save(path)
    sample = TrainingSample(path, 32, 32, (0,), polygons=((4.0, 6.0, 12.0, 6.0, 12.0, 14.0, 4.0, 14.0),))
    spec = tiny_manifest(SHIPPED["maskrcnn_resnet50_fpn"], size=32).input
    _, target = TrainingDataset([sample], "instance_segmentation", 1, spec)[0]
    assert target.masks is not None and target.masks.shape == (1, 32, 32)
    assert target.masks.sum().item() == 9 * 9  # PIL fills the polygon's outline pixels too
    assert target.boxes.tolist() == [[4.0, 6.0, 13.0, 15.0]]


def test_wrong_recorded_size_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "image.png"
    Image.new("RGB", (20, 10)).save(path)
    spec = SHIPPED["resnet18"].input
    with pytest.raises(ValueError, match="is 20x10 but was recorded as 10x20"):
        TrainingDataset([TrainingSample(path, 10, 20, (0,))], "multiclass_classification", 1, spec)
