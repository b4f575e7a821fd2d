"""Every registered architecture exports to OpenVINO IR and ONNX, passes parity, and quantizes to INT8.

The models are tiny random checkpoints shared for the session (``tiny_models``); tests/evaluation evaluates the
same variants.
"""

from __future__ import annotations

import pytest

from modelyard.export import TOLERANCES, ExportedVariant, check_parity, read_variant_metadata, verify_files
from modelyard.inference import Predictor
from tests.export.factories import CALIBRATION_IMAGES, LABELS, REGISTERED_ARCHITECTURES, TinyModels, write_rgb_image
from tests.training.factories import SHIPPED


def test_every_shipped_architecture_is_covered() -> None:
    assert sorted(architecture for architecture, _ in REGISTERED_ARCHITECTURES) == sorted(SHIPPED)
    assert len(SHIPPED) == 11


def _assert_fp32_parity(exported: ExportedVariant, task: str) -> None:
    report = check_parity(exported.folder.parent / "model.pt", exported.folder, count=2)
    assert report.passed and report.task == task and report.images == 2
    if exported.metadata.classification_outputs is not None:
        assert report.max_probability_difference is not None
        assert report.max_probability_difference <= TOLERANCES["fp32"].probability
    else:
        # Random heads still spread the scores enough that both sides keep boxes above the parity threshold.
        assert report.compared_detections > 0
        assert report.matched_fraction is not None and report.matched_fraction >= TOLERANCES["fp32"].matched_fraction


@pytest.mark.parametrize(("architecture", "task"), REGISTERED_ARCHITECTURES)
def test_openvino_fp32_export_of_every_architecture_passes_parity(architecture: str, task: str,
                                                                  tiny_models: TinyModels) -> None:  # fmt: skip
    exported = tiny_models.openvino(architecture, task, "fp32")
    metadata = read_variant_metadata(exported.folder)
    assert (metadata.format, metadata.precision, metadata.task) == ("openvino", "fp32", task)
    assert (metadata.architecture_id, metadata.labels) == (architecture, LABELS)
    assert verify_files(exported.folder) == []
    _assert_fp32_parity(exported, task)


@pytest.mark.parametrize(("architecture", "task"), REGISTERED_ARCHITECTURES)
def test_onnx_export_of_every_architecture_passes_parity(architecture: str, task: str,
                                                         tiny_models: TinyModels) -> None:  # fmt: skip
    exported = tiny_models.onnx(architecture, task)
    metadata = read_variant_metadata(exported.folder)
    assert (metadata.format, metadata.precision, metadata.task, metadata.architecture_id) == (
        "onnx", "fp32", task, architecture)
    assert sorted(path.name for path in exported.folder.iterdir()) == ["files.json", "model.onnx", "variant.json"]
    _assert_fp32_parity(exported, task)


# Mask R-CNN's INT8 variant is made and checked the same way from a trained model in tests/export/test_mask_rcnn.py
# (the costliest quantization of the catalog, made once in the suite).
QUANTIZED_HERE = [(architecture, task) for architecture, task in REGISTERED_ARCHITECTURES
                  if architecture != "maskrcnn_resnet50_fpn"]  # fmt: skip


@pytest.mark.parametrize(("architecture", "task"), QUANTIZED_HERE)
def test_int8_quantization_of_every_architecture_gives_a_smaller_ir_that_predicts(
    architecture: str, task: str, tiny_models: TinyModels
) -> None:
    import openvino as ov

    fp32, int8 = tiny_models.openvino(architecture, task, "fp32"), tiny_models.int8(architecture, task)
    metadata = read_variant_metadata(int8.folder)
    assert (metadata.precision, metadata.task) == ("int8", task)
    assert metadata.extra["quantization"]["calibration_images"] == CALIBRATION_IMAGES
    size = lambda variant: (variant.folder / "model.bin").stat().st_size  # noqa: E731
    assert size(int8) < 0.5 * size(fp32)
    model = ov.Core().read_model(int8.model_path)
    assert sum(op.get_type_name() == "FakeQuantize" for op in model.get_ordered_ops()) > 10
    image = write_rgb_image(int8.folder.parent / "probe.png", 48, 40, seed=7)
    prediction = Predictor.open(int8.folder, confidence_threshold=0.0).predict(image)
    assert (prediction.width, prediction.height) == (48, 40)
    if metadata.classification_outputs is not None:
        assert len(prediction.scores) == len(LABELS)
    else:
        assert prediction.objects and all(obj.label.index in (0, 1) for obj in prediction.objects)
