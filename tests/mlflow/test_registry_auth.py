"""MLflow's client authenticates with modelyard's tokens (`MLFLOW_TRACKING_TOKEN` is sent as a bearer token) and
gets the native API's answers: no token 401, a read token may read and not write, in MLflow's error format."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from modelyard.config import Settings
from modelyard.sdk import Client
from tests.conftest import TEST_JOB_MODULES
from tests.mlflow.test_registry import rest_error
from tests.server import ServerProcess


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    folder = tmp_path_factory.mktemp("mlflow-secured")
    settings = Settings(data_dir=folder / "data", job_modules=TEST_JOB_MODULES, log_level="warning")
    with Client(settings=settings) as local:  # the first token turns authentication on
        admin = local.tokens.create("mlflow-admin", "admin").secret
    with Client(settings=settings, token=admin) as local:
        secrets = {scope: local.tokens.create(f"mlflow-{scope}", scope).secret for scope in ("read", "write")}
    process = ServerProcess(settings, folder / "server.log")
    process.start()
    try:
        yield process.url, secrets
    finally:
        process.stop()


def client_with(url: str, token: str | None, monkeypatch: pytest.MonkeyPatch) -> Any:
    from mlflow import MlflowClient

    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    if token is None:
        monkeypatch.delenv("MLFLOW_TRACKING_TOKEN", raising=False)
    else:
        monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", token)
    return MlflowClient(tracking_uri=url, registry_uri=url)


def test_without_a_token_every_call_is_unauthenticated(secured: tuple[str, dict[str, str]]) -> None:
    url, _ = secured
    answer = httpx.get(f"{url}/api/2.0/mlflow/registered-models/search")
    assert (answer.status_code, answer.json()["error_code"]) == (401, "UNAUTHENTICATED")


def test_a_write_token_registers_and_a_read_token_only_reads(
    secured: tuple[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, secrets = secured
    writer = client_with(url, secrets["write"], monkeypatch)
    writer.create_registered_model("guarded")
    writer.create_model_version("guarded", "s3://bucket/m")
    reader = client_with(url, secrets["read"], monkeypatch)
    assert reader.get_model_version("guarded", "1").version == "1"
    refused = rest_error(lambda: reader.create_model_version("guarded", "s3://bucket/m"))
    assert (refused.error_code, "needs a token with the write scope" in refused.message) == ("PERMISSION_DENIED", True)
