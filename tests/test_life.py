"""The whole life of a model, as a user walks it: project -> dataset -> train -> variants -> evaluation ->
pipeline -> deployment package -> registry. Real jobs, real PyTorch and OpenVINO, tiny data."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from modelyard.config import Settings
from modelyard.sdk import Client
from tests.databases import on_one_database
from tests.packages import run_deployment_package
from tests.revisions.factories import detection_project
from tests.waiting import JOB_CEILING_SECONDS

THRESHOLD = 0.05


@on_one_database("sqlite")
def test_detection_model_from_images_to_deployment(running_client: Client, settings: Settings, tmp_path: Path) -> None:
    project = detection_project(running_client, tmp_path / "shapes", count=14)
    job = running_client.models.train(project, "ssdlite320_mobilenet_v3_large", base="scratch",
                                      overrides={"epochs": 1, "batch_size": 4, "warmup_epochs": 0})  # fmt: skip
    trained = running_client.jobs.wait(job.id, timeout=JOB_CEILING_SECONDS)
    assert trained.status == "succeeded", trained.error
    revision_id = trained.result["revision_id"]
    assert {v.name for v in running_client.models.variants(revision_id)} == {
        "pytorch-fp32",
        "openvino-fp16",
        "onnx-fp32",
    }
    evaluations = running_client.models.evaluations(revision_id)
    assert {e.variant for e in evaluations} == {"pytorch-fp32", "openvino-fp16", "onnx-fp32"}
    assert all(e.metric_name == "map" and "map_50" in e.metrics for e in evaluations)

    running_client.pipelines.enable(project, revision_id, variant="openvino-fp16", confidence_threshold=THRESHOLD)
    images = sorted((tmp_path / "shapes").glob("shape-*.png"))[:3]
    served = running_client.pipelines.predict(project, images).predictions
    assert [p.file for p in served] == [image.name for image in images]

    package = running_client.pipelines.deploy(revision_id, "openvino-fp16", tmp_path / "shapes.zip")
    packaged = run_deployment_package(package, tmp_path / "package", images, "--threshold", str(THRESHOLD))
    assert len(packaged) == len(served)
    for ours, theirs in zip(served, packaged, strict=True):
        assert [o.label.name for o in ours.objects] == [o["label"]["name"] for o in theirs["objects"]]
        if ours.objects:
            mine = np.array([o.box for o in ours.objects])
            other = np.array([o["box"] for o in theirs["objects"]])
            assert np.abs(mine - other).max() < 1e-3
            assert np.abs(np.array([o.label.score for o in ours.objects])
                          - np.array([o["label"]["score"] for o in theirs["objects"]])).max() < 1e-4  # fmt: skip

    version = running_client.registry.register("shapes-detector", revision_id=revision_id, create_model=True)
    assert version.number == 1 and version.source["revision_id"] == revision_id
    running_client.registry.set_alias("shapes-detector", "production", 1)
    assert running_client.registry.version("shapes-detector@production").number == 1
    module = running_client.registry.load("shapes-detector@production")
    import torch

    assert isinstance(module, torch.nn.Module) and not module.training
    with torch.no_grad():
        outputs = module([torch.rand(3, 64, 64)])
    assert set(outputs[0]) >= {"boxes", "scores", "labels"}
