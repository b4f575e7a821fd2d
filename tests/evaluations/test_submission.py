"""Submitting an evaluation: a stored one is returned instead of running the same again (unless `force`), and
a subset without items is refused before any job is queued."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from modelyard.config import Settings
from modelyard.db.engine import transaction
from modelyard.evaluations.models import Evaluation
from modelyard.evaluations.repository import EvaluationRepository
from modelyard.revisions.models import ModelRevision
from modelyard.sdk import ApiError, Client, Job
from modelyard.sdk import Evaluation as EvaluationRead
from tests.pipelines.factories import ServedModel
from tests.server import REPO_ROOT, server_env
from tests.waiting import JOB_CEILING_SECONDS


def _store_evaluation(client: Client, served: ServedModel, variant: str, subset: str) -> str:
    context = client.app.state.context  # type: ignore[attr-defined]
    variant_id = next(v.id for v in client.models.variants(served.revision_id) if v.name == variant)
    with transaction(context.db.sessions) as session:
        dataset_revision_id = session.get(ModelRevision, served.revision_id).dataset_revision_id
        return EvaluationRepository(session).add(Evaluation(
            project_id=served.project_id, revision_id=served.revision_id, variant_id=variant_id, variant=variant,
            dataset_revision_id=dataset_revision_id, subset=subset, item_count=1, metric_name="accuracy",
            metric_value=0.5, metrics={"accuracy": 0.5}, per_label={}, seconds=0.1,
        )).id  # fmt: skip


def test_same_evaluation_twice_returns_the_stored_one_unless_forced(app_client: Client, served: ServedModel) -> None:
    first = app_client.models.evaluate(served.revision_id, "pytorch-fp32")
    assert isinstance(first, Job) and first.params["force"] is False
    stored_id = _store_evaluation(app_client, served, "pytorch-fp32", "testing")

    again = app_client.models.evaluate(served.revision_id, "pytorch-fp32")
    assert isinstance(again, EvaluationRead) and again.id == stored_id
    response = app_client.request("POST", f"/models/{served.revision_id}:evaluate",
                                  json={"variant": "pytorch-fp32", "subset": "testing"})  # fmt: skip
    assert response.status_code == 200 and response.json()["id"] == stored_id
    assert isinstance(app_client.models.evaluate(served.revision_id, "openvino-fp16"), Job)
    assert isinstance(app_client.models.evaluate(served.revision_id, "pytorch-fp32", subset="training"), Job)

    forced = app_client.models.evaluate(served.revision_id, "pytorch-fp32", force=True)
    assert isinstance(forced, Job) and forced.params["force"] is True
    assert forced.params["dataset_revision"] == again.dataset_revision_id


def test_evaluating_an_empty_subset_is_refused_with_what_to_do(app_client: Client, served: ServedModel) -> None:
    testing = [item.id for item in app_client.datasets.iterate_items(served.project, subset="testing")]
    assert testing
    app_client.datasets.delete_items(served.project, testing)
    without_testing = app_client.datasets.create_revision(served.project)
    jobs_before = len(app_client.jobs.list(limit=100).items)

    with pytest.raises(ApiError) as caught:
        app_client.models.evaluate(served.revision_id, "pytorch-fp32", dataset_revision=without_testing.number)
    error = caught.value
    assert error.status == 409 and error.code == "empty_subset"
    assert f"dataset revision {without_testing.number}" in error.detail and "no testing items" in error.detail
    assert "`--subset validation`" in error.detail and "modelyard dataset revision create colors" in error.detail
    assert len(app_client.jobs.list(limit=100).items) == jobs_before


def test_a_second_evaluation_job_reuses_the_first_and_force_runs_a_new_one(
    running_app_client: Client, served_running: ServedModel
) -> None:
    client, revision_id = running_app_client, served_running.revision_id
    submitted = [client.models.evaluate(revision_id, "pytorch-fp32") for _ in range(2)]
    ids = []
    for outcome in submitted:
        if isinstance(outcome, Job):
            finished = client.jobs.wait(outcome.id, timeout=JOB_CEILING_SECONDS)
            assert finished.status == "succeeded", finished.error
            ids.append(finished.result["evaluation_id"])
        else:
            ids.append(outcome.id)
    assert ids[0] == ids[1]
    assert [e.id for e in client.models.evaluations(revision_id)] == [ids[0]]

    forced = client.models.evaluate(revision_id, "pytorch-fp32", force=True)
    assert isinstance(forced, Job)
    finished = client.jobs.wait(forced.id, timeout=JOB_CEILING_SECONDS)
    assert finished.status == "succeeded", finished.error
    assert finished.result["evaluation_id"] != ids[0]
    assert len(client.models.evaluations(revision_id)) == 2


def test_cli_shows_the_stored_evaluation_and_force_queues_a_new_one(
    app_client: Client, served: ServedModel, settings: Settings
) -> None:
    stored_id = _store_evaluation(app_client, served, "pytorch-fp32", "testing")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "modelyard", "evaluate", served.revision_id, "--variant", "pytorch-fp32",
                   *args]  # fmt: skip
        return subprocess.run(command, env=server_env(settings, 8000), capture_output=True, text=True, timeout=120,
                              cwd=REPO_ROOT)  # fmt: skip

    shown = cli()
    assert shown.returncode == 0, shown.stderr
    assert "evaluated already on" in shown.stdout and "--force" in shown.stdout
    as_json = cli("--json")
    assert as_json.returncode == 0 and json.loads(as_json.stdout)["id"] == stored_id
    forced = cli("--force", "--json")
    assert forced.returncode == 0, forced.stderr
    assert json.loads(forced.stdout)["type"] == "revision.evaluate"
