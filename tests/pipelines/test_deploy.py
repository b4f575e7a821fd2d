"""Deployment packages over HTTP: the downloaded zip predicts, without modelyard, what the pipeline predicts."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest

from modelyard.sdk import Client
from modelyard.sdk.errors import ApiError
from tests.packages import run_deployment_package
from tests.pipelines.factories import ServedModel


def test_downloaded_package_predicts_what_the_pipeline_predicts(app_client: Client, served: ServedModel,
                                                               tmp_path: Path) -> None:  # fmt: skip
    app_client.pipelines.enable(served.project, served.revision_id, "openvino-fp16")
    served_predictions = app_client.pipelines.predict(served.project, served.images).predictions

    package = app_client.pipelines.deploy(served.revision_id, "openvino-fp16", tmp_path / "out" / "model.zip")

    assert package == tmp_path / "out" / "model.zip" and not (tmp_path / "out" / "model.zip.part").exists()
    with zipfile.ZipFile(package) as archive:
        assert sorted(archive.namelist()) == ["README.md", "config.json", "model.bin", "model.xml", "predict.py",
                                              "requirements.txt"]  # fmt: skip
    printed = run_deployment_package(package, tmp_path / "unpacked", served.images)
    for output, expected in zip(printed, served_predictions, strict=True):
        assert (output["width"], output["height"]) == (expected.width, expected.height)
        assert [label["index"] for label in output["labels"]] == [label.index for label in expected.labels]
        assert np.allclose(output["scores"], expected.scores, atol=1e-4)


def test_package_leaves_no_scratch_files_and_refuses_pytorch(app_client: Client, served: ServedModel,
                                                            tmp_path: Path) -> None:  # fmt: skip
    app_client.pipelines.deploy(served.revision_id, "openvino-fp16", tmp_path / "model.zip")
    scratch = app_client.app.state.context.store.tmp  # type: ignore[attr-defined]
    assert [path.name for path in scratch.iterdir() if path.name.startswith("package-")] == []

    with pytest.raises(ApiError) as error:
        app_client.pipelines.deploy(served.revision_id, "pytorch-fp32", tmp_path / "torch.zip")
    assert error.value.status == 409 and "OpenVINO or ONNX variant" in error.value.detail
    assert not (tmp_path / "torch.zip").exists() and not (tmp_path / "torch.zip.part").exists()

    with pytest.raises(ApiError) as missing:
        app_client.pipelines.deploy("nope", "openvino-fp16", tmp_path / "nope.zip")
    assert missing.value.status == 404
