"""The sequence a Quadra-style model manager runs through MLflow's client, against modelyard: log runs, register
the best run by a metric (mode max and min), move it to staging then production keeping the stage history in
the description, read the latest version, delete; read back through modelyard's SDK."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.mlflow.conftest import MlflowServer

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")  # MLflow calls its stage API deprecated


@pytest.fixture(scope="module")
def fluent(mlflow_server: MlflowServer) -> Iterator[Any]:
    import mlflow

    mlflow.set_tracking_uri(mlflow_server.url)
    mlflow.set_registry_uri(mlflow_server.url)
    yield mlflow
    mlflow.set_tracking_uri("")


def log_runs(mlflow: Any, experiment: str, losses: list[float], folder: Path) -> list[str]:
    """One run per loss, each with a `deployment_model` folder holding an MLmodel file and weights."""
    model = folder / "deployment_model"
    model.mkdir(exist_ok=True)
    (model / "MLmodel").write_text("flavors: {}\n")
    mlflow.set_experiment(experiment)
    run_ids = []
    for index, loss in enumerate(losses):
        (model / "model.pt").write_bytes(f"weights {index}".encode())
        with mlflow.start_run() as run:
            mlflow.log_param("index", index)
            for step in range(3):
                mlflow.log_metric("val_loss", loss + (2 - step) * 0.1, step=step)
            mlflow.log_artifacts(str(model), "deployment_model")
            run_ids.append(run.info.run_id)
    return run_ids


def register_best_model(mlflow: Any, experiment: str, metric: str, model_name: str, mode: str) -> Any:
    client = mlflow.MlflowClient()
    experiment_id = client.get_experiment_by_name(experiment).experiment_id
    direction = "DESC" if mode == "max" else "ASC"
    best = client.search_runs([experiment_id], order_by=[f"metrics.{metric} {direction}"], max_results=1)[0]
    return mlflow.register_model(f"runs:/{best.info.run_id}/deployment_model", model_name, tags={"mode": mode})


def transition_model(client: Any, model_name: str, version: str, stage: str, description: str) -> None:
    """Move the version and append the move to its description: the description is the stage history."""
    client.transition_model_version_stage(model_name, version, stage)
    history = client.get_model_version(model_name, version).description
    client.update_model_version(model_name, version, "\n".join(filter(None, [history, description])))


@pytest.mark.parametrize(("mode", "best_index"), [("min", 1), ("max", 2)])
def test_the_quadra_sequence_registers_the_best_run_and_keeps_its_stage_history(
    fluent: Any, mlflow_server: MlflowServer, tmp_path: Path, mode: str, best_index: int
) -> None:
    experiment, name = f"quadra-{mode}", f"quadra-{mode}"
    run_ids = log_runs(fluent, experiment, [0.5, 0.2, 0.9], tmp_path)
    version = register_best_model(fluent, experiment, "val_loss", name, mode)
    client = fluent.MlflowClient()
    assert (version.version, version.run_id, version.tags) == ("1", run_ids[best_index], {"mode": mode})
    transition_model(client, name, "1", "Staging", "staging: passed validation")
    transition_model(client, name, "1", "Production", "production: approved")
    latest = client.get_latest_versions(name, stages=["Production"])[0]
    assert (latest.version, latest.description) == ("1", "staging: passed validation\nproduction: approved")
    with mlflow_server.sdk() as sdk:
        native = sdk.registry.version(f"{name}/production")
        files = {file.name for file in sdk.registry.files(f"{name}/1")}
        stages = [event.after["stage"] for event in sdk.registry.events(name, action="version.stage_changed").items]
    assert (native.number, native.stage, files) == (1, "production", {"MLmodel", "model.pt"})
    assert stages == ["staging", "production"]
    client.delete_registered_model(name)
    assert client.search_registered_models(f"name = '{name}'") == []
