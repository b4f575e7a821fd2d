"""One real `modelyard serve` per test module, driven by MLflow's own client over loopback."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from modelyard.config import Settings
from modelyard.sdk import Client
from tests.conftest import TEST_JOB_MODULES
from tests.server import ServerProcess


@dataclass
class MlflowServer:
    url: str
    data_dir: Path
    process: ServerProcess

    def sdk(self) -> Client:
        return Client(base_url=self.url)


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    folder = tmp_path_factory.mktemp("mlflow-server")
    settings = Settings(data_dir=folder / "data", job_modules=TEST_JOB_MODULES, log_level="warning")
    process = ServerProcess(settings, folder / "server.log")
    process.start()
    try:
        yield MlflowServer(process.url, settings.data_dir, process)
    finally:
        process.stop()


@pytest.fixture(scope="module")
def mlflow_client(mlflow_server: MlflowServer) -> object:
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=mlflow_server.url, registry_uri=mlflow_server.url)


@pytest.fixture(scope="module", autouse=True)
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    """MLflow's client settings for tests: no retries (an error answers at once), no telemetry."""
    patch = pytest.MonkeyPatch()
    patch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    patch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    patch.setenv("DO_NOT_TRACK", "true")
    yield patch
    patch.undo()
