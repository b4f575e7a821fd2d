"""The domains that move files, on an S3 bucket instead of the data directory: a reduced set of the dataset,
training, export, evaluation and registry tests (one walk through them, plus a dataset export), and a server
killed after uploading. The rest of those tests run on the data directory only; the store's own contract runs on
both (test_stores.py).

Each job process reads its inputs through the store (images, the dataset revision's Parquet and the weights
come from the verified local cache) and writes its outputs to the bucket; nothing is read back from the
server's data directory.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from modelyard.config import Settings
from modelyard.context import AppContext
from modelyard.db.engine import transaction
from modelyard.sdk import Client
from modelyard.storage.models import StoredFile
from modelyard.storage.s3 import S3ArtifactStore
from modelyard.storage.sweep import sweep
from tests.databases import on_one_database
from tests.revisions.factories import classification_project
from tests.storage.crash import in_background, restart, server_paused_at
from tests.storages import STORAGES
from tests.waiting import JOB_CEILING_SECONDS

pytestmark = [
    pytest.mark.skipif("s3" not in STORAGES, reason="S3 is not among MODELYARD_TEST_STORAGES"),
    pytest.mark.parametrize("storage", ["s3"], indirect=True),
    on_one_database("sqlite"),
]

REVISION_FILES = {"model.pt", "training_metrics.json", "training.log", "hyperparameters.yaml"}


def _bucket(settings: Settings) -> tuple[set[str], set[str], list[str]]:
    """(contents in the bucket, contents the records name, pins left)."""
    context = AppContext(settings)
    try:
        store = context.store
        assert isinstance(store, S3ArtifactStore)
        with transaction(context.db.read_sessions) as session:
            recorded = {record.sha256 for record in session.query(StoredFile)}
        stored = {blob.name.rsplit("/", 1)[-1] for blob in store.list_blobs()}
        return stored, recorded, [pin.name for pin in store.list_pins()]
    finally:
        context.close()


def test_a_model_trains_exports_evaluates_and_registers_with_its_files_on_s3(
    running_client: Client, settings: Settings, tmp_path: Path
) -> None:
    project = classification_project(running_client, tmp_path / "images")
    job = running_client.models.train(project, "mobilenet_v3_small", base="scratch",
                                      overrides={"epochs": 1, "batch_size": 4, "warmup_epochs": 0})  # fmt: skip
    trained = running_client.jobs.wait(job.id, timeout=JOB_CEILING_SECONDS)
    assert trained.status == "succeeded", trained.error
    revision = running_client.models.get(trained.result["revision_id"])
    folder = f"projects/{revision.project_id}/models/{revision.id}/"
    keys = {file.key.removeprefix(folder) for file in running_client.files.list(prefix=folder, limit=1000).items}
    assert REVISION_FILES <= keys and {"openvino-fp16/model.xml", "onnx-fp32/model.onnx"} <= keys
    assert {e.variant for e in running_client.models.evaluations(revision.id)} == {
        "pytorch-fp32", "openvino-fp16", "onnx-fp32"}
    assert not (settings.data_dir / "projects").exists()  # every file went to the bucket

    version = running_client.registry.register("colors", revision_id=revision.id, create_model=True)
    weights = running_client.registry.download_file(f"colors/{version.number}", "model.pt", tmp_path / "w.pt")
    assert weights.read_bytes() == running_client.files.download(folder + "model.pt", tmp_path / "r.pt").read_bytes()
    stored, recorded, pins = _bucket(settings)
    assert stored == recorded and pins == []  # the registered weights are the revision's bytes, stored once


def test_a_dataset_export_reads_its_images_from_the_bucket(running_client: Client, tmp_path: Path) -> None:
    project = classification_project(running_client, tmp_path / "images", per_label=2)
    job = running_client.jobs.wait(running_client.datasets.export(project, "imagenet").id, timeout=JOB_CEILING_SECONDS)
    assert job.status == "succeeded", job.error
    archive = running_client.datasets.download_export(project, job.id, tmp_path / "export.zip")
    with zipfile.ZipFile(archive) as bundle:
        assert sum(name.endswith(".png") for name in bundle.namelist()) == 4


def test_a_server_killed_after_uploading_leaves_nothing_once_swept(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    weights = tmp_path / "model.pt"
    weights.write_bytes(b"weights of a registration that never committed" * 1000)
    with server_paused_at("files.staged", settings, tmp_path, monkeypatch) as (server, kill_when_paused), \
            Client(server.url) as remote:
        in_background(lambda: remote.registry.register("m", create_model=True, files=[weights]))
        kill_when_paused()
    stored, recorded, pins = _bucket(settings)
    assert len(stored - recorded) == 1 and len(pins) == 1  # uploaded and pinned, never committed
    assert restart(settings).pins_removed == 1  # the pin's writer is gone
    context = AppContext(settings)
    try:
        assert sweep(context.db, context.store, grace_seconds=0).orphan_blobs_removed == 1
    finally:
        context.close()
    stored, recorded, pins = _bucket(settings)
    assert stored == recorded and pins == []
