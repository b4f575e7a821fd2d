"""Auto-configuration as a pure function: synthetic analyses and machine profiles in, choices and reasons out."""

from __future__ import annotations

from typing import Any

import pytest

from modelyard.architectures.manifest import SHIPPED_MANIFESTS_DIR, load_manifests, resolve_hyperparameters
from modelyard.datasets.analysis import DatasetAnalysis, LabelStatistics, ObjectSizes, Spread
from modelyard.training.auto_config import (
    Candidate,
    MachineProfile,
    SpeedModel,
    auto_configure,
)

MANIFESTS = load_manifests(SHIPPED_MANIFESTS_DIR, None)
CPU = MachineProfile(cpus=2, torch_threads=2, device="cpu")
# Seconds per training image on CPU, as measured on a 2-core machine (64 px and 224 px, or 192 and 384).
CLASSIFIER_SPEEDS = {
    "efficientnet_b0": {64: 0.0196, 224: 0.32},
    "mobilenet_v3_large": {64: 0.0142, 224: 0.14},
    "mobilenet_v3_small": {64: 0.0099, 224: 0.049},
    "resnet18": {64: 0.026, 224: 0.5},
}
DETECTOR_SPEEDS = {"ssdlite320_mobilenet_v3_large": {192: 0.05, 384: 0.2},
                   "fasterrcnn_mobilenet_v3_large_320_fpn": {256: 0.12, 512: 0.45}}  # fmt: skip


def spread(value: float) -> Spread:
    return Spread(minimum=value, median=value, mean=value, maximum=value)


def analysis(
    task: str = "multiclass_classification",
    *,
    items: int = 1000,
    side: float = 224,
    label_shapes: tuple[int, ...] = (500, 500),
    sizes: ObjectSizes | None = None,
) -> DatasetAnalysis:
    labels = [LabelStatistics(label_id=f"l{i}", label_name=f"label {i}", items=count, shapes=count,
                              share=count / sum(label_shapes)) for i, count in enumerate(label_shapes)]  # fmt: skip
    ratio = max(label_shapes) / min(label_shapes)
    detection = not task.endswith("classification")
    return DatasetAnalysis(
        task=task, items=items,
        subsets={"training": int(items * 0.7), "validation": int(items * 0.2), "testing": items - int(items * 0.9)},
        image_width=spread(side), image_height=spread(side),
        objects_per_image=spread(2) if detection else None, object_sizes=sizes, labels=labels,
        imbalance_ratio=ratio, unused_labels=[], imbalanced=ratio >= 3,
        annotation_density=0.2 if detection else None,
    )  # fmt: skip


def candidates(task: str, cached: bool = False) -> list[Candidate]:
    speeds = CLASSIFIER_SPEEDS if task.endswith("classification") else DETECTOR_SPEEDS
    return [Candidate(MANIFESTS[name], SpeedModel.from_points(points), cached) for name, points in speeds.items()]


def configure(data: DatasetAnalysis, budget: float = 600, **options: Any) -> Any:
    return auto_configure(data, candidates(data.task, options.pop("cached", False)), CPU, budget, **options)


def test_same_analysis_and_machine_give_the_same_configuration() -> None:
    data = analysis(side=32, items=1797)
    first, second = configure(data), configure(data)
    assert first == second
    assert first.to_dict() == second.to_dict()


def test_tiny_set_gets_a_small_batch_and_fits_the_budget() -> None:
    config = configure(analysis(items=12, side=32), budget=120)
    assert config.hyperparameters["batch_size"] == 2  # a quarter of the 8 training images
    assert config.predicted_seconds <= 120 * 0.9
    assert config.hyperparameters["input_size"] == 96  # 32 px images, balanced floor
    assert config.hyperparameters["augmentations"]["horizontal_flip"] is False
    assert "symbols" in config.reasons["augmentations.horizontal_flip"]


def test_every_choice_is_within_the_manifest_and_has_a_reason() -> None:
    config = configure(analysis(side=480), budget=300)
    resolved = resolve_hyperparameters(MANIFESTS[config.architecture], config.hyperparameters)
    assert resolved["input_size"] == config.hyperparameters["input_size"]
    for name in ("architecture", "base", "input_size", "epochs", "batch_size", "learning_rate",
                 "augmentations.horizontal_flip", "augmentations.random_resized_crop", "class_balancing"):  # fmt: skip
        assert config.reasons[name]
    assert config.log_lines()[0].startswith(f"auto-configuration (balanced, budget 300 s on {CPU.key})")


