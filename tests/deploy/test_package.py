"""Deployment packages: predict.py runs without modelyard and predicts what the inference predictor predicts."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from modelyard.deploy import build_deployment_package
from modelyard.export import ExportedVariant
from modelyard.inference import Predictor
from tests.export.factories import write_rgb_image
from tests.packages import run_deployment_package


@pytest.mark.parametrize("variant", ["classifier_fp16", "detector_fp32"])
def test_package_predictions_equal_the_predictor(variant: str, request: pytest.FixtureRequest,
                                                tmp_path: Path) -> None:
    exported: ExportedVariant = request.getfixturevalue(variant)
    package = build_deployment_package(exported.folder, tmp_path / "package.zip")
    assert package.members == ["README.md", "config.json", "model.bin", "model.xml", "predict.py",
                               "requirements.txt"]
    images = [write_rgb_image(tmp_path / f"{seed}.png", 90, 70, seed) for seed in range(2)]
    printed = run_deployment_package(package.path, tmp_path / "unpacked", images)
    predictor = Predictor.open(exported.folder)
    for output, image in zip(printed, images, strict=True):
        expected = predictor.predict(image)
        assert (output["width"], output["height"]) == (90, 70)
        if exported.metadata.classification_outputs:
            assert [label["index"] for label in output["labels"]] == [label.index for label in expected.labels]
            assert np.allclose(output["scores"], expected.scores, atol=1e-4)
        else:
            assert [obj["label"]["index"] for obj in output["objects"]] == [obj.label.index for obj in expected.objects]
            assert len(output["objects"]) > 0
            for printed_object, expected_object in zip(output["objects"], expected.objects, strict=True):
                assert np.allclose(printed_object["box"], expected_object.box, atol=1e-3)
                assert abs(printed_object["label"]["score"] - expected_object.label.score) < 1e-4


def test_package_readme_and_requirements_describe_the_model(classifier_fp16: ExportedVariant, tmp_path: Path) -> None:
    package = build_deployment_package(classifier_fp16.folder, tmp_path / "package.zip")
    with zipfile.ZipFile(package.path) as archive:
        readme = archive.read("README.md").decode()
        requirements = archive.read("requirements.txt").decode().split()
        config = json.loads(archive.read("config.json"))
    assert "| 1 | hot dog | label-dog |" in readme and "python predict.py" in readme
    assert [line.split(">=")[0] for line in requirements] == ["openvino", "numpy", "pillow"]
    assert config["labels"][1] == {"index": 1, "id": "label-dog", "name": "hot dog"}
    assert config["input"]["mean"] == [0.485, 0.456, 0.406]
