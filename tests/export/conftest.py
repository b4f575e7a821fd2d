"""Session-wide tiny checkpoints and exports, shared because each export costs seconds on two cores."""

from __future__ import annotations

from pathlib import Path

import pytest
from export_factories import make_checkpoint

from modelyard.export import ExportedVariant, export_onnx, export_openvino


@pytest.fixture(scope="session")
def classifier_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_checkpoint(tmp_path_factory.mktemp("classifier"), "multiclass_classification")


@pytest.fixture(scope="session")
def multilabel_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_checkpoint(tmp_path_factory.mktemp("multilabel"), "multilabel_classification")


@pytest.fixture(scope="session")
def detector_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_checkpoint(tmp_path_factory.mktemp("detector"), "detection")


@pytest.fixture(scope="session")
def classifier_fp32(classifier_checkpoint: Path) -> ExportedVariant:
    return export_openvino(classifier_checkpoint, classifier_checkpoint.parent / "openvino_fp32", "fp32")


@pytest.fixture(scope="session")
def classifier_fp16(classifier_checkpoint: Path) -> ExportedVariant:
    return export_openvino(classifier_checkpoint, classifier_checkpoint.parent / "openvino_fp16")


@pytest.fixture(scope="session")
def classifier_onnx(classifier_checkpoint: Path) -> ExportedVariant:
    return export_onnx(classifier_checkpoint, classifier_checkpoint.parent / "onnx_fp32")


@pytest.fixture(scope="session")
def multilabel_fp32(multilabel_checkpoint: Path) -> ExportedVariant:
    return export_openvino(multilabel_checkpoint, multilabel_checkpoint.parent / "openvino_fp32", "fp32")


@pytest.fixture(scope="session")
def detector_fp32(detector_checkpoint: Path) -> ExportedVariant:
    return export_openvino(detector_checkpoint, detector_checkpoint.parent / "openvino_fp32", "fp32")


@pytest.fixture(scope="session")
def detector_onnx(detector_checkpoint: Path) -> ExportedVariant:
    return export_onnx(detector_checkpoint, detector_checkpoint.parent / "onnx_fp32")
