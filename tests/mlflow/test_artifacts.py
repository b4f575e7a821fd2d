"""The artifact proxy with MLflow's own client against a real `modelyard serve`: a model folder logged with
`mlflow.log_artifacts`, listed and downloaded byte for byte, recorded with its sha256 and stored once, deleted,
registered from `runs:/` and downloaded again through `models:/name@alias`."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.mlflow.conftest import MlflowServer

PROXY = "/api/2.0/mlflow-artifacts/artifacts"
MODEL_FILES = {
    "MLmodel": b"artifact_path: deployment_model\nflavors: {}\n",
    "model.bin": bytes(range(256)) * 2048,
    "labels/names.txt": b"red\nblue\n",
}


@pytest.fixture(scope="module")
def mlflow(mlflow_server: MlflowServer, mlflow_client: Any) -> Iterator[Any]:
    """The fluent API on the server (after `mlflow_client`, which sets the client's environment for tests)."""
    import mlflow as fluent

    previous = fluent.get_tracking_uri()
    fluent.set_tracking_uri(mlflow_server.url)
    fluent.set_registry_uri(mlflow_server.url)
    yield fluent
    fluent.set_tracking_uri(previous)


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("model")
    for name, content in MODEL_FILES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    return folder


@pytest.fixture(scope="module")
def logged_run(mlflow: Any, model_folder: Path) -> str:
    mlflow.set_experiment("artifacts")
    with mlflow.start_run(run_name="with-model") as run:
        mlflow.log_param("architecture", "mobilenet_v3_small")
        mlflow.log_artifacts(str(model_folder), "deployment_model")
    return str(run.info.run_id)


def _tree(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


def test_a_logged_folder_is_listed_with_folders_and_sizes(mlflow_client: Any, logged_run: str) -> None:
    listed = mlflow_client.list_artifacts(logged_run, "deployment_model")
    assert [(entry.path, entry.is_dir, entry.file_size) for entry in listed] == [
        ("deployment_model/MLmodel", False, len(MODEL_FILES["MLmodel"])),
        ("deployment_model/labels", True, None),
        ("deployment_model/model.bin", False, len(MODEL_FILES["model.bin"])),
    ]


def test_a_logged_folder_downloads_with_identical_bytes(mlflow: Any, logged_run: str, tmp_path: Path) -> None:
    downloaded = mlflow.artifacts.download_artifacts(
        run_id=logged_run, artifact_path="deployment_model", dst_path=str(tmp_path)
    )
    assert _tree(Path(downloaded)) == MODEL_FILES


def test_a_json_file_larger_than_a_json_body_is_an_artifact_like_any_other(
    mlflow: Any, logged_run: str, tmp_path: Path
) -> None:
    # The proxy streams files into the store without parsing them: the JSON body limit is not theirs.
    report = tmp_path / "report.json"
    report.write_text("[" + ",".join(['{"loss": 0.125}'] * 150_000) + "]")
    assert report.stat().st_size > 2 * 1024 * 1024
    with mlflow.start_run(run_id=logged_run):
        mlflow.log_artifact(str(report), "reports")
    downloaded = mlflow.artifacts.download_artifacts(
        run_id=logged_run, artifact_path="reports/report.json", dst_path=str(tmp_path / "back")
    )
    assert Path(downloaded).read_bytes() == report.read_bytes()


def test_artifacts_are_recorded_with_their_sha256_and_the_same_bytes_stored_once(
    mlflow: Any, mlflow_client: Any, mlflow_server: MlflowServer, logged_run: str, model_folder: Path
) -> None:
    experiment_id = mlflow_client.get_run(logged_run).info.experiment_id
    with mlflow.start_run(run_name="same-bytes") as run:
        mlflow.log_artifact(str(model_folder / "model.bin"), "copy")
    url = f"{mlflow_server.url}{PROXY}/{experiment_id}/{run.info.run_id}/artifacts/copy/model.bin"
    response = httpx.get(url)
    assert response.headers["x-content-sha256"] == hashlib.sha256(MODEL_FILES["model.bin"]).hexdigest()
    blobs = [path for path in (mlflow_server.data_dir / ".blobs").rglob("*") if path.is_file()]
    assert sum(path.read_bytes() == MODEL_FILES["model.bin"] for path in blobs) == 1


def test_a_deleted_artifact_is_no_longer_listed(
    mlflow: Any, mlflow_client: Any, mlflow_server: MlflowServer, model_folder: Path
) -> None:
    with mlflow.start_run(run_name="deleting") as run:
        mlflow.log_artifacts(str(model_folder), "doomed")
    info = run.info
    url = f"{mlflow_server.url}{PROXY}/{info.experiment_id}/{info.run_id}/artifacts/doomed/labels"
    assert httpx.delete(url).status_code == 200
    assert [entry.path for entry in mlflow_client.list_artifacts(info.run_id, "doomed")] == [
        "doomed/MLmodel",
        "doomed/model.bin",
    ]


def test_a_path_outside_a_run_is_invalid_parameter_value(mlflow_server: MlflowServer) -> None:
    response = httpx.put(f"{mlflow_server.url}{PROXY}/1/run/elsewhere/x.bin", content=b"x")
    assert response.status_code == 400
    assert response.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_a_run_folder_registers_as_a_version_and_downloads_by_alias(
    mlflow: Any, mlflow_client: Any, mlflow_server: MlflowServer, logged_run: str, tmp_path: Path
) -> None:
    version = mlflow.register_model(f"runs:/{logged_run}/deployment_model", "colors-classifier")
    assert (version.version, version.run_id) == ("1", logged_run)
    mlflow_client.set_registered_model_alias("colors-classifier", "production", version.version)
    downloaded = _tree(
        Path(mlflow.artifacts.download_artifacts("models:/colors-classifier@production", dst_path=str(tmp_path)))
    )
    assert downloaded.pop("registered_model_meta").startswith(b"model_name: colors-classifier")  # the client's note
    assert downloaded == MODEL_FILES
    with mlflow_server.sdk() as sdk:
        files = sdk.registry.files("colors-classifier/1")
    assert sorted(file.name for file in files) == sorted(MODEL_FILES)
