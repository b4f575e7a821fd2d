"""RT-DETR behind the torchvision detector interface: target conversion, decoding, and the published weights'
layout. Training one step, export, parity, INT8 and evaluation are the catalog-wide tests' (test_networks.py,
tests/export/test_registered_architectures.py, tests/scoring/test_runner.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from modelyard.training.detr import DETECTIONS, RTDetr, _corners_to_centers, _top_detections
from modelyard.training.networks import create_model, get_builder
from tests.training.factories import SHIPPED, tiny_manifest


def test_corners_become_centres_and_sides() -> None:
    boxes = torch.tensor([[10.0, 20.0, 30.0, 60.0]])
    assert _corners_to_centers(boxes).tolist() == [[20.0, 40.0, 20.0, 40.0]]


def test_decoding_keeps_the_best_query_label_pairs_in_pixels() -> None:
    # Two queries, two labels: query 1 is sure of label 0, query 0 half sure of label 1.
    logits = torch.tensor([[[-9.0, 0.0], [9.0, -8.0]]])
    centres = torch.tensor([[[0.5, 0.5, 0.2, 0.4], [0.25, 0.25, 0.5, 0.5]]])
    scale = torch.tensor([200.0, 100.0, 200.0, 100.0])

    [found] = _top_detections(logits, centres, scale)

    assert found["labels"].tolist() == [1, 2, 2, 1]  # torchvision's numbering: label 0 of the project is 1
    assert found["scores"][:2].tolist() == pytest.approx([torch.sigmoid(torch.tensor(9.0)).item(), 0.5])
    assert found["boxes"][0].tolist() == pytest.approx([0.0, 0.0, 100.0, 50.0])
    assert found["boxes"][1].tolist() == pytest.approx([80.0, 30.0, 120.0, 70.0])


def test_decoding_clamps_boxes_to_the_image_and_caps_the_count() -> None:
    logits = torch.zeros(1, 300, 3)
    centres = torch.tensor([0.95, 0.05, 0.3, 0.3]).expand(1, 300, 4)
    [found] = _top_detections(logits, centres, torch.tensor([64.0, 32.0, 64.0, 32.0]))
    assert found["boxes"].shape == (DETECTIONS, 4)
    assert found["boxes"][0].tolist() == pytest.approx([51.2, 0.0, 64.0, 6.4])


def test_training_mode_returns_one_loss_and_needs_targets() -> None:
    torch.manual_seed(0)
    model = create_model(tiny_manifest(SHIPPED["rt_detr_r18vd"], 64), 2, "detection", None).train()
    images = [torch.rand(3, 64, 64), torch.rand(3, 64, 64)]
    targets = [
        {"boxes": torch.tensor([[8.0, 8.0, 40.0, 32.0]]), "labels": torch.tensor([1])},
        {"boxes": torch.zeros(0, 4), "labels": torch.zeros(0, dtype=torch.long)},  # an image without objects
    ]
    losses = model(images, targets)
    assert list(losses) == ["loss"] and losses["loss"].ndim == 0 and torch.isfinite(losses["loss"])
    with pytest.raises(ValueError, match="needs targets"):
        model(images)


@pytest.mark.parametrize("builder", ["rt_detr_r18vd", "rt_detr_r34vd"])
def test_evaluation_mode_answers_like_a_torchvision_detector(builder: str) -> None:
    torch.manual_seed(0)
    manifest = tiny_manifest(SHIPPED["rt_detr_r18vd"], 64)
    manifest = manifest.model_copy(update={"builder": manifest.builder.model_copy(update={"function": builder})})
    model = create_model(manifest, 3, "detection", None).eval()
    # A 64 px input has 84 cells at strides 8, 16 and 32, fewer than the 300 queries: the encoder takes them all.
    assert isinstance(model, RTDetr) and model.config.num_queries == 84
    with torch.no_grad():
        outputs = model([torch.rand(3, 64, 96)])
    [output] = outputs
    assert output["boxes"].shape == (DETECTIONS, 4) and output["scores"].shape == (DETECTIONS,)
    assert set(output["labels"].tolist()) <= {1, 2, 3}
    assert output["boxes"][:, 0::2].max() <= 96 and output["boxes"][:, 1::2].max() <= 64
    assert bool((output["scores"][:-1] >= output["scores"][1:]).all())


def test_weights_in_the_published_layout_load_and_the_label_layers_are_new(tmp_path: Path) -> None:
    from safetensors.torch import save_file
    from transformers import RTDetrForObjectDetection

    from modelyard.training.detr import rt_detr_config

    # transformers' own model with COCO's 80 labels: the key layout of the hub's model.safetensors.
    manifest = SHIPPED["rt_detr_r18vd"]
    published = RTDetrForObjectDetection(rt_detr_config("rt_detr_r18vd", 80, {})).state_dict()
    save_file({key: value.contiguous() for key, value in published.items()}, str(tmp_path / "weights.pt"))

    model = create_model(manifest, 2, "detection", tmp_path / "weights.pt")

    assert isinstance(model, RTDetr)
    state = model.state_dict()
    assert state["model.enc_score_head.weight"].shape == (2, 256)
    assert state["model.denoising_class_embed.weight"].shape == (3, 256)  # the labels and "no label"
    head = get_builder(manifest).head_prefixes
    body = [key for key in published if not key.startswith(head)]
    assert len(body) > 300 and all(torch.equal(state[key], published[key]) for key in body)
