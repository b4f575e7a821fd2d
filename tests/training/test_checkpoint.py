from __future__ import annotations

from pathlib import Path

import pytest
import torch

from modelyard.training.checkpoint import (
    CheckpointError,
    load_model,
    read_checkpoint,
    save_checkpoint,
)
from modelyard.training.networks import create_model, get_builder, uses_frozen_norms
from modelyard.variant.metadata import LabelEntry
from tests.training.factories import SHIPPED, tiny_config, tiny_manifest

LABELS = [LabelEntry(0, "label-cat", "cat"), LabelEntry(1, "label-dog", "dog")]


def test_classifier_round_trip_gives_identical_outputs(tmp_path: Path) -> None:
    manifest = tiny_manifest(SHIPPED["mobilenet_v3_small"])
    model = create_model(manifest, 2, "multiclass_classification", None).eval()
    config = tiny_config("multiclass_classification", learning_rate=0.02)
    path = save_checkpoint(tmp_path / "model.pt", model, manifest, "multiclass_classification", LABELS, config,
                           metadata={"best_epoch": 3})
    loaded = load_model(path)
    images = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(model(images), loaded.model(images))
    assert (loaded.architecture_id, loaded.task, loaded.labels) == ("mobilenet_v3_small", "multiclass_classification",
                                                                    LABELS)
    assert loaded.input_spec.size == [64, 64] and loaded.input_spec.mean == [0.485, 0.456, 0.406]
    assert loaded.configuration == config
    assert loaded.metadata == {"best_epoch": 3}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt"]


def test_fine_tuned_detector_round_trip_keeps_frozen_norms(tmp_path: Path) -> None:
    manifest = tiny_manifest(SHIPPED["fasterrcnn_mobilenet_v3_large_320_fpn"])
    builder = get_builder(manifest)
    torch.save(builder.build(builder.function, manifest, 90, True).state_dict(), tmp_path / "coco.pt")
    model = create_model(manifest, 2, "detection", tmp_path / "coco.pt").eval()
    path = save_checkpoint(tmp_path / "model.pt", model, manifest, "detection", LABELS, tiny_config("detection"))
    loaded = load_model(path)
    images = [torch.rand(3, 64, 64)]
    with torch.no_grad():
        expected, actual = model(images)[0], loaded.model(images)[0]
    assert uses_frozen_norms(loaded.model) and len(expected["boxes"]) > 0
    assert all(torch.equal(expected[key], actual[key]) for key in ("boxes", "scores", "labels"))


def test_checkpoint_describes_itself(tmp_path: Path) -> None:
    manifest = tiny_manifest(SHIPPED["resnet18"], size=32)
    model = create_model(manifest, 2, "multilabel_classification", None)
    save_checkpoint(tmp_path / "model.pt", model, manifest, "multilabel_classification", LABELS,
                    tiny_config("multilabel_classification"))
    content = read_checkpoint(tmp_path / "model.pt")
    assert set(content) == {"format", "format_version", "architecture_id", "task", "labels", "input", "manifest",
                            "configuration", "frozen_norms", "metadata", "state_dict"}
    assert content["labels"] == [{"index": 0, "id": "label-cat", "name": "cat"},
                                 {"index": 1, "id": "label-dog", "name": "dog"}]
    assert content["input"] == {"size": [32, 32], "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225],
                                "channel_order": "RGB", "resize": "stretch"}
    assert content["state_dict"]["fc.weight"].shape == (2, 512)


def test_labels_out_of_order_are_refused(tmp_path: Path) -> None:
    manifest = SHIPPED["resnet18"]
    model = create_model(manifest, 2, "multiclass_classification", None)
    with pytest.raises(CheckpointError, match="output order"):
        save_checkpoint(tmp_path / "model.pt", model, manifest, "multiclass_classification", LABELS[::-1],
                        tiny_config("multiclass_classification"))


def test_a_plain_state_dict_is_not_a_checkpoint(tmp_path: Path) -> None:
    torch.save({"weight": torch.zeros(1)}, tmp_path / "plain.pt")
    with pytest.raises(CheckpointError, match="not a modelyard model file"):
        load_model(tmp_path / "plain.pt")
