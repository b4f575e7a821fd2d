"""Export to OpenVINO IR and ONNX: files, metadata, parity, and loading by openvino-model-api."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from modelyard.export import (
    ExportedVariant,
    ParityError,
    check_parity,
    read_files_manifest,
    read_variant_metadata,
    verify_files,
)
from modelyard.export.files import sha256_of
from modelyard.inference import Predictor
from tests.export.factories import LABELS, write_rgb_image


def test_openvino_export_writes_exactly_the_variant_files(classifier_fp16: ExportedVariant) -> None:
    folder = classifier_fp16.folder
    assert sorted(path.name for path in folder.iterdir()) == ["files.json", "model.bin", "model.xml", "variant.json"]
    entries = {entry.name: entry for entry in read_files_manifest(folder)}
    assert sorted(entries) == ["model.bin", "model.xml", "variant.json"]
    assert entries["model.bin"].size == (folder / "model.bin").stat().st_size
    assert entries["model.bin"].sha256 == sha256_of(folder / "model.bin")
    assert verify_files(folder) == []


def test_verify_files_names_a_changed_file(classifier_onnx: ExportedVariant, tmp_path: Path) -> None:
    copy = shutil.copytree(classifier_onnx.folder, tmp_path / "copy")
    with (copy / "model.onnx").open("ab") as sink:
        sink.write(b"\0")
    assert verify_files(copy) == ["model.onnx"]


def test_fp16_ir_is_about_half_the_size_of_fp32(classifier_fp32: ExportedVariant,
                                                classifier_fp16: ExportedVariant) -> None:
    fp16_bytes = (classifier_fp16.folder / "model.bin").stat().st_size
    ratio = fp16_bytes / (classifier_fp32.folder / "model.bin").stat().st_size
    assert 0.45 < ratio < 0.55


def test_variant_metadata_records_task_labels_and_preprocessing(classifier_fp16: ExportedVariant) -> None:
    metadata = read_variant_metadata(classifier_fp16.folder)
    assert (metadata.format, metadata.precision, metadata.task) == ("openvino", "fp16", "multiclass_classification")
    assert metadata.labels == LABELS
    assert metadata.input["size"] == [64, 64] and metadata.input_scaling == "normalize"
    assert metadata.classification_outputs == "probabilities" and metadata.dynamic_batch


def test_ir_rt_info_holds_model_api_metadata(classifier_fp16: ExportedVariant, detector_fp32: ExportedVariant) -> None:
    import openvino as ov

    core = ov.Core()
    classifier = core.read_model(classifier_fp16.model_path)
    info = lambda model, key: model.get_rt_info(["model_info", key]).astype(str)  # noqa: E731
    assert info(classifier, "model_type") == "Classification"
    assert info(classifier, "labels") == "cat hot_dog"
    assert info(classifier, "multilabel") == "False"
    assert info(classifier, "mean_values") == "123.675 116.28 103.53"
    assert info(classifier, "scale_values") == "58.395 57.12 57.375"
    assert info(classifier, "reverse_input_channels") == "True"
    assert info(classifier, "resize_type") == "standard"
    detector = core.read_model(detector_fp32.model_path)
    assert info(detector, "model_type") == "SSD"
    assert info(detector, "scale_values") == "255 255 255"
    assert info(detector, "confidence_threshold") == "0.5"
    assert [output.get_any_name() for output in detector.outputs] == ["boxes", "labels"]


def test_onnx_metadata_props_hold_model_api_metadata(classifier_onnx: ExportedVariant) -> None:
    import onnx

    props = {prop.key: prop.value for prop in onnx.load(str(classifier_onnx.model_path)).metadata_props}
    assert props["model_info model_type"] == "Classification"
    assert props["model_info labels"] == "cat hot_dog"


@pytest.mark.parametrize("variant", ["classifier_fp32", "classifier_fp16", "classifier_onnx", "multilabel_fp32"])
def test_classifier_variants_pass_parity(variant: str, request: pytest.FixtureRequest) -> None:
    exported: ExportedVariant = request.getfixturevalue(variant)
    checkpoint = exported.folder.parent / "model.pt"
    report = check_parity(checkpoint, exported.folder)
    assert report.passed and report.images == 3
    limit = 1e-5 if exported.metadata.precision == "fp32" else 5e-3
    assert report.max_probability_difference is not None and report.max_probability_difference < limit


@pytest.mark.parametrize("variant", ["detector_fp32", "detector_onnx"])
def test_detector_variants_pass_parity(variant: str, request: pytest.FixtureRequest) -> None:
    exported: ExportedVariant = request.getfixturevalue(variant)
    report = check_parity(exported.folder.parent / "model.pt", exported.folder, count=2)
    assert report.compared_detections > 10
    assert report.matched_fraction is not None and report.matched_fraction >= 0.99
    assert report.max_score_difference is not None and report.max_score_difference < 1e-4


def test_corrupted_ir_raises_parity_error(classifier_fp32: ExportedVariant, tmp_path: Path) -> None:
    import openvino as ov

    model = ov.Core().read_model(classifier_fp32.model_path)
    # Negate the largest weight tensor: the graph still runs, but computes something else.
    constants = [op for op in model.get_ordered_ops() if op.get_type_name() == "Constant"
                 and op.get_element_type() == ov.Type.f32]
    largest = max(constants, key=lambda op: int(np.prod(op.get_output_shape(0))))
    largest.output(0).replace(ov.opset13.constant(-largest.get_data()).output(0))
    folder = tmp_path / "corrupted"
    folder.mkdir()
    ov.save_model(model, folder / "model.xml", compress_to_fp16=False)
    shutil.copy(classifier_fp32.folder / "variant.json", folder / "variant.json")
    with pytest.raises(ParityError) as error:
        check_parity(classifier_fp32.folder.parent / "model.pt", folder)
    difference = error.value.report.max_probability_difference
    assert difference is not None and difference > 1e-3


def test_model_api_runs_the_exported_classifier(classifier_fp32: ExportedVariant, tmp_path: Path) -> None:
    from model_api.models import Model

    image = np.asarray(__import__("PIL.Image").Image.open(write_rgb_image(tmp_path / "a.png", 64, 64, seed=3)))
    ours = Predictor.open(classifier_fp32.folder).predict(image)
    model = Model.create_model(str(classifier_fp32.model_path), device="CPU")
    result = model(np.ascontiguousarray(image[:, :, ::-1]))  # model_api takes BGR, as cv2.imread returns
    top = result.top_labels[0]
    assert (top.id, top.name) == (ours.labels[0].index, ours.labels[0].name.replace(" ", "_"))
    # model_api lets the CPU pick bf16 inference, hence the looser tolerance than parity's.
    assert abs(top.confidence - ours.labels[0].score) < 2e-2


def test_model_api_runs_the_exported_detector(detector_fp32: ExportedVariant, tmp_path: Path) -> None:
    import openvino as ov
    from model_api.adapters import OpenvinoAdapter
    from model_api.models import Model
    from PIL import Image

    image = np.asarray(Image.open(write_rgb_image(tmp_path / "d.png", 64, 64, seed=4)))
    ours = Predictor.open(detector_fp32.folder, confidence_threshold=0.9).predict(image)
    # f32 inference, as our predictor: box regressions in bf16 move boxes by pixels on a 64 px image.
    adapter = OpenvinoAdapter(ov.Core(), str(detector_fp32.model_path), device="CPU",
                              plugin_config={"INFERENCE_PRECISION_HINT": "f32"})
    model = Model.create_model(adapter, configuration={"confidence_threshold": 0.9})
    result = model(np.ascontiguousarray(image[:, :, ::-1]))
    assert len(result.bboxes) > 0 and set(result.label_names) <= {"cat", "hot_dog"}
    ours_boxes = np.array([[x, y, x + w, y + h] for x, y, w, h in (obj.box for obj in ours.objects)])
    # model_api rounds boxes to whole pixels and may drop a few in its own NMS; each must be one of ours.
    for box, label in zip(result.bboxes, result.labels, strict=True):
        distances = np.abs(ours_boxes - box).max(axis=1)
        closest = int(np.argmin(distances))
        assert distances[closest] <= 1.0 and ours.objects[closest].label.index == int(label)


def test_variant_json_is_plain_json(detector_onnx: ExportedVariant) -> None:
    content = json.loads((detector_onnx.folder / "variant.json").read_text())
    assert content["output_names"] == ["boxes", "labels"] and content["dynamic_batch"] is False
    assert content["input_scaling"] == "unit" and content["precision"] == "fp32"
