"""Hyperparameter studies as a user runs them: real tune and training jobs, real Optuna, tiny data, one epoch."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from modelyard.architectures.manifest import SHIPPED_MANIFESTS_DIR
from modelyard.config import Settings
from modelyard.sdk import Client
from tests.databases import on_one_database
from tests.revisions.factories import classification_project
from tests.server import ServerProcess
from tests.waiting import JOB_CEILING_SECONDS, START_CEILING_SECONDS

ONE_EPOCH = {"epochs": 1, "batch_size": 4, "warmup_epochs": 0, "early_stopping_patience": 0}
LEARNING_RATES = {"learning_rate": {"low": 1e-4, "high": 1e-2, "log": True}}
TINY = "tiny_mobilenet"


@pytest.fixture(autouse=True)
def tiny_architecture(settings: Settings) -> None:
    """MobileNetV3 Small at 64 pixels, as a user's manifest: trials of a second rather than several."""
    manifest = yaml.safe_load((SHIPPED_MANIFESTS_DIR / "classification" / "mobilenet_v3_small.yaml").read_text())
    manifest.update(id=TINY, name="Tiny MobileNetV3 Small", pretrained_weights=None)
    manifest["input"]["size"] = [64, 64]
    folder = settings.data_dir / "model_manifests" / "classification"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{TINY}.yaml").write_text(yaml.safe_dump(manifest), encoding="utf-8")


@on_one_database("sqlite")
def test_a_pruned_trial_stops_after_the_epoch_it_was_judged_on_and_the_budget_stops_new_trials(
    running_client: Client, tmp_path: Path
) -> None:
    project = classification_project(running_client, tmp_path / "images")
    # No accuracy reaches 1.01: the threshold pruner stops every trial after its first of two epochs. The budget
    # of a second is spent by the first trial, so no second one is asked although five are allowed.
    job = running_client.models.tune(
        project, TINY, base="scratch", trials=5, budget="1s", space=LEARNING_RATES,
        overrides={**ONE_EPOCH, "epochs": 2}, pruner={"kind": "threshold", "lower": 1.01}, export_best=False,
    )  # fmt: skip
    done = running_client.jobs.wait(job.id, timeout=JOB_CEILING_SECONDS)
    assert (done.status, done.error) == ("failed", "RuntimeError: no trial completed (1 pruned, 0 failed): "
                                         "widen the budget or the trials, or loosen the pruner")  # fmt: skip
    [trial] = running_client.models.study(job.id).trials
    assert (trial.status, trial.epochs, trial.best, trial.revision_id) == ("pruned", 1, False, None)
    child = running_client.jobs.get(trial.job_id or "")
    assert (child.status, child.reason) == ("cancelled", "pruned")
    assert "pruned by the study after epoch 1" in child.error
    [revision] = running_client.models.list(project).items
    assert (revision.status, revision.reason, revision.weights_status) == ("cancelled", "pruned", "none")
    assert "no more trials: the budget of 1 s would be exceeded" in running_client.jobs.logs(job.id)


@on_one_database("postgresql")
def test_a_study_resumes_after_its_server_is_killed_and_registers_its_best(settings: Settings, tmp_path: Path) -> None:
    server = ServerProcess(settings, tmp_path / "server.log", extra_env={"MODELYARD_JOB_SLOTS": "1"})
    server.start()
    try:
        with Client(base_url=server.url) as client:
            project = classification_project(client, tmp_path / "images")
            job = client.models.tune(project, TINY, base="scratch", trials=1, overrides=ONE_EPOCH,
                                     space=LEARNING_RATES, pruner={"kind": "none"}, register_as="colors-tuned")
            first = _first_trial_job_running(client, job.id)
            server.kill()
            server.start()
            done = client.jobs.wait(job.id, timeout=JOB_CEILING_SECONDS)
            assert done.status == "succeeded", done.error
            assert "it is queued again and resumes" in client.jobs.logs(job.id)
            study = client.models.study(job.id)
            lost, again = study.trials
            # The trial whose job the kill took is failed, and asked again with the same hyperparameters.
            assert (lost.job_id, lost.status, lost.best) == (first, "failed", False)
            assert "interrupted" in lost.failure and client.jobs.get(first).reason == "interrupted"
            assert (again.status, again.best, again.epochs, again.params) == ("complete", True, 1, lost.params)
            assert 1e-4 <= again.params["learning_rate"] <= 1e-2
            assert again.value == study.best_value == done.result["best_value"]
            assert study.best_params == again.params == done.result["best_params"]
            child = client.jobs.get(again.job_id or "")
            assert (child.type, child.parent_id, child.status) == ("revision.train", job.id, "succeeded")
            revision = client.models.get(again.revision_id or "")
            assert revision.configuration["learning_rate"] == again.params["learning_rate"]
            assert revision.configuration["epochs"] == 1 and revision.name.endswith("(best of its study)")
            assert done.result["best_revision_id"] == revision.id == study.best_revision_id
            assert client.registry.version("colors-tuned/1").source["revision_id"] == revision.id
            # The best revision, and only it, gets the variants a training makes, evaluated on the testing images.
            assert {variant.name for variant in client.models.variants(revision.id)} == {
                "pytorch-fp32", "openvino-fp16", "onnx-fp32"}
            assert set(done.result["variants"]) == {"pytorch-fp32", "openvino-fp16", "onnx-fp32"}
    finally:
        server.stop()


def _first_trial_job_running(client: Client, study_job_id: str) -> str:
    """The id of the study's first trial job, once a runner has claimed it."""
    deadline = time.monotonic() + START_CEILING_SECONDS
    while time.monotonic() < deadline:
        children = client.jobs.list(type="revision.train").items
        running = [child for child in children if child.parent_id == study_job_id and child.status == "running"]
        if running:
            return running[0].id
        time.sleep(0.05)
    raise TimeoutError("the study's first trial did not start")
