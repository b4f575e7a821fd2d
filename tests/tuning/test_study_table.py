"""A study through the CLI: `tune` queues it with what was asked, `models study` shows its trials as a table."""

from __future__ import annotations

import json

from modelyard.config import Settings
from modelyard.context import AppContext
from modelyard.db.engine import transaction
from modelyard.sdk import Client
from tests.cli.test_cli import modelyard
from tests.databases import on_one_database

SPACE = '{"learning_rate": {"low": 0.0001, "high": 0.01, "log": true}}'


@on_one_database("sqlite")
def test_tune_queues_a_study_and_models_study_shows_its_trials_with_the_best_marked(settings: Settings) -> None:
    with Client(settings=settings) as client:
        client.projects.create("colors", "multiclass_classification", labels=["red", "blue"])
    queued = modelyard(settings, "tune", "colors", "--arch", "mobilenet_v3_small", "--budget", "1h30m", "--trials",
                       "3", "--space", SPACE, "--set", "epochs=2", "--pruner", "threshold", "--prune-below", "0.3",
                       "--register", "colors-best", "--json")  # fmt: skip
    assert queued.returncode == 0, queued.stderr
    job = json.loads(queued.stdout)
    params = job["params"]
    assert (job["type"], job["status"], params["budget_seconds"], params["max_trials"]) == (
        "revision.tune", "pending", 5400.0, 3)
    assert params["space"] == {"learning_rate": {"low": 0.0001, "high": 0.01, "log": True, "choices": None}}
    assert params["fixed"] == {"epochs": 2} and params["register_as"] == "colors-best"
    assert (params["pruner"]["kind"], params["pruner"]["lower"]) == ("threshold", 0.3)

    _record_trials(settings, job["id"])
    shown = modelyard(settings, "models", "study", job["id"])
    assert shown.returncode == 0, shown.stderr
    cells = [[cell.strip() for cell in line.split("\u2502")[1:-1]] for line in shown.stdout.splitlines()]
    assert [row for row in cells if row and row[0].isdigit()] == [
        ["0", "", "0.001", "0.8000", "2", "60", "complete", "-"],
        ["1", "*", "0.003", "0.9000", "2", "60", "complete", "-"],
        ["2", "", "0.01", "0.2000", "1", "30", "pruned", "-"],
    ]
    assert "best: trial 1, metric 0.9000" in shown.stdout


def _record_trials(settings: Settings, job_id: str) -> None:
    """Three trials as the tune job records them: two complete (two epochs), one pruned after its first."""
    import datetime

    import optuna

    from modelyard.tuning.journal import storage_for

    context = AppContext(settings)
    try:
        study = optuna.create_study(study_name=job_id, storage=storage_for(lambda: transaction(context.db.sessions),
                                                                           job_id), direction="maximize")  # fmt: skip
        distribution = optuna.distributions.FloatDistribution(1e-4, 1e-2, log=True)
        start = datetime.datetime(2026, 1, 1)
        for rate, values, state in ((0.001, (0.7, 0.8), "COMPLETE"), (0.003, (0.85, 0.9), "COMPLETE"),
                                    (0.01, (0.2,), "PRUNED")):  # fmt: skip
            seconds = 30 * len(values)
            trial = optuna.trial.FrozenTrial(
                number=0, trial_id=0, state=optuna.trial.TrialState[state], params={"learning_rate": rate},
                value=values[-1] if state == "COMPLETE" else None, distributions={"learning_rate": distribution},
                datetime_start=start, datetime_complete=start + datetime.timedelta(seconds=seconds), user_attrs={},
                system_attrs={}, intermediate_values=dict(enumerate(values, start=1)),
            )  # fmt: skip
            study.add_trial(trial)
    finally:
        context.close()
