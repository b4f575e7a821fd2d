"""The generic jobs endpoint starts only the job types meant for people; a job's cleanup removes only what
that job created (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest

from modelyard.config import Settings
from modelyard.context import AppContext
from modelyard.datasets.jobs import cleanup_import
from modelyard.datasets.schemas import ImportParams
from modelyard.errors import InvalidInput
from modelyard.jobs.context import CleanupContext
from modelyard.jobs.registry import BUILTIN_JOB_MODULES, JobType, JobTypeRegistry, build_params
from modelyard.sdk import Client
from tests.jobs.sample_jobs import CountParams, count

WEIGHTS = b"registered weights " * 100
PUBLIC_BUILTINS = ["storage.gc", "storage.verify"]
DOMAIN_BUILTINS = [
    "dataset.export", "dataset.import", "pipeline.batch_predict", "revision.evaluate", "revision.export",
    "revision.optimize", "revision.train",
]  # fmt: skip


def _registered_file(client: Client, tmp_path: Path) -> str:
    """A registered model with one file; returns that file's storage key."""
    weights = tmp_path / "model.pt"
    weights.write_bytes(WEIGHTS)
    client.registry.register("m", files=[weights], create_model=True)
    version = client._http.get("/registry/models/m/versions/1").json()
    keys = [item["key"] for item in client._http.get("/files", params={"limit": 1000}).json()["items"]]
    (key,) = [key for key in keys if key.endswith("/model.pt")]
    assert version["files"][0]["name"] == "model.pt"
    return key


def _downloads_intact(client: Client, tmp_path: Path) -> bool:
    target = client.registry.download_file("m/1", "model.pt", tmp_path / "downloaded.pt")
    return hashlib.sha256(target.read_bytes()).hexdigest() == hashlib.sha256(WEIGHTS).hexdigest()


def test_a_dataset_import_through_the_jobs_endpoint_is_refused_and_the_file_survives(
    running_client: Client, tmp_path: Path
) -> None:
    key = _registered_file(running_client, tmp_path)
    body = {"type": "dataset.import", "params": {"archive_key": key, "format": "coco",
                                                 "new_project": {"name": "x", "task_type": "detection"}}}  # fmt: skip
    response = running_client._http.post("/jobs", json=body)
    assert (response.status_code, response.json()["code"]) == (400, "job_type_not_submittable")
    assert "POST /api/v1/dataset-imports" in response.json()["detail"]
    assert running_client.jobs.list().items == []
    assert _downloads_intact(running_client, tmp_path)


@pytest.mark.parametrize("job_type", DOMAIN_BUILTINS)
def test_every_domain_job_is_refused_by_the_jobs_endpoint_naming_its_own(client: Client, job_type: str) -> None:
    response = client._http.post("/jobs", json={"type": job_type, "params": {}})
    assert (response.status_code, response.json()["code"]) == (400, "job_type_not_submittable")
    assert "start it with POST /api/v1/" in response.json()["detail"]


def test_job_types_say_which_the_jobs_endpoint_takes(client: Client) -> None:
    types = {row["name"]: row["public"] for row in client._http.get("/jobs/types").json()}
    assert sorted(name for name, public in types.items() if public and not name.startswith("test.")) == (
        PUBLIC_BUILTINS
    )
    assert not any(types[name] for name in DOMAIN_BUILTINS)


def test_every_public_builtin_forbids_extra_params() -> None:
    registry = JobTypeRegistry.from_modules(BUILTIN_JOB_MODULES)
    assert registry.public_names() == PUBLIC_BUILTINS


def test_a_public_job_type_without_a_strict_parameter_model_cannot_be_registered() -> None:
    with pytest.raises(ValueError, match="needs a params_model with extra='forbid'"):
        JobType("loose", count, public=True)
    loose = type("Loose", (CountParams,), {"model_config": {"extra": "ignore"}})
    with pytest.raises(ValueError, match="needs a params_model"):
        JobType("loose", count, params_model=loose, public=True)


def test_an_import_reads_only_an_archive_uploaded_for_it() -> None:
    with pytest.raises(InvalidInput, match="archive_key"):
        build_params(ImportParams, "dataset.import", archive_key="registry/versions/v1/model.pt", format="coco",
                     new_project={"name": "x", "task_type": "detection"})  # fmt: skip


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_failed_import_removes_its_own_upload_and_nothing_else(
    running_client: Client, settings: Settings, tmp_path: Path
) -> None:
    _registered_file(running_client, tmp_path)
    before = {item["key"] for item in running_client._http.get("/files", params={"limit": 1000}).json()["items"]}
    archive = tmp_path / "broken.zip"
    archive.write_bytes(_zip({"annotations/instances_default.json": b"{not json"}))
    job = running_client.datasets.import_(archive, "coco", new_project="x", task_type="detection")
    assert job.params["archive_key"].startswith("dataset_imports/")
    done = running_client.jobs.wait(job.id, timeout=120)
    assert done.status == "failed", done
    assert "not a readable coco dataset" in (done.error or "") and str(settings.data_dir) not in (done.error or "")
    after = {item["key"] for item in running_client._http.get("/files", params={"limit": 1000}).json()["items"]}
    assert after == before
    assert _downloads_intact(running_client, tmp_path)


def test_cleanup_of_an_import_recorded_with_a_foreign_key_leaves_that_file(
    client: Client, settings: Settings, tmp_path: Path
) -> None:
    # A job recorded before imports were limited to their own uploads: its cleanup must not remove the file.
    key = _registered_file(client, tmp_path)
    context = AppContext(settings)
    try:
        cleanup_import(CleanupContext("j1", None, {"archive_key": key, "format": "coco"}, settings, context.db,
                                      context.store, reason="error"))  # fmt: skip
    finally:
        context.close()
    assert _downloads_intact(client, tmp_path)