def test_a_short_budget_lowers_the_input_size_before_the_epochs() -> None:
    roomy = configure(analysis(side=480), budget=3600, architecture="mobilenet_v3_small")
    tight = configure(analysis(side=480), budget=200, architecture="mobilenet_v3_small")
    assert roomy.hyperparameters["input_size"] == 160  # balanced cap
    assert tight.hyperparameters["input_size"] < 160
    assert "would not fit the budget" in tight.reasons["input_size"]
    assert tight.predicted_seconds <= 200 * 0.9


def test_goals_order_speed_and_quality() -> None:
    data = analysis(side=224, items=400)
    fast, accurate = configure(data, goal="fast", budget=3600), configure(data, goal="accurate", budget=3600)
    assert fast.architecture == "mobilenet_v3_small"
    assert accurate.architecture == "efficientnet_b0"  # the best ImageNet figure of the four
    assert accurate.hyperparameters["input_size"] > fast.hyperparameters["input_size"]


def test_imbalanced_classification_weighs_the_loss() -> None:
    config = configure(analysis(label_shapes=(900, 100)))
    assert config.hyperparameters["class_balancing"] == "loss"
    assert config.reasons["class_balancing"].startswith("most / least common label 9: imbalanced")
    assert configure(analysis(label_shapes=(550, 450))).hyperparameters["class_balancing"] == "none"


def test_imbalanced_detection_samples_rare_labels() -> None:
    sizes = ObjectSizes(small=0, medium=900, large=100, median_relative_side=0.25)
    config = configure(analysis("detection", label_shapes=(1000, 50), sizes=sizes))
    assert config.hyperparameters["class_balancing"] == "sampling"
    assert config.hyperparameters["augmentations"]["random_resized_crop"] == 1.0


def test_small_objects_get_the_largest_input() -> None:
    small = ObjectSizes(small=700, medium=300, large=0, median_relative_side=0.06)
    large = ObjectSizes(small=0, medium=200, large=800, median_relative_side=0.4)
    big = configure(analysis("detection", sizes=small), budget=36000, architecture="ssdlite320_mobilenet_v3_large")
    modest = configure(analysis("detection", sizes=large), budget=36000, architecture="ssdlite320_mobilenet_v3_large")
    assert big.hyperparameters["input_size"] == 384
    assert "small objects dominate" in big.reasons["input_size"]
    assert modest.hyperparameters["input_size"] == 192


def test_explicit_choices_are_kept() -> None:
    explicit = {"epochs": 3, "augmentations": {"horizontal_flip": True}, "class_balancing": "sampling"}
    config = configure(analysis(), architecture="resnet18", base="scratch", explicit=explicit)
    assert (config.architecture, config.base) == ("resnet18", "scratch")
    assert config.hyperparameters["epochs"] == 3
    assert config.hyperparameters["augmentations"]["horizontal_flip"] is True
    assert config.hyperparameters["class_balancing"] == "sampling"
    kept = {config.reasons[name] for name in ("base", "epochs", "augmentations.horizontal_flip")}
    assert kept == {"given explicitly"}
    assert config.reasons["architecture"].startswith("given explicitly (ImageNet-1K acc@1 69.758; 3 epochs at")


def test_cached_weights_choose_fine_tuning_with_fewer_steps() -> None:
    scratch, pretrained = configure(analysis(), cached=False), configure(analysis(), cached=True)
    assert (scratch.base, pretrained.base) == ("scratch", "pretrained")
    assert pretrained.candidates[0].target_epochs < scratch.candidates[0].target_epochs


def test_speed_model_passes_through_both_measured_sizes() -> None:
    model = SpeedModel.from_points({64: 0.01, 224: 0.05})
    assert model.seconds_per_image(64) == pytest.approx(0.01)
    assert model.seconds_per_image(224) == pytest.approx(0.05)
    assert 0.01 < model.seconds_per_image(128) < 0.05


def test_a_budget_too_short_for_one_epoch_takes_the_quickest() -> None:
    sizes = ObjectSizes(small=0, medium=100, large=0, median_relative_side=0.26)
    config = configure(analysis("detection", items=40, side=160, sizes=sizes), budget=5)
    assert config.architecture == "ssdlite320_mobilenet_v3_large"
    assert config.hyperparameters["epochs"] == 1
    assert config.reasons["architecture"].startswith("goal balanced: not even one epoch fits the budget")
