"""`modelyard tune` and `modelyard models study`: hyperparameter search."""

from __future__ import annotations

import json as json_module
from typing import Annotated, Any

import typer

from modelyard.cli.jobs import exit_if_unsuccessful, follow
from modelyard.cli.output import Id, print_json, print_table, shown_id
from modelyard.cli.params import JobArgument, ProjectArgument
from modelyard.cli.revisions import parse_overrides
from modelyard.cli.state import client

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def tune(
    ctx: typer.Context,
    project: ProjectArgument,
    arch: Annotated[str, typer.Option("--arch", help="Architecture id (`modelyard architectures list`).")],
    budget: Annotated[
        str | None, typer.Option(help="No new trial once it would end past this: 90s, 30m, 2h, 1h30m.")
    ] = None,
    trials: Annotated[int, typer.Option(help="Most trials to run.")] = 20,
    metric: Annotated[
        str | None, typer.Option(help="Validation metric to optimise (accuracy, map, map_50...); default: the task's.")
    ] = None,
    space: Annotated[
        str | None,
        typer.Option(help='JSON: {"learning_rate": {"low": 1e-4, "high": 1e-2, "log": true}, '
                     '"optimizer": {"choices": ["sgd", "adamw"]}}; default: from the manifest\'s bounds.'),
    ] = None,  # fmt: skip
    set_: Annotated[
        list[str] | None, typer.Option("--set", help="Hyperparameter every trial shares, key=value (e.g. epochs=5).")
    ] = None,
    base: Annotated[str, typer.Option(help="pretrained | scratch")] = "pretrained",
    dataset_revision: Annotated[str | None, typer.Option(help="Dataset revision id or number.")] = None,
    parallel: Annotated[int | None, typer.Option(help="Trials at once; default: the server's job slots.")] = None,
    pruner: Annotated[str, typer.Option(help="median | threshold | none: how bad trials stop early.")] = "median",
    prune_below: Annotated[
        float | None, typer.Option(help="threshold pruner: stop a trial whose metric is below this.")
    ] = None,
    startup_trials: Annotated[int, typer.Option(help="median pruner: trials run to the end first.")] = 2,
    seed: Annotated[int, typer.Option(help="Seeds the sampler.")] = 0,
    register: Annotated[
        str | None, typer.Option(help="Register the best revision as a version of this registered model.")
    ] = None,
    export_best: Annotated[bool, typer.Option(help="Export and evaluate the best revision's variants.")] = True,
    wait: Annotated[bool, typer.Option("--wait", help="Show progress until the study ends, then its trials.")] = False,
    json: JsonOption = False,
) -> None:
    """Search hyperparameters: trials are trainings (child jobs), the best one is marked (a durable job)."""
    try:
        space_value = json_module.loads(space) if space else None
    except json_module.JSONDecodeError as error:
        raise typer.BadParameter(f"--space is not JSON: {error}") from None
    sdk = client(ctx, run_jobs=wait)
    pruner_spec: dict[str, Any] = {"kind": pruner, "startup_trials": startup_trials}
    if prune_below is not None:
        pruner_spec["lower"] = prune_below
    job = sdk.models.tune(
        project, arch, budget=budget, trials=trials, metric=metric, space=space_value,
        overrides=parse_overrides(set_ or []), base=base, dataset_revision=dataset_revision, parallel=parallel,
        pruner=pruner_spec, seed=seed, register_as=register, export_best=export_best,
    )  # fmt: skip
    if not wait:
        print_json(job) if json else print(
            f"study queued as job {job.id}; its trials: `modelyard models study {job.id}`"
        )
        return
    job = follow(sdk, job.id)
    found = sdk.models.study(job.id)
    if json:
        print_json(found)
    else:
        _show(found)
    exit_if_unsuccessful(job)


def study(ctx: typer.Context, job: JobArgument, json: JsonOption = False) -> None:
    """A study's trials: parameters, metric, time and status (pruned ones too), the best marked with *."""
    found = client(ctx).models.study(job)
    print_json(found) if json else _show(found)


def _show(found: Any) -> None:
    names = sorted({name for trial in found.trials for name in trial.params})
    metric = found.metric or "metric"
    print_table(
        f"study {found.job_id} ({found.status}): {found.architecture}, {found.direction} {metric}",
        ["trial", "", *names, metric, "epochs", "seconds", "status", "revision"],
        [(trial.number, "*" if trial.best else "", *(_cell(trial.params.get(name)) for name in names),
          "-" if trial.value is None else f"{trial.value:.4f}", trial.epochs,
          "-" if trial.seconds is None else f"{trial.seconds:.0f}", trial.status,
          shown_id(trial.revision_id) or "-") for trial in found.trials],
    )  # fmt: skip
    if found.best_trial is not None:
        print(f"best: trial {found.best_trial}, {metric} {found.best_value:.4f}, revision "
              f"{Id(found.best_revision_id or '')}")  # fmt: skip


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:.3g}" if isinstance(value, float) else str(value)
