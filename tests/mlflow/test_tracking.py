"""MLflow's own client and fluent API against a real `modelyard serve`: experiments, runs, params, metrics
over steps, searches with filters, order and page tokens, deletion, and projects read as experiments."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.mlflow.conftest import MlflowServer
from tests.mlflow.trained_revision import EPOCHS, WEIGHTS, TrainedRevision, trained_revision


@pytest.fixture(scope="module")
def mlflow(mlflow_server: MlflowServer, mlflow_client: Any) -> Iterator[Any]:
    """The fluent API on the server (after `mlflow_client`, which sets the client's environment for tests)."""
    import mlflow as fluent

    previous = fluent.get_tracking_uri()
    fluent.set_tracking_uri(mlflow_server.url)
    yield fluent
    fluent.set_tracking_uri(previous)


@pytest.fixture(scope="module")
def three_runs(mlflow: Any) -> list[str]:
    """Runs a, b, c of the experiment `search`, with accuracies 0.7, 0.9, 0.8 and losses logged over 3 steps."""
    mlflow.set_experiment("search")
    ids = []
    for name, accuracy, architecture in (("a", 0.7, "resnet"), ("b", 0.9, "mobilenet"), ("c", 0.8, "mobilenet")):
        with mlflow.start_run(run_name=name) as run:
            mlflow.log_params({"architecture": architecture, "epochs": 3})
            for step in range(3):
                mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
            mlflow.log_metric("accuracy", accuracy)
            mlflow.set_tag("team", "vision")
            ids.append(run.info.run_id)
    return ids


@pytest.fixture(scope="module")
def project_run(mlflow_server: MlflowServer, tmp_path_factory: pytest.TempPathFactory) -> TrainedRevision:
    return trained_revision(mlflow_server.url, mlflow_server.data_dir, tmp_path_factory.mktemp("project"))


def _names(runs: list[Any]) -> list[str]:
    return [run.info.run_name for run in runs]


def test_a_fluent_run_is_read_back_with_its_params_latest_metrics_tags_and_status(
    mlflow: Any, mlflow_client: Any, three_runs: list[str]
) -> None:
    run = mlflow_client.get_run(three_runs[1])
    assert run.info.run_name == "b"
    assert run.info.status == "FINISHED"
    assert run.info.end_time >= run.info.start_time
    assert run.info.artifact_uri == f"mlflow-artifacts:/{run.info.experiment_id}/{run.info.run_id}/artifacts"
    assert run.data.params == {"architecture": "mobilenet", "epochs": "3"}
    assert run.data.metrics == {"loss": pytest.approx(1 / 3), "accuracy": 0.9}
    assert run.data.tags["team"] == "vision"
    assert run.data.tags["mlflow.runName"] == "b"


def test_metric_history_keeps_every_step(mlflow_client: Any, three_runs: list[str]) -> None:
    history = mlflow_client.get_metric_history(three_runs[0], "loss")
    assert [(metric.step, metric.value) for metric in history] == [(0, 1.0), (1, 0.5), (2, pytest.approx(1 / 3))]


def test_search_runs_filters_on_metrics_params_and_tags_and_orders_by_a_metric(
    mlflow: Any, three_runs: list[str]
) -> None:
    found = mlflow.search_runs(
        experiment_names=["search"],
        filter_string="metrics.accuracy >= 0.75 AND params.architecture = 'mobilenet' AND tags.team LIKE 'vis%'",
        order_by=["metrics.accuracy ASC"],
        output_format="list",
    )
    assert _names(found) == ["c", "b"]
    assert _names(
        mlflow.search_runs(
            experiment_names=["search"],
            filter_string="attributes.run_name IN ('a', 'c')",
            order_by=["attributes.run_name DESC"],
            output_format="list",
        )
    ) == ["c", "a"]


def test_search_runs_pages_with_keyset_tokens(mlflow_client: Any, three_runs: list[str]) -> None:
    experiment_id = mlflow_client.get_run(three_runs[0]).info.experiment_id
    first = mlflow_client.search_runs([experiment_id], order_by=["metrics.accuracy DESC"], max_results=2)
    assert _names(first) == ["b", "c"]
    assert first.token
    second = mlflow_client.search_runs(
        [experiment_id], order_by=["metrics.accuracy DESC"], max_results=2, page_token=first.token
    )
    assert _names(second) == ["a"]
    assert not second.token


def test_an_unsupported_filter_clause_is_invalid_parameter_value_naming_it(
    mlflow_client: Any, three_runs: list[str]
) -> None:
    from mlflow.exceptions import MlflowException

    experiment_id = mlflow_client.get_run(three_runs[0]).info.experiment_id
    with pytest.raises(MlflowException) as raised:
        mlflow_client.search_runs([experiment_id], filter_string="metrics.accuracy LIKE '0.9%'")
    assert raised.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "`metrics.accuracy LIKE '0.9%'`" in raised.value.message


def test_a_param_once_logged_cannot_change(mlflow_client: Any, three_runs: list[str]) -> None:
    from mlflow.exceptions import MlflowException

    with pytest.raises(MlflowException) as raised:
        mlflow_client.log_param(three_runs[0], "architecture", "vgg")
    assert raised.value.error_code == "INVALID_PARAMETER_VALUE"
    assert mlflow_client.get_run(three_runs[0]).data.params["architecture"] == "resnet"


def test_a_deleted_run_leaves_active_searches_and_comes_back_when_restored(mlflow_client: Any) -> None:
    from mlflow.entities import ViewType

    experiment_id = mlflow_client.create_experiment("lifecycle")
    run_id = mlflow_client.create_run(experiment_id, run_name="doomed").info.run_id
    mlflow_client.delete_run(run_id)
    assert mlflow_client.search_runs([experiment_id]) == []
    deleted = mlflow_client.search_runs([experiment_id], run_view_type=ViewType.DELETED_ONLY)
    assert [(run.info.run_id, run.info.lifecycle_stage) for run in deleted] == [(run_id, "deleted")]
    mlflow_client.restore_run(run_id)
    assert [run.info.run_id for run in mlflow_client.search_runs([experiment_id])] == [run_id]


def test_experiments_are_created_renamed_deleted_and_restored(mlflow_client: Any) -> None:
    from mlflow.exceptions import MlflowException

    experiment_id = mlflow_client.create_experiment("to-rename", tags={"owner": "ana"})
    with pytest.raises(MlflowException) as raised:
        mlflow_client.create_experiment("to-rename")
    assert raised.value.error_code == "RESOURCE_ALREADY_EXISTS"
    mlflow_client.rename_experiment(experiment_id, "renamed")
    experiment = mlflow_client.get_experiment_by_name("renamed")
    assert (experiment.experiment_id, experiment.tags, experiment.artifact_location) == (
        experiment_id,
        {"owner": "ana"},
        f"mlflow-artifacts:/{experiment_id}",
    )
    mlflow_client.delete_experiment(experiment_id)
    assert mlflow_client.get_experiment(experiment_id).lifecycle_stage == "deleted"
    assert "renamed" not in [found.name for found in mlflow_client.search_experiments()]
    mlflow_client.restore_experiment(experiment_id)
    assert "renamed" in [found.name for found in mlflow_client.search_experiments(filter_string="name LIKE 'ren%'")]


def test_a_missing_run_is_resource_does_not_exist(mlflow_client: Any) -> None:
    from mlflow.exceptions import MlflowException

    with pytest.raises(MlflowException) as raised:
        mlflow_client.get_run("0" * 32)
    assert raised.value.error_code == "RESOURCE_DOES_NOT_EXIST"


# -- a modelyard project as an experiment ------------------------------------------------------
def test_a_project_is_an_experiment_and_its_training_revision_a_run(
    mlflow_client: Any, project_run: TrainedRevision
) -> None:
    experiment = mlflow_client.get_experiment_by_name(project_run.project_name)
    assert experiment.experiment_id == project_run.project_id
    runs = mlflow_client.search_runs([experiment.experiment_id], filter_string="metrics.accuracy > 0.8")
    assert [run.info.run_id for run in runs] == [project_run.revision_id]
    run = runs[0]
    assert (run.info.run_name, run.info.status, run.info.user_id) == ("first training", "FINISHED", "trainer")
    assert run.data.params == {
        "epochs": "3",
        "learning_rate": "0.01",
        "batch_size": "4",
        "augmentations.horizontal_flip": "true",
    }
    assert run.data.metrics["accuracy"] == 0.875
    assert run.data.metrics["best_accuracy"] == 0.875
    assert run.data.tags["modelyard.architecture"] == "mobilenet_v3_small"


def test_a_training_revision_shows_per_epoch_metrics_with_steps_and_its_files(
    mlflow_client: Any, project_run: TrainedRevision, tmp_path: Path
) -> None:
    history = mlflow_client.get_metric_history(project_run.revision_id, "train_loss")
    assert [(metric.step, metric.value) for metric in history] == [(epoch.epoch, epoch.train_loss) for epoch in EPOCHS]
    listed = {artifact.path for artifact in mlflow_client.list_artifacts(project_run.revision_id)}
    assert listed == {"model.pt", "training_metrics.json", "hyperparameters.yaml"}
    downloaded = mlflow_client.download_artifacts(project_run.revision_id, "model.pt", str(tmp_path))
    assert Path(downloaded).read_bytes() == WEIGHTS


def test_writing_to_a_project_or_its_revision_is_refused_as_read_only(
    mlflow_client: Any, project_run: TrainedRevision
) -> None:
    from mlflow.exceptions import MlflowException

    for write in (
        lambda: mlflow_client.log_metric(project_run.revision_id, "accuracy", 1.0),
        lambda: mlflow_client.set_tag(project_run.revision_id, "team", "x"),
        lambda: mlflow_client.create_run(project_run.project_id),
        lambda: mlflow_client.delete_experiment(project_run.project_id),
    ):
        with pytest.raises(MlflowException) as raised:
            write()
        assert raised.value.error_code == "INVALID_PARAMETER_VALUE"
        assert "read-only" in raised.value.message
    assert mlflow_client.get_run(project_run.revision_id).data.metrics["accuracy"] == 0.875


def test_a_key_over_the_limit_is_invalid_parameter_value_naming_the_limit(mlflow_client: Any,
                                                                          three_runs: list[str]) -> None:  # fmt: skip
    from mlflow.exceptions import MlflowException

    with pytest.raises(MlflowException) as raised:
        mlflow_client.log_param(three_runs[0], "k" * 300, "v")
    assert raised.value.error_code == "INVALID_PARAMETER_VALUE"
    assert "key has 300 characters; the limit is" in raised.value.message
