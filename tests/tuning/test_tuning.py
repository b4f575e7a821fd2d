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


@pytest.fixture
def two_slots(settings: Settings) -> Settings:
    return settings.model_copy(update={"job_slots": 2})


@on_one_database("sqlite")
def test_a_study_runs_its_trials_as_child_jobs_and_registers_the_best(two_slots: Settings, tmp_path: Path) -> None:
    with Client(settings=two_slots, run_jobs=True) as client:
        project = classification_project(client, tmp_path / "images")
        job = client.models.tune(project, TINY, base="scratch", trials=2, overrides=ONE_EPOCH,
                                 space=LEARNING_RATES, pruner={"kind": "none"}, register_as="colors-tuned",
                                 export_best=False)  # fmt: skip
        done = client.jobs.wait(job.id, timeout=JOB_CEILING_SECONDS)
        assert done.status == "succeeded", done.error
        study = client.models.study(job.id)
        assert [trial.status for trial in study.trials] == ["complete"] * 2
        assert [trial.best for trial in study.trials].count(True) == 1
        best = next(trial for trial in study.trials if trial.best)
        assert best.value == max(trial.value for trial in study.trials) == study.best_value
        assert all(1e-4 <= trial.params["learning_rate"] <= 1e-2 and trial.epochs == 1 for trial in study.trials)
        children = [client.jobs.get(trial.job_id) for trial in study.trials]
        assert {(child.type, child.parent_id, child.status) for child in children} == {
            ("revision.train", job.id, "succeeded")}
        # Each trial trained with its own learning rate and the shared configuration, on one dataset revision.
        revisions = [client.models.get(trial.revision_id) for trial in study.trials]
        assert [r.configuration["learning_rate"] for r in revisions] == [t.params["learning_rate"] for t in study.trials]
        assert {r.configuration["epochs"] for r in revisions} == {1}
        assert len({r.dataset_revision_id for r in revisions}) == 1
        assert client.models.get(best.revision_id).name.endswith("(best of its study)")
        assert done.result["best_revision_id"] == best.revision_id == study.best_revision_id
        version = client.registry.version("colors-tuned/1")
        assert version.source["revision_id"] == best.revision_id


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
    child = running_client.jobs.get(trial.job_id)
    assert (child.status, child.reason) == ("cancelled", "pruned")
    assert "pruned by the study after epoch 1" in child.error
    [revision] = running_client.models.list(project).items
    assert (revision.status, revision.reason, revision.weights_status) == ("cancelled", "pruned", "none")
    assert "no more trials: the budget of 1 s would be exceeded" in running_client.jobs.logs(job.id)


@on_one_database("postgresql")
def test_a_study_resumes_after_its_server_is_killed(settings: Settings, tmp_path: Path) -> None:
    server = ServerProcess(settings, tmp_path / "server.log", extra_env={"MODELYARD_JOB_SLOTS": "1"})
    server.start()
    try:
        with Client(base_url=server.url) as client:
            project = classification_project(client, tmp_path / "images")
            job = client.models.tune(project, TINY, base="scratch", trials=1, overrides=ONE_EPOCH,
                                     space=LEARNING_RATES, pruner={"kind": "none"}, export_best=False)  # fmt: skip
            first = _first_trial_job_running(client, job.id)
            server.kill()
            server.start()
            done = client.jobs.wait(job.id, timeout=JOB_CEILING_SECONDS)
            assert done.status == "succeeded", done.error
            trials = client.models.study(job.id).trials
            assert client.jobs.get(first).reason == "interrupted"
            # The trial whose job the kill took is failed, and asked again with the same hyperparameters.
            assert [trial.status for trial in trials] == ["failed", "complete"]
            assert trials[0].job_id == first and "interrupted" in trials[0].failure
            assert trials[1].params == trials[0].params
            assert [trial.best for trial in trials] == [False, True]
            assert "it is queued again and resumes" in client.jobs.logs(job.id)
    finally:
        server.stop()


def _first_trial_job_running(client: Client, study_job_id: str) -> str:
    """The id of the study's first trial job, once it trains."""
    deadline = time.monotonic() + START_CEILING_SECONDS
    while time.monotonic() < deadline:
        children = client.jobs.list(type="revision.train").items
        training = [child for child in children if child.parent_id == study_job_id and child.status == "running"
                    and child.step.startswith("training")]  # fmt: skip
        if training:
            return training[0].id
        time.sleep(0.05)
    raise TimeoutError("the study's first trial did not start training")
