from __future__ import annotations

from pathlib import Path

import pytest
import torch

from modelyard.architectures.manifest import ArchitectureManifest
from modelyard.training.data import TrainingDataset, make_loader
from modelyard.training.loop import fit, seed_everything
from modelyard.training.networks import (
    ModelBuildError,
    create_model,
    get_builder,
    rebuild_head,
    registered_builders,
    uses_frozen_norms,
)
from modelyard.training.tasks import adapter_for
from tests.training.factories import SHIPPED, make_samples, tiny_config, tiny_manifest

ARCHITECTURE_TASKS = [(key, task) for key, manifest in SHIPPED.items() for task in manifest.tasks]


@pytest.mark.parametrize(("architecture", "task"), ARCHITECTURE_TASKS)
def test_every_shipped_architecture_trains_one_step(architecture: str, task: str, tmp_path: Path) -> None:
    seed_everything(0)
    manifest = tiny_manifest(SHIPPED[architecture])
    config = tiny_config(task, learning_rate=1e-2)
    dataset = TrainingDataset(make_samples(tmp_path, task, 2), task, 2, manifest.input, config)
    model = create_model(manifest, 2, task, pretrained_weights=None)
    before = {key: value.clone() for key, value in model.state_dict().items()}

    result = fit(model, adapter_for(task, manifest.input, ["a", "b"]), make_loader(dataset, config, True, 0),
                 None, config)

    [record] = result.records
    assert record.epoch == 1 and record.metric_name == "train_loss"
    assert torch.isfinite(torch.tensor(record.train_loss)) and record.train_loss > 0
    changed = [key for key, value in result.model.state_dict().items() if not torch.equal(value, before[key])]
    head = get_builder(manifest).head_prefixes
    assert any(key.startswith(head) for key in changed), "the new head must have been trained"


def test_every_shipped_builder_is_registered() -> None:
    assert {manifest.builder.function for manifest in SHIPPED.values()} <= set(registered_builders())


def _save_original_weights(manifest: ArchitectureManifest, num_classes: int, path: Path) -> dict[str, torch.Tensor]:
    """Weights shaped like torchvision's published file (its own head size, frozen norms for R-CNNs)."""
    builder = get_builder(manifest)
    state = builder.build(builder.function, manifest, num_classes, True).state_dict()
    torch.save(state, path)
    return state


def test_pretrained_classifier_keeps_body_and_gets_a_new_head(tmp_path: Path) -> None:
    manifest = SHIPPED["resnet18"]
    original = _save_original_weights(manifest, 1000, tmp_path / "weights.pt")
    model = create_model(manifest, 3, "multiclass_classification", tmp_path / "weights.pt")
    state = model.state_dict()
    assert state["fc.weight"].shape == (3, 512)
    assert all(torch.equal(state[key], value) for key, value in original.items() if not key.startswith("fc."))


def test_timm_classifier_takes_weights_published_as_safetensors(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    manifest = SHIPPED["mobilenetv4_conv_small"]
    builder = get_builder(manifest)
    original = builder.build(builder.function, manifest, 1000, True).state_dict()
    # The cache always names the file weights.pt; its content tells the format.
    save_file({key: value.contiguous() for key, value in original.items()}, str(tmp_path / "weights.pt"))
    model = create_model(manifest, 3, "multiclass_classification", tmp_path / "weights.pt")
    state = model.state_dict()
    assert state["classifier.weight"].shape == (3, 1280) and original["classifier.weight"].shape == (1000, 1280)
    assert all(torch.equal(state[key], value) for key, value in original.items() if not key.startswith("classifier."))


def test_pretrained_detector_uses_frozen_norms_and_a_new_box_predictor(tmp_path: Path) -> None:
    manifest = tiny_manifest(SHIPPED["fasterrcnn_mobilenet_v3_large_320_fpn"])
    original = _save_original_weights(manifest, 90, tmp_path / "weights.pt")
    model = create_model(manifest, 2, "detection", tmp_path / "weights.pt")
    state = model.state_dict()
    assert uses_frozen_norms(model)
    assert state["roi_heads.box_predictor.cls_score.weight"].shape[0] == 3  # two labels and the background
    body = [key for key in original if not key.startswith("roi_heads.box_predictor.")]
    assert all(torch.equal(state[key], original[key]) for key in body)


def test_rebuild_head_for_new_labels_keeps_every_other_weight() -> None:
    manifest = SHIPPED["mobilenet_v3_small"]
    model = create_model(manifest, 2, "multiclass_classification", None)
    rebuilt = rebuild_head(model, manifest, 5, "multiclass_classification")
    old, new = model.state_dict(), rebuilt.state_dict()
    assert new["classifier.3.weight"].shape == (5, 1024)
    assert all(torch.equal(new[key], old[key]) for key in old if not key.startswith("classifier.3."))


def test_keep_head_loads_the_head_of_a_model_with_the_same_labels(tmp_path: Path) -> None:
    manifest = SHIPPED["mobilenet_v3_small"]
    parent = create_model(manifest, 4, "multilabel_classification", None)
    torch.save(parent.state_dict(), tmp_path / "parent.pt")
    child = create_model(manifest, 4, "multilabel_classification", tmp_path / "parent.pt", keep_head=True)
    assert torch.equal(child.state_dict()["classifier.3.weight"], parent.state_dict()["classifier.3.weight"])


def test_weights_of_another_architecture_are_rejected(tmp_path: Path) -> None:
    torch.save(create_model(SHIPPED["resnet18"], 2, "multiclass_classification", None).state_dict(),
               tmp_path / "resnet.pt")
    with pytest.raises(ModelBuildError, match="weights do not fit this architecture"):
        create_model(SHIPPED["mobilenet_v3_small"], 2, "multiclass_classification", tmp_path / "resnet.pt")


def test_unsupported_task_and_unknown_builder_are_rejected() -> None:
    with pytest.raises(ModelBuildError, match="does not support detection"):
        create_model(SHIPPED["resnet18"], 2, "detection", None)
    unknown = SHIPPED["resnet18"].model_copy(
        update={"builder": SHIPPED["resnet18"].builder.model_copy(update={"function": "vit_h_14"})}
    )
    with pytest.raises(ModelBuildError, match="names builder 'vit_h_14'"):
        create_model(unknown, 2, "multiclass_classification", None)
