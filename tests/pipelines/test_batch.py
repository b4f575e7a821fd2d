"""The batch prediction job: a folder of images through the pipeline's current variant."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from modelyard.sdk import Client
from modelyard.sdk.errors import ApiError
from tests.pipelines.factories import ServedModel
from tests.waiting import JOB_CEILING_SECONDS


def test_batch_job_writes_the_pipelines_predictions_for_a_folder(running_app_client: Client,
                                                                 served_running: ServedModel,
                                                                 tmp_path: Path) -> None:  # fmt: skip
    client, served = running_app_client, served_running
    folder = tmp_path / "incoming"
    folder.mkdir()
    for image in served.images:
        shutil.copy(image, folder / image.name)
    (folder / "readme.txt").write_text("not an image, not predicted")
    client.pipelines.enable(served.project, served.revision_id, confidence_threshold=0.4)
    online = {p.file: p for p in client.pipelines.predict(served.project, served.images).predictions}

    job = client.pipelines.batch_predict(served.project, folder, tmp_path / "results")
    assert (job.type, job.project_id) == ("pipeline.batch_predict", served.project_id)
    done = client.jobs.wait(job.id, timeout=JOB_CEILING_SECONDS, interval=0.1)

    assert done.status == "succeeded", done.error
    assert done.result is not None
    assert (done.result["count"], done.result["variant"], done.result["confidence_threshold"]) == (
        4, "openvino-fp16", 0.4)
    assert done.result["coco_results_path"] is None  # a classifier
    written = json.loads(Path(done.result["predictions_path"]).read_text())
    assert written["confidence_threshold"] == 0.4
    assert [image["file_name"] for image in written["images"]] == sorted(online)
    for image in written["images"]:
        expected = online[image["file_name"]]
        assert [label["index"] for label in image["labels"]] == [label.index for label in expected.labels]
        assert np.allclose(image["scores"], expected.scores, atol=1e-6)


def test_batch_needs_an_enabled_pipeline_and_an_existing_input_folder(running_app_client: Client,
                                                                      served_running: ServedModel,
                                                                      tmp_path: Path) -> None:  # fmt: skip
    client, served = running_app_client, served_running
    with pytest.raises(ApiError) as disabled:
        client.pipelines.batch_predict(served.project, tmp_path, tmp_path / "out")
    assert (disabled.value.status, disabled.value.code) == (409, "pipeline_disabled")

    client.pipelines.enable(served.project, served.revision_id)
    with pytest.raises(ApiError) as missing:
        client.pipelines.batch_predict(served.project, tmp_path / "nowhere", tmp_path / "out")
    assert missing.value.status == 400 and "does not exist" in missing.value.detail
    with pytest.raises(ApiError) as relative:
        client.pipelines.batch_predict(served.project, "incoming", tmp_path / "out")
    assert relative.value.status == 400 and "absolute" in relative.value.detail
