"""Predictors: OpenVINO FP32 equals PyTorch, original-pixel coordinates, thread safety, batch output."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from modelyard.export import ExportedVariant
from modelyard.inference import Prediction, Predictor, predict_folder, prepare_image
from tests.export.factories import write_rgb_image


def _assert_same(first: Prediction, second: Prediction, box_tolerance: float = 1e-3) -> None:
    assert [label.index for label in first.labels] == [label.index for label in second.labels]
    assert np.allclose(first.scores, second.scores, atol=1e-5)
    assert [obj.label.index for obj in first.objects] == [obj.label.index for obj in second.objects]
    for ours, theirs in zip(first.objects, second.objects, strict=True):
        assert np.allclose(ours.box, theirs.box, atol=box_tolerance)
        assert abs(ours.label.score - theirs.label.score) < 1e-4


@pytest.mark.parametrize("variant", ["classifier_fp32", "multilabel_fp32", "detector_fp32"])
def test_openvino_fp32_predictions_equal_pytorch(variant: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    exported: ExportedVariant = request.getfixturevalue(variant)
    torch_predictor = Predictor.open(exported.folder.parent / "model.pt", confidence_threshold=0.3)
    openvino_predictor = Predictor.open(exported.folder, confidence_threshold=0.3)
    for seed, (width, height) in enumerate([(96, 72), (40, 64)]):
        image = write_rgb_image(tmp_path / f"{seed}.png", width, height, seed)
        ours, theirs = torch_predictor.predict(image), openvino_predictor.predict(image)
        _assert_same(ours, theirs)
        assert (ours.width, ours.height) == (width, height)
        assert ours.labels or ours.objects


def test_detections_are_in_original_image_pixels(detector_fp32: ExportedVariant, tmp_path: Path) -> None:
    predictor = Predictor.open(detector_fp32.folder, confidence_threshold=0.3)
    small = write_rgb_image(tmp_path / "small.png", 64, 64, seed=5)
    large = tmp_path / "large.png"
    Image.open(small).resize((256, 128), Image.Resampling.NEAREST).save(large)
    at_input_size = predictor.predict(small)
    # An image 4x wider and 2x taller resizes back to the same input, so its boxes are the same ones scaled.
    stretched = predictor.predict(large)
    assert at_input_size.objects
    first, second = at_input_size.objects[0], stretched.objects[0]
    x, y, w, h = first.box
    assert np.allclose(second.box, (4 * x, 2 * y, 4 * w, 2 * h), atol=2.0)
    assert all(0 <= obj.box[0] and obj.box[0] + obj.box[2] <= 256 + 1e-3 for obj in stretched.objects)


def test_inputs_as_path_pil_and_array_give_one_prediction(classifier_fp32: ExportedVariant, tmp_path: Path) -> None:
    predictor = Predictor.open(classifier_fp32.folder)
    path = write_rgb_image(tmp_path / "a.png", 50, 30, seed=8)
    image = Image.open(path)
    results = [predictor.predict(path), predictor.predict(image), predictor.predict(np.asarray(image))]
    assert results[0] == results[1] == results[2]


def test_preprocessing_normalises_with_the_manifest_mean_and_std(classifier_fp32: ExportedVariant) -> None:
    spec = classifier_fp32.metadata.input_spec
    white = np.full((10, 20, 3), 255, dtype=np.uint8)
    prepared = prepare_image(white, spec, "normalize")
    assert prepared.pixels.shape == (3, 64, 64)
    expected = (1 - np.array(spec.mean)) / np.array(spec.std)
    assert np.allclose(prepared.pixels[:, 5, 5], expected, atol=1e-6)


def test_concurrent_predictions_equal_sequential_ones(detector_fp32: ExportedVariant, tmp_path: Path) -> None:
    predictor = Predictor.open(detector_fp32.folder, concurrency=2)
    images = [write_rgb_image(tmp_path / f"{seed}.png", 64, 48, seed) for seed in range(4)]
    sequential = [predictor.predict(image) for image in images]
    with ThreadPoolExecutor(max_workers=4) as pool:
        concurrent = list(pool.map(predictor.predict, images * 2))
    assert concurrent == sequential * 2


def test_predict_folder_writes_predictions_and_coco_results(detector_fp32: ExportedVariant, tmp_path: Path) -> None:
    folder = tmp_path / "images"
    folder.mkdir()
    for seed in range(3):
        write_rgb_image(folder / f"image-{seed}.png", 64, 64, seed)
    (folder / "notes.txt").write_text("not an image")
    predictor = Predictor.open(detector_fp32.folder, confidence_threshold=0.9)
    result = predict_folder(predictor, folder, tmp_path / "out")
    content = json.loads(result.predictions_path.read_text())
    assert result.count == 3 and [image["file_name"] for image in content["images"]] == [
        "image-0.png", "image-1.png", "image-2.png"]
    assert content["categories"] == [{"id": 1, "name": "cat"}, {"id": 2, "name": "hot dog"}]
    coco = json.loads(result.coco_results_path.read_text())
    assert len(coco) == sum(len(image["objects"]) for image in content["images"]) > 0
    first_object = content["images"][coco[0]["image_id"] - 1]["objects"][0]
    assert coco[0]["bbox"] == pytest.approx(first_object["box"], abs=1e-3)
    assert coco[0]["category_id"] == first_object["label"]["index"] + 1
