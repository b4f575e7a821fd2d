"""`train --auto` and `architectures recommend` as a user drives them: real jobs, real PyTorch, tiny data."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modelyard.cli.main import app
from modelyard.config import Settings
from modelyard.sdk import ApiError, Client
from tests.databases import on_one_database
from tests.revisions.factories import classification_project
from tests.waiting import JOB_CEILING_SECONDS

BUDGET_SECONDS = 15.0
# Seconds per training image of mobilenet_v3_small at 64 and 224 px on 2 CPUs: the job finds them cached and
# measures nothing (measuring is tested in tests/training/test_speed.py).
MEASURED = {"64": 0.0085, "224": 0.045}


def _seed_speed_cache(settings: Settings) -> None:
    from modelyard.cpu_threads import choose
    from modelyard.training.auto_config import MachineProfile
    from modelyard.training.speed import speed_cache_path

    profile = MachineProfile(choose(None).threads, choose(settings.job_threads).threads, "cpu")
    path = speed_cache_path(settings.data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({profile.key: {"mobilenet_v3_small": MEASURED}}))


@on_one_database("sqlite")
def test_auto_training_fits_its_budget_and_records_its_choices(
    running_client: Client, settings: Settings, tmp_path: Path
) -> None:
    project = classification_project(running_client, tmp_path / "images", per_label=6)
    running_client.datasets.create_revision(project, ratios={"training": 0.7, "validation": 0.3, "testing": 0.0})
    _seed_speed_cache(settings)
    # No early stopping, and more epochs than any machine trains in the budget (given, so kept): the budget stops
    # the run whatever the machine's load.
    overrides = {"class_balancing": "loss", "early_stopping_patience": 0, "epochs": 500}
    job = running_client.models.train(
        project, "mobilenet_v3_small", auto=True, budget_seconds=BUDGET_SECONDS, overrides=overrides
    )
    done = running_client.jobs.wait(job.id, timeout=JOB_CEILING_SECONDS)
    assert done.status == "succeeded", done.error
    revision = running_client.models.get(done.result["revision_id"])
    log = running_client.jobs.logs(job.id)
    speed, trained = re.search(r"([0-9.]+) images/s, ([0-9.]+) s of training", log).groups()
    # The loop stops only between steps and validates the epoch it was in: past the budget's 20% it may run one
    # more step and one validation, at the speed this run had (a busy machine slows both alike).
    last_step_and_validation = (
        revision.configuration["batch_size"] + running_client.datasets.counts(project).total
    ) / float(speed)
    assert float(trained) <= BUDGET_SECONDS * 1.2 + last_step_and_validation, log
    assert "the budget was reached" in log
    chosen = revision.auto_configuration
    assert chosen is not None and chosen["architecture"] == "mobilenet_v3_small"
    assert chosen["reasons"]["epochs"] == chosen["reasons"]["class_balancing"] == "given explicitly"
    assert revision.configuration["class_balancing"] == "loss"
    assert revision.configuration["input_size"] == chosen["hyperparameters"]["input_size"]
    assert revision.configuration["epochs"] == chosen["hyperparameters"]["epochs"]
    assert "measured training speed" not in log  # cached for this machine profile
    assert f"{chosen['predicted_seconds']:.0f} s measured)" in log
    assert f"auto-configuration (balanced, budget {BUDGET_SECONDS:.0f} s" in log
    assert f"input_size = {revision.configuration['input_size']}: images' median side 32 px" in log
    # No testing subset: the variants are evaluated on the validation subset, and say so.
    assert done.result["evaluated_on"] == "validation"
    evaluations = running_client.models.evaluations(revision.id)
    assert evaluations and {evaluation.subset for evaluation in evaluations} == {"validation"}
    assert "no testing subset: the variants are evaluated on the validation subset" in log


def test_recommend_lists_every_candidate_through_sdk_and_cli(
    client: Client, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = classification_project(client, tmp_path / "images", per_label=4)
    found = client.models.recommend(project, budget_seconds=120, goal="fast")
    assert found.goal == "fast" and found.budget_seconds == 120
    assert sorted(plan.architecture for plan in found.candidates) == [
        "efficientnet_b0", "mobilenet_v3_large", "mobilenet_v3_small", "resnet18"]  # fmt: skip
    assert [plan.recommended for plan in found.candidates] == [True, False, False, False]
    assert all(not plan.speed_measured and plan.reference_metric == "ImageNet-1K acc@1" for plan in found.candidates)
    assert found.reasons["architecture"].startswith("goal fast: the quickest per epoch")
    monkeypatch.setenv("MODELYARD_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("MODELYARD_DATABASE_URL", settings.database_url)
    runner = CliRunner()
    shown = runner.invoke(app, ["architectures", "recommend", project, "--budget", "2m", "--goal", "fast", "--json"])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output) == found.model_dump(mode="json")
    table = runner.invoke(app, ["architectures", "recommend", project, "--budget", "2m", "--goal", "fast"])
    assert table.output.strip().startswith("candidates for colors (fast, budget 120 s on cpu|")
    assert "goal fast: the" in table.output


def test_auto_training_refuses_what_it_cannot_honour(client: Client, tmp_path: Path) -> None:
    project = classification_project(client, tmp_path / "images", per_label=2)
    with pytest.raises(ApiError) as out_of_bounds:
        client.models.train(project, auto=True, overrides={"input_size": 100})
    assert out_of_bounds.value.status == 400 and "input_size must be one of 64, 96" in out_of_bounds.value.detail
    with pytest.raises(ApiError) as from_revision:
        client.models.train(project, auto=True, base="0123456789abcdef")
    assert from_revision.value.status == 400 and "not from a revision" in from_revision.value.detail
    with pytest.raises(ApiError) as unnamed:
        client.models.train(project)
    assert unnamed.value.status == 400 and "--auto" in unnamed.value.detail
