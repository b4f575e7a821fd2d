"""Training as a user drives it: real jobs in worker processes, real PyTorch, tiny data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from modelyard.config import Settings
from modelyard.revisions.schemas import ModelRevisionRead
from modelyard.sdk import ApiError, Client, Job
from tests.databases import on_one_database
from tests.revisions.factories import classification_project, detection_project
from tests.waiting import JOB_CEILING_SECONDS

FAST = {"epochs": 2, "batch_size": 4, "warmup_epochs": 0, "early_stopping_patience": 0}
REVISION_FILES = {"model.pt", "training_metrics.json", "training.log", "hyperparameters.yaml"}


def _train(client: Client, project: str, **kwargs: Any) -> tuple[Job, ModelRevisionRead | None]:
    job = client.models.train(project, kwargs.pop("architecture", "mobilenet_v3_small"), **kwargs)
    done = client.jobs.wait(job.id, timeout=JOB_CEILING_SECONDS)
    return done, (client.models.get(done.result["revision_id"]) if done.status == "succeeded" else None)


@on_one_database("sqlite")
def test_classification_trains_to_a_self_describing_revision(
    running_client: Client, settings: Settings, tmp_path: Path
) -> None:
    project = classification_project(running_client, tmp_path / "images")
    job, revision = _train(running_client, project, base="scratch", overrides=FAST)
    assert job.status == "succeeded", job.error
    assert (revision.status, revision.weights_status, revision.base) == ("succeeded", "available", "scratch")
    assert revision.metric_name == "accuracy" and 0.0 <= revision.best_metric <= 1.0
    assert revision.epochs_trained == 2 and revision.best_epoch in (1, 2)
    assert [label.name for label in revision.labels] == ["red", "blue"]
    assert revision.training_device == "cpu"
    assert revision.configuration["epochs"] == 2 and revision.configuration["learning_rate"] == 0.001
    folder = settings.data_dir / "projects" / revision.project_id / "models" / revision.id
    assert {path.name for path in folder.iterdir() if path.is_file()} == REVISION_FILES
    assert {path.name for path in folder.iterdir() if path.is_dir()} == {"openvino-fp16", "onnx-fp32", "evaluations"}
    assert {path.name for path in (folder / "openvino-fp16").iterdir()} == {
        "model.xml", "model.bin", "variant.json", "files.json"}
    metrics = running_client.models.metrics(revision.id)
    assert [record["epoch"] for record in metrics] == [1, 2]
    assert metrics == running_client.jobs.metrics(job.id)  # the job's records are the revision's curves
    sizes = [stored.size_bytes for stored in running_client.models.variants(revision.id)]
    variants_bytes = sum(sizes)
    assert running_client.models.get(revision.id).size_bytes == variants_bytes > 0
    assert [row.size_bytes for row in running_client.models.list(project).items] == [variants_bytes]
    assert all(record["metric_name"] == "accuracy" for record in metrics)
    log = running_client.models.log(revision.id)
    assert "epoch 2: train loss" in log and "training from scratch" in log
    stored = yaml.safe_load((folder / "hyperparameters.yaml").read_text())
    assert stored["architecture"] == "mobilenet_v3_small" and stored["hyperparameters"]["batch_size"] == 4

    from modelyard.training.checkpoint import load_model

    loaded = load_model(folder / "model.pt")
    assert loaded.architecture_id == "mobilenet_v3_small"
    assert [label.name for label in loaded.labels] == ["red", "blue"]

    # Fine-tune it after adding a label: the parent is recorded and the head is rebuilt.
    running_client.projects.add_label(project, "green")
    item = running_client.datasets.upload(project, [_green(tmp_path)]).created[0]
    running_client.datasets.annotate(project, item.id, labels=["green"])
    child_job, child = _train(running_client, project, base=revision.id, overrides={"epochs": 1, "batch_size": 4})
    assert child_job.status == "succeeded", child_job.error
    assert (child.parent_id, child.base, child.number) == (revision.id, "revision", 2)
    assert [label.name for label in child.labels] == ["red", "blue", "green"]
    child_log = running_client.models.log(child.id)
    assert "the head is rebuilt" in child_log
    assert f"hyperparameters from parent revision 1 ({revision.id}): " in child_log
    assert "overrides: batch_size=4, epochs=1" in child_log and "warmup_epochs=0" in child_log
    assert child.configuration["early_stopping_patience"] == 0  # the parent's, not the architecture's default
    lineage = running_client.models.lineage(child.id)
    assert [r.id for r in lineage.ancestors] == [revision.id]
    assert [r.id for r in running_client.models.lineage(revision.id).descendants] == [child.id]
    assert [r.number for r in running_client.models.list(project).items] == [2, 1]
    assert [r.id for r in running_client.models.list(project, parent=revision.id).items] == [child.id]
    assert running_client.models.rename(child.id, "with green").name == "with green"

    # The dataset revision a kept model was trained on keeps its files.
    with pytest.raises(ApiError) as caught:
        running_client.datasets.delete_revision_files(project, revision.dataset_revision_id)
    assert caught.value.status == 409 and "was trained on it" in caught.value.detail


@on_one_database("sqlite")
def test_without_a_testing_subset_training_and_int8_say_why_nothing_was_evaluated(
    running_client: Client, tmp_path: Path
) -> None:
    project = classification_project(running_client, tmp_path / "images", per_label=3)
    for index, item in enumerate(running_client.datasets.iterate_items(project)):
        running_client.datasets.update_item(project, item.id, subset="validation" if index % 3 == 0 else "training")
    job, revision = _train(running_client, project, base="scratch", overrides={**FAST, "epochs": 1})
    assert job.status == "succeeded", job.error
    skipped = job.result["evaluations_skipped"]
    assert set(skipped) == {"pytorch-fp32", "openvino-fp16", "onnx-fp32"}
    assert "has no testing items" in skipped["openvino-fp16"] and "--subset validation" in skipped["openvino-fp16"]
    assert running_client.models.evaluations(revision.id) == []
    log = running_client.jobs.logs(job.id)  # the variants come after the revision's training.log is stored
    assert "not evaluated (pytorch-fp32, openvino-fp16, onnx-fp32): dataset revision 1" in log

    optimized = running_client.jobs.wait(running_client.models.optimize(revision.id).id, timeout=JOB_CEILING_SECONDS)
    assert optimized.status == "succeeded", optimized.error
    assert optimized.result["evaluation_id"] is None
    assert "has no testing items" in optimized.result["evaluation_skipped"]
    assert "no evaluation of openvino-int8 on the testing subset" in running_client.jobs.logs(optimized.id)


def _green(tmp_path: Path) -> Path:
    from tests.revisions.factories import color_image

    return color_image(tmp_path / "green-0.png", "green", seed=5)


@on_one_database("postgresql")
def test_detection_trains_and_reports_map(running_client: Client, tmp_path: Path) -> None:
    project = detection_project(running_client, tmp_path / "shapes")
    job, revision = _train(running_client, project, architecture="ssdlite320_mobilenet_v3_large", base="scratch",
                           overrides={"epochs": 1, "batch_size": 4, "warmup_epochs": 0})  # fmt: skip
    assert job.status == "succeeded", job.error
    assert revision.metric_name == "map" or revision.metric_name.startswith("map")
    assert 0.0 <= revision.best_metric <= 1.0
    assert [label.name for label in revision.labels] == ["square", "circle"]


def test_out_of_bound_overrides_are_a_400_naming_field_and_bound(client: Client, tmp_path: Path) -> None:
    project = classification_project(client, tmp_path / "images", per_label=2)
    with pytest.raises(ApiError) as caught:
        client.models.train(project, "mobilenet_v3_small", overrides={"learning_rate": 5})
    assert caught.value.status == 400
    assert caught.value.detail == "learning_rate must be <= 0.1, got 5"
    with pytest.raises(ApiError) as caught:
        client.models.train(project, "ssdlite320_mobilenet_v3_large")
    assert caught.value.status == 400 and "not multiclass_classification" in caught.value.detail
    assert client.jobs.list().items == []


def test_stored_configuration_is_the_default_of_later_trainings(client: Client, tmp_path: Path) -> None:
    project = classification_project(client, tmp_path / "images", per_label=2)
    configured = client.models.configure(
        project, "resnet18", {"epochs": 3, "augmentations": {"horizontal_flip": False}}
    )
    assert configured.hyperparameters["epochs"] == 3
    assert configured.hyperparameters["augmentations"]["horizontal_flip"] is False
    job = client.models.train(project, "resnet18", overrides={"batch_size": 2}, base="scratch")
    assert job.params["hyperparameters"]["epochs"] == 3
    assert job.params["hyperparameters"]["batch_size"] == 2
    with pytest.raises(ApiError) as caught:
        client.models.configure(project, "resnet18", {"epochs": 0})
    assert caught.value.status == 400 and "epochs" in caught.value.detail
    assert client.models.configuration(project, "resnet18").overrides["epochs"] == 3


def test_training_needing_unavailable_weights_fails_at_once_saying_how_to_import(
    running_client: Client, settings: Settings, tmp_path: Path
) -> None:
    _offline_manifest(settings, "offline_net", url="http://127.0.0.1:9/weights.pth", sha256="0" * 64)
    project = classification_project(running_client, tmp_path / "images", per_label=2)
    job = running_client.models.train(project, "offline_net", overrides=FAST)
    done = running_client.jobs.wait(job.id, timeout=JOB_CEILING_SECONDS)
    assert done.status == "failed"
    assert "modelyard weights import offline_net FILE" in done.error
    assert running_client.models.list(project).items == []


@on_one_database("postgresql")
def test_pretrained_weights_are_downloaded_once_verified_and_cached(
    running_client: Client, settings: Settings, tmp_path: Path
) -> None:
    import hashlib
    import http.server
    import threading

    import torch
    import torchvision

    weights = tmp_path / "served" / "net.pth"
    weights.parent.mkdir()
    torch.save(torchvision.models.mobilenet_v3_small().state_dict(), weights)
    handler = lambda *args: http.server.SimpleHTTPRequestHandler(*args, directory=str(weights.parent))  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/net.pth"
        _offline_manifest(settings, "served_net", url=url, sha256=hashlib.sha256(weights.read_bytes()).hexdigest())
        project = classification_project(running_client, tmp_path / "images", per_label=2)
        job, revision = _train(running_client, project, architecture="served_net", base="pretrained",
                               overrides={"epochs": 1, "batch_size": 2})  # fmt: skip
    finally:
        server.shutdown()
    assert job.status == "succeeded", job.error
    cached = settings.data_dir / "pretrained_weights" / "classification" / "served_net" / "weights.pt"
    assert cached.read_bytes() == weights.read_bytes()
    assert "pretrained weights:" in running_client.models.log(revision.id)
    assert [w.architecture_id for w in running_client.architectures.cached_weights()] == ["served_net"]


def test_cancelled_training_leaves_a_cancelled_revision_without_files(
    running_client: Client, settings: Settings, tmp_path: Path
) -> None:
    import time

    project = classification_project(running_client, tmp_path / "images", per_label=4)
    slow = {"epochs": 200, "batch_size": 2, "early_stopping_patience": 0}
    job = running_client.models.train(project, "mobilenet_v3_small", base="scratch", overrides=slow)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not running_client.jobs.get(job.id).step.startswith("training epoch"):
        time.sleep(0.2)
    running_client.jobs.cancel(job.id)
    done = running_client.jobs.wait(job.id, timeout=JOB_CEILING_SECONDS)
    assert done.status == "cancelled"
    revision = running_client.models.list(project).items[0]
    assert (revision.status, revision.reason, revision.weights_status) == ("cancelled", "cancelled", "none")
    assert not (settings.data_dir / "projects" / revision.project_id / "models" / revision.id).exists()


def _offline_manifest(settings: Settings, architecture_id: str, *, url: str, sha256: str) -> None:
    source = Path(__file__).parents[2] / "src/modelyard/architectures/manifests/classification/mobilenet_v3_small.yaml"
    manifest = yaml.safe_load(source.read_text())
    manifest.update(id=architecture_id, pretrained_weights={"url": url, "file_name": "w.pth", "sha256": sha256})
    folder = settings.data_dir / "model_manifests" / "classification"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{architecture_id}.yaml").write_text(yaml.safe_dump(manifest))
