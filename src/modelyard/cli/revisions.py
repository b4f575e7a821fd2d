"""`modelyard train`, `export`, `evaluate`, `optimize` and `modelyard models ...`: model revisions."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from modelyard.cli.jobs import exit_if_unsuccessful, follow
from modelyard.cli.output import Id, parse_pairs, print_fields, print_json, print_table, shown_id
from modelyard.cli.params import ProjectArgument, RevisionArgument
from modelyard.cli.state import client

app = typer.Typer(help="Model revisions: what training produced.", no_args_is_help=True)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def train(
    ctx: typer.Context,
    project: ProjectArgument,
    arch: Annotated[
        str | None, typer.Option("--arch", help="Architecture id (`modelyard architectures list`); chosen with --auto.")
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option("--set", help="Hyperparameter key=value, e.g. epochs=5 or augmentations.horizontal_flip=false."),
    ] = None,  # fmt: skip
    base: Annotated[
        str | None,
        typer.Option(help="pretrained (default) | scratch | a model revision to fine-tune (PROJECT/NUMBER or id)."),
    ] = None,
    auto: Annotated[
        bool,
        typer.Option("--auto", help="Choose architecture, input size, epochs, batch, learning rate, augmentations "
                     "and class balancing from the data and this machine's speed; given options are kept."),
    ] = False,  # fmt: skip
    budget: Annotated[
        str, typer.Option(help="With --auto: time the training may take, e.g. 90s, 10m, 1h.")
    ] = "10m",
    goal: Annotated[str, typer.Option(help="With --auto: fast | balanced | accurate.")] = "balanced",
    class_balancing: Annotated[
        str | None, typer.Option(help="none | sampling | loss (the same as --set class_balancing=...).")
    ] = None,
    dataset_revision: Annotated[str | None, typer.Option(help="Dataset revision id or number.")] = None,
    name: Annotated[str | None, typer.Option(help="Name of the new revision.")] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Show progress until the training ends.")] = False,
    json: JsonOption = False,
) -> None:
    """Fine-tune an architecture on the project's data (a durable background job); `--auto` configures it."""
    if arch is None and not auto:
        raise typer.BadParameter("name an architecture, or let --auto choose one", param_hint="--arch")
    overrides = parse_overrides(set_ or [])
    if class_balancing is not None:
        overrides["class_balancing"] = class_balancing
    sdk = client(ctx, run_jobs=wait)
    job = sdk.models.train(project, arch, overrides=overrides, base=base, dataset_revision=dataset_revision,
                           name=name, auto=auto, budget_seconds=parse_duration(budget), goal=goal)  # fmt: skip
    if not wait:
        print_json(job) if json else print(
            f"training queued as job {job.id}; follow it with `modelyard job show {job.id}`"
        )
        return
    job = follow(sdk, job.id)
    if json:
        print_json(job)
    exit_if_unsuccessful(job)
    revision = sdk.models.get(job.result["revision_id"])
    if not json:
        _show(revision)
        for evaluation in sdk.models.evaluations(revision.id):
            print(f"{evaluation.variant} on the {evaluation.subset} subset: {evaluation.metric_name} "
                  f"{evaluation.metric_value:.4f} ({evaluation.item_count} images)")  # fmt: skip


def parse_duration(text: str) -> float:
    """`90`, `90s`, `10m`, `1.5h` -> seconds."""
    units = {"s": 1.0, "m": 60.0, "h": 3600.0}
    value, unit = (text[:-1], text[-1]) if text and text[-1] in units else (text, "s")
    try:
        seconds = float(value) * units[unit]
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a duration such as 90s, 10m or 1h", param_hint="--budget") from None
    if seconds <= 0:
        raise typer.BadParameter("the budget must be positive", param_hint="--budget")
    return seconds


def parse_overrides(pairs: list[str]) -> dict[str, Any]:
    """`a.b=1` -> {"a": {"b": 1}}; values are JSON when they parse as JSON, else strings."""
    overrides: dict[str, Any] = {}
    for key, value in parse_pairs(pairs, "--set").items():
        target = overrides
        *parents, leaf = key.split(".")
        for part in parents:
            target = target.setdefault(part, {})
        target[leaf] = value
    return overrides


