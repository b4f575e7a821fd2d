"""Runs and the artifact proxy under tokens: MLflow's client sends `MLFLOW_TRACKING_TOKEN` as a bearer token; a
write token logs runs and artifacts, a read token reads and searches them and is refused every change."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.mlflow.test_registry import rest_error
from tests.mlflow.test_registry_auth import client_with, secured

__all__ = ["secured"]  # the module's server with tokens (a fixture)


def test_a_write_token_logs_a_run_with_an_artifact_and_a_read_token_reads_it_and_changes_nothing(
    secured: tuple[str, dict[str, str]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url, secrets = secured
    writer = client_with(url, secrets["write"], monkeypatch)
    experiment_id = writer.create_experiment("guarded-runs")
    run_id = writer.create_run(experiment_id, run_name="guarded").info.run_id
    writer.log_metric(run_id, "accuracy", 0.9)
    (tmp_path / "weights.bin").write_bytes(b"weights")
    writer.log_artifact(run_id, str(tmp_path / "weights.bin"))

    reader = client_with(url, secrets["read"], monkeypatch)
    assert [run.info.run_id for run in reader.search_runs([experiment_id])] == [run_id]
    assert [artifact.path for artifact in reader.list_artifacts(run_id)] == ["weights.bin"]
    refused = rest_error(lambda: reader.log_metric(run_id, "accuracy", 1.0))
    assert refused.error_code == "PERMISSION_DENIED"
    upload = f"{url}/api/2.0/mlflow-artifacts/artifacts/{experiment_id}/{run_id}/artifacts/other.bin"
    assert httpx.put(upload, content=b"x", headers={"authorization": f"Bearer {secrets['read']}"}).status_code == 403
    assert reader.get_run(run_id).data.metrics == {"accuracy": 0.9}


def test_without_a_token_the_artifact_proxy_is_unauthenticated(secured: tuple[str, dict[str, str]]) -> None:
    url, _ = secured
    answer = httpx.get(f"{url}/api/2.0/mlflow-artifacts/artifacts", params={"path": "1/run/artifacts"})
    assert (answer.status_code, answer.json()["error_code"]) == (401, "UNAUTHENTICATED")
