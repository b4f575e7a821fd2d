"""`modelyard label ...`"""

from __future__ import annotations

from typing import Annotated

import typer

from modelyard.cli.output import Id, print_json, print_table
from modelyard.cli.params import LabelArgument, ProjectArgument
from modelyard.cli.state import client

app = typer.Typer(help="Labels of a project.", no_args_is_help=True)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@app.command("add")
def add(
    ctx: typer.Context,
    project: ProjectArgument,
    name: Annotated[str, typer.Argument(help="Name of the new label.")],
    color: Annotated[str | None, typer.Option(help="Hex RGB, e.g. '#ff8800'.")] = None,
    hotkey: Annotated[str | None, typer.Option(help="e.g. '1' or 'ctrl+k'.")] = None,
    json: JsonOption = False,
) -> None:
    """Add a label to a project."""
    _print_one(client(ctx).projects.add_label(project, name, color=color, hotkey=hotkey), json)


@app.command("list")
def list_labels(ctx: typer.Context, project: ProjectArgument, json: JsonOption = False) -> None:
    """List a project's labels."""
    labels = client(ctx).projects.labels(project)
    if json:
        print_json(labels)
        return
    _table(labels)


@app.command("rename")
def rename(
    ctx: typer.Context,
    project: ProjectArgument,
    label: LabelArgument,
    new_name: Annotated[str, typer.Argument(help="The new name.")],
    json: JsonOption = False,
) -> None:
    """Rename a label (by name or id)."""
    _print_one(client(ctx).projects.update_label(project, label, name=new_name), json)


@app.command("recolor")
def recolor(
    ctx: typer.Context,
    project: ProjectArgument,
    label: LabelArgument,
    color: Annotated[str, typer.Argument(help="Hex RGB, e.g. '#ff8800'.")],
    json: JsonOption = False,
) -> None:
    """Change a label's color."""
    _print_one(client(ctx).projects.update_label(project, label, color=color), json)


@app.command("hotkey")
def hotkey(
    ctx: typer.Context,
    project: ProjectArgument,
    label: LabelArgument,
    key: Annotated[str | None, typer.Argument(help="The hotkey; omit to clear it.")] = None,
    json: JsonOption = False,
) -> None:
    """Set or clear a label's hotkey."""
    _print_one(client(ctx).projects.update_label(project, label, hotkey=key), json)


@app.command("usage")
def usage(ctx: typer.Context, project: ProjectArgument, json: JsonOption = False) -> None:
    """How many items and shapes use each label, and how many items are annotated."""
    found = client(ctx).projects.label_usage(project)
    if json:
        print_json(found)
        return
    print_table(
        f"{found.annotated_items} of {found.items} items annotated",
        ["label", "items", "shapes"],
        [(label.label_name, label.items, label.shapes) for label in found.labels],
    )


@app.command("delete")
def delete(
    ctx: typer.Context,
    project: ProjectArgument,
    label: LabelArgument,
    force: Annotated[
        bool, typer.Option("--force", help="Also remove the annotation shapes that use it (refused otherwise).")
    ] = False,
) -> None:
    """Delete a label (refused while annotations use it, unless --force)."""
    client(ctx).projects.delete_label(project, label, force=force)
    print(f"deleted label {label} of project {project}")


def _print_one(label, json: bool) -> None:  # noqa: ANN001
    if json:
        print_json(label)
    else:
        _table([label])


def _table(labels) -> None:  # noqa: ANN001
    print_table(None, ["name", "color", "hotkey", "id"], [(lb.name, lb.color, lb.hotkey, Id(lb.id)) for lb in labels])