@app.command("list")
def list_revisions(
    ctx: typer.Context,
    project: ProjectArgument,
    arch: Annotated[str | None, typer.Option("--arch", help="Only this architecture.")] = None,
    status: Annotated[str | None, typer.Option(help="running|succeeded|failed|cancelled")] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 50,
    json: JsonOption = False,
) -> None:
    """List a project's model revisions, newest first."""
    page = client(ctx).models.list(project, architecture=arch, status=status, limit=limit)
    if json:
        print_json(page.items)
        return
    print_table(
        f"model revisions of {project} (name one as {project}/# or by id)",
        ["#", "name", "architecture", "status", "metric", "weights", "size", "parent", "id"],
        [(r.number, r.name, r.architecture_id, r.status, _metric(r), r.weights_status, _size(r.size_bytes),
          shown_id(r.parent_id), Id(r.id)) for r in page.items],
    )  # fmt: skip


@app.command("show")
def show(ctx: typer.Context, revision: RevisionArgument, json: JsonOption = False) -> None:
    """Show a model revision."""
    found = client(ctx).models.get(revision)
    print_json(found) if json else _show(found)


def _size(size_bytes: int | None) -> str:
    return "-" if not size_bytes else f"{size_bytes / 1_000_000:.1f} MB"


@app.command("metrics")
def metrics(ctx: typer.Context, revision: RevisionArgument, json: JsonOption = False) -> None:
    """Per-epoch training metrics."""
    records = client(ctx).models.metrics(revision)
    if json:
        print_json(records)
        return
    print_table("training metrics", ["epoch", "train loss", "metric", "value", "seconds"],
                [(r["epoch"], r["train_loss"], r["metric_name"], r["metric_value"], r["seconds"])
                 for r in records])  # fmt: skip


@app.command("logs")
def logs(ctx: typer.Context, revision: RevisionArgument) -> None:
    """The revision's training log."""
    print(client(ctx).models.log(revision), end="")


@app.command("lineage")
def lineage(ctx: typer.Context, revision: RevisionArgument, json: JsonOption = False) -> None:
    """Parents and children of a revision."""
    found = client(ctx).models.lineage(revision)
    if json:
        print_json(found)
        return
    rows = [("ancestor", r.number, r.name, Id(r.id)) for r in reversed(found.ancestors)]
    rows.append(("this", found.revision.number, found.revision.name, Id(found.revision.id)))
    rows += [("descendant", r.number, r.name, Id(r.id)) for r in found.descendants]
    print_table("lineage", ["relation", "#", "name", "id"], rows)


@app.command("rename")
def rename(
    ctx: typer.Context,
    revision: RevisionArgument,
    name: Annotated[str, typer.Argument(help="The new name.")],
    json: JsonOption = False,
) -> None:
    """Rename a revision."""
    found = client(ctx).models.rename(revision, name)
    print_json(found) if json else _show(found)


def _metric(revision: Any) -> str:
    return "-" if revision.best_metric is None else f"{revision.metric_name} {revision.best_metric:.4f}"


def _show(revision: Any) -> None:
    print_fields(
        {
            "revision": f"#{revision.number} {revision.name} ({revision.id})",
            "architecture": revision.architecture_id,
            "status": revision.status + (f" ({revision.reason})" if revision.reason else ""),
            "error": revision.error or "-",
            "best": f"{_metric(revision)} at epoch {revision.best_epoch} of {revision.epochs_trained}",
            "weights": revision.weights_status,
            "base": revision.base + (f" {revision.parent_id}" if revision.parent_id else ""),
            "dataset revision": revision.dataset_revision_id,
            "labels": ", ".join(label.name for label in revision.labels),
            "device": revision.training_device,
            "auto-configuration": _auto_summary(revision.auto_configuration),
            "started": revision.started_at,
            "finished": revision.finished_at,
        }
    )


def _auto_summary(configuration: dict[str, Any] | None) -> str:
    if not configuration:
        return "-"
    return (f"{configuration['goal']}, budget {configuration['budget_seconds']:.0f} s, predicted "
            f"{configuration['predicted_seconds']:.0f} s (the reasons: `modelyard models logs REVISION`)")  # fmt: skip


def _wait_for(ctx: typer.Context, submit: Any, wait: bool, json: bool) -> Any:
    sdk = client(ctx, run_jobs=wait)
    job = submit(sdk)
    if not wait:
        print_json(job) if json else print(f"queued job {job.id}; follow it with `modelyard job show {job.id}`")
        return None
    job = follow(sdk, job.id)
    exit_if_unsuccessful(job)
    return sdk, job


WaitOption = Annotated[bool, typer.Option("--wait", help="Show progress until the job ends.")]


