"""`modelyard architectures ...` and `modelyard weights ...`"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from modelyard.cli.output import print_fields, print_json, print_table
from modelyard.cli.params import ArchitectureArgument, ProjectArgument
from modelyard.cli.state import client

app = typer.Typer(help="Model architectures that can be trained.", no_args_is_help=True)
weights_app = typer.Typer(help="Pretrained weights cache (download once, or import offline).", no_args_is_help=True)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@app.command("list")
def list_architectures(
    ctx: typer.Context,
    task: Annotated[str | None, typer.Option("--task", help="Only architectures for this task type.")] = None,
    json: JsonOption = False,
) -> None:
    """List architectures, optionally for one task."""
    architectures = client(ctx).architectures.list(task)
    if json:
        print_json(architectures)
        return
    print_table(
        "architectures",
        ["id", "tasks", "params (M)", "GFLOPs", "weights", "status"],
        [
            (a.id, ", ".join(a.tasks), f"{a.stats['parameters'] / 1e6:.1f}", a.stats["gflops"],
             "cached" if a.weights_cached else "-", a.support_status)
            for a in architectures
        ],
    )  # fmt: skip


@app.command("show")
def show(ctx: typer.Context, architecture_id: ArchitectureArgument, json: JsonOption = False) -> None:
    """Show an architecture: input, hyperparameters with defaults and bounds, weights, stats."""
    architecture = client(ctx).architectures.get(architecture_id)
    if json:
        print_json(architecture)
        return
    image_input = architecture.input
    print_fields(
        {
            "id": architecture.id,
            "name": architecture.name,
            "tasks": ", ".join(architecture.tasks),
            "description": architecture.description,
            "license": architecture.license,
            "input": f"{image_input['size']} {image_input['channel_order']} ({image_input['resize']})",
            "weights": (architecture.pretrained_weights or {}).get("url", "-"),
            "cached": architecture.weights_cached,
        }
    )
    rows = []
    for name, spec in architecture.hyperparameters.items():
        nested = spec if "type" not in spec else {name: spec}
        for key, item in nested.items():
            bounds = item.get("choices") or [item.get("min"), item.get("max")]
            label = key if nested is not spec else f"{name}.{key}"
            rows.append((label, item["type"], item["default"], bounds if item["type"] != "bool" else "-"))
    print_table("hyperparameters", ["name", "type", "default", "bounds"], rows)


@app.command("recommend")
def recommend(
    ctx: typer.Context,
    project: ProjectArgument,
    budget: Annotated[str, typer.Option(help="Time the training may take, e.g. 90s, 10m, 1h.")] = "10m",
    goal: Annotated[str, typer.Option(help="fast | balanced | accurate")] = "balanced",
    json: JsonOption = False,
) -> None:
    """The architectures `train --auto` picks from for a project: predicted time on this machine and expected
    quality (the manifest's published metric); the recommended one first."""
    from modelyard.cli.revisions import parse_duration

    found = client(ctx).models.recommend(project, budget_seconds=parse_duration(budget), goal=goal)
    if json:
        print_json(found)
        return
    print_table(
        f"candidates for {project} ({found.goal}, budget {found.budget_seconds:.0f} s on {found.machine})",
        ["", "architecture", "input", "epochs", "predicted s", "speed", "expected quality", "base"],
        [
            (
                "*" if plan.recommended else "",
                plan.architecture,
                plan.input_size,
                f"{plan.epochs}/{plan.target_epochs}",
                f"{plan.predicted_seconds:.0f}",
                "measured" if plan.speed_measured else "estimated",
                f"{plan.reference_metric} {plan.reference_value:g}" if plan.reference_metric else "-",
                plan.base,
            )
            for plan in found.candidates
        ],
    )
    print_fields(found.reasons)


@weights_app.command("list")
def list_weights(ctx: typer.Context, json: JsonOption = False) -> None:
    """Pretrained weights in the cache."""
    cached = client(ctx).architectures.cached_weights()
    if json:
        print_json(cached)
        return
    print_table("cached weights", ["architecture", "size (MB)", "path"],
                [(w.architecture_id, f"{w.size_bytes / 1e6:.1f}", w.path) for w in cached])  # fmt: skip


@weights_app.command("import")
def import_weights(
    ctx: typer.Context,
    architecture_id: ArchitectureArgument,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="The weights file.")],
    json: JsonOption = False,
) -> None:
    """Import weights downloaded elsewhere; refused unless the file's sha256 matches the manifest."""
    weights = client(ctx).architectures.import_weights(architecture_id, file)
    if json:
        print_json(weights)
    else:
        print(f"imported weights for {weights.architecture_id} ({weights.size_bytes} bytes) to {weights.path}")


@weights_app.command("delete")
def delete_weights(ctx: typer.Context, architecture_id: ArchitectureArgument) -> None:
    """Remove an architecture's cached weights (they are downloaded or imported again when needed)."""
    client(ctx).architectures.delete_weights(architecture_id)
    print(f"deleted cached weights of {architecture_id}")