def export(
    ctx: typer.Context,
    revision: RevisionArgument,
    format: Annotated[str, typer.Option("--format", help="openvino | onnx")] = "openvino",
    precision: Annotated[str, typer.Option(help="fp16 | fp32 (ONNX: fp32)")] = "fp16",
    wait: WaitOption = False,
    json: JsonOption = False,
) -> None:
    """Export a revision to a variant (parity-checked against PyTorch, benchmarked, evaluated)."""
    done = _wait_for(ctx, lambda sdk: sdk.models.export(revision, format, precision), wait, json)
    if done:
        sdk, job = done
        variant = next(v for v in sdk.models.variants(revision) if v.id == job.result["variant_id"])
        print_json(variant) if json else _variants([variant])


def evaluate(
    ctx: typer.Context,
    revision: RevisionArgument,
    variant: Annotated[
        str, typer.Option(help="pytorch-fp32 | openvino-fp16 | openvino-fp32 | onnx-fp32 | openvino-int8")
    ] = "openvino-fp16",
    dataset_revision: Annotated[str | None, typer.Option(help="Dataset revision id or number.")] = None,
    subset: Annotated[str, typer.Option(help="training | validation | testing")] = "testing",
    force: Annotated[
        bool, typer.Option("--force", help="Evaluate again even when the same evaluation is stored.")
    ] = False,
    wait: WaitOption = False,
    json: JsonOption = False,
) -> None:
    """Evaluate a variant with the task's standard metrics (a stored evaluation is shown unless --force)."""
    from modelyard.evaluations.schemas import EvaluationRead

    outcome = client(ctx, run_jobs=wait).models.evaluate(revision, variant, dataset_revision=dataset_revision,
                                                         subset=subset, force=force)  # fmt: skip
    if isinstance(outcome, EvaluationRead):
        if not json:
            print(f"evaluated already on {outcome.created_at:%Y-%m-%d %H:%M} UTC; pass --force to run it again")
        print_json(outcome) if json else _evaluations([outcome])
        return
    done = _wait_for(ctx, lambda _: outcome, wait, json)
    if done:
        sdk, job = done
        found = [e for e in sdk.models.evaluations(revision) if e.id == job.result["evaluation_id"]]
        print_json(found[0]) if json else _evaluations(found)


def optimize(
    ctx: typer.Context,
    revision: RevisionArgument,
    max_drop: Annotated[float | None, typer.Option(help="Accuracy-controlled: largest absolute accuracy drop.")] = None,
    wait: WaitOption = False,
    json: JsonOption = False,
) -> None:
    """Quantize the OpenVINO variant to INT8 (NNCF), then evaluate and benchmark it beside FP16."""
    done = _wait_for(ctx, lambda sdk: sdk.models.optimize(revision, max_drop), wait, json)
    if done:
        sdk, _ = done
        variants = [v for v in sdk.models.variants(revision) if v.name in ("openvino-fp16", "openvino-int8")]
        print_json(variants) if json else _variants(variants)


@app.command("variants")
def variants(ctx: typer.Context, revision: RevisionArgument, json: JsonOption = False) -> None:
    """A revision's variants with size, parity and speed."""
    found = client(ctx).models.variants(revision)
    print_json(found) if json else _variants(found)


@app.command("evaluations")
def evaluations(ctx: typer.Context, revision: RevisionArgument, json: JsonOption = False) -> None:
    """A revision's evaluations."""
    found = client(ctx).models.evaluations(revision)
    print_json(found) if json else _evaluations(found)


@app.command("delete")
def delete(
    ctx: typer.Context,
    revision: RevisionArgument,
    weights_only: Annotated[
        bool, typer.Option("--weights-only", help="Keep the record, metrics and evaluations.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a revision, or only its weights."""
    what = "the weights of revision" if weights_only else "revision"
    if not yes:
        typer.confirm(f"Delete {what} {revision}?", abort=True)
    client(ctx).models.delete(revision, weights_only=weights_only)
    print(f"deleted {what} {revision}")


def _variants(rows: list[Any]) -> None:
    print_table("variants", ["variant", "size (MB)", "parity", "p50 ms", "p95 ms", "images/s"], [
        (v.name, f"{v.size_bytes / 1e6:.2f}", "-" if not v.parity else ("ok" if v.parity.get("passed") else "off"),
         *(("-", "-", "-") if not v.speed else (f"{v.speed['latency_p50_ms']:.2f}", f"{v.speed['latency_p95_ms']:.2f}",
                                                 f"{v.speed['throughput_fps']:.1f}")))
        for v in rows])  # fmt: skip


def _evaluations(rows: list[Any]) -> None:
    print_table("evaluations", ["variant", "subset", "images", "metric", "value", "id"],
                [(e.variant, e.subset, e.item_count, e.metric_name, f"{e.metric_value:.4f}", Id(e.id))
                 for e in rows])  # fmt: skip
