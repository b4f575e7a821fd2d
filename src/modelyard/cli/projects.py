"""`modelyard project ...`"""

from __future__ import annotations

from itertools import islice
from typing import Annotated

import typer

from modelyard.cli.output import Id, print_fields, print_json, print_table
from modelyard.cli.params import ProjectArgument
from modelyard.cli.state import client

app = typer.Typer(help="Projects: a task type and its labels.", no_args_is_help=True)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
TASKS = "multiclass_classification | multilabel_classification | detection | instance_segmentation"


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Name of the new project (unique).")],
    task: Annotated[str, typer.Option("--task", help=TASKS)],
    label: Annotated[list[str] | None, typer.Option("--label", help="A label name; repeat for more.")] = None,
    description: Annotated[str, typer.Option(help="What the project is about.")] = "",
    json: JsonOption = False,
) -> None:
    """Create a project."""
    project = client(ctx).projects.create(name, task, labels=list(label or []), description=description)
    _show(project, json)


@app.command("list")
def list_projects(
    ctx: typer.Context,
    task: Annotated[str | None, typer.Option("--task", help="Only this task type.")] = None,
    name: Annotated[str | None, typer.Option(help="Name contains (case-insensitive).")] = None,
    sort: Annotated[str, typer.Option(help="name | created_at")] = "created_at",
    order: Annotated[str, typer.Option(help="asc | desc")] = "asc",
    limit: Annotated[int, typer.Option(help="At most this many.")] = 1000,
    json: JsonOption = False,
) -> None:
    """List projects."""
    matching = client(ctx).projects.iterate(task_type=task, name=name, sort=sort, order=order)
    projects = list(islice(matching, limit))
    if json:
        print_json(projects)
        return
    print_table(
        "projects",
        ["name", "task", "labels", "items", "models", "created", "id"],
        [
            (p.name, p.task_type.value, ", ".join(label.name for label in p.labels), p.counts.items,
             p.counts.model_revisions, p.created_at, Id(p.id))
            for p in projects
        ],  # fmt: skip
    )


@app.command("show")
def show(ctx: typer.Context, project: ProjectArgument, json: JsonOption = False) -> None:
    """Show a project (by name or id)."""
    _show(client(ctx).projects.get(project), json)


@app.command("rename")
def rename(
    ctx: typer.Context,
    project: ProjectArgument,
    new_name: Annotated[str, typer.Argument(help="The new name.")],
    json: JsonOption = False,
) -> None:
    """Rename a project."""
    _show(client(ctx).projects.update(project, name=new_name), json)


@app.command("describe")
def describe(
    ctx: typer.Context,
    project: ProjectArgument,
    description: Annotated[str, typer.Argument(help="The new description.")],
    json: JsonOption = False,
) -> None:
    """Set a project's description."""
    _show(client(ctx).projects.update(project, description=description), json)


@app.command("delete")
def delete(
    ctx: typer.Context,
    project: ProjectArgument,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a project with everything under it (dataset, models, files)."""
    sdk = client(ctx)
    if not yes:
        counts = sdk.projects.get(project).counts
        typer.confirm(
            f"Delete project {project!r} with {counts.items} item(s), {counts.dataset_revisions} dataset revision(s) "
            f"and {counts.model_revisions} model revision(s) with their files?",
            abort=True,
        )
    sdk.projects.delete(project)
    print(f"deleted project {project}")


def _show(project, json: bool) -> None:  # noqa: ANN001
    if json:
        print_json(project)
        return
    print_fields(
        {
            "name": project.name,
            "id": project.id,
            "task": project.task_type.value,
            "description": project.description or "-",
            "created": f"{project.created_at:%Y-%m-%d %H:%M:%S} by {project.created_by}",
            "updated": f"{project.updated_at:%Y-%m-%d %H:%M:%S} by {project.updated_by}",
            "holds": f"{project.counts.items} item(s), {project.counts.dataset_revisions} dataset revision(s), "
            f"{project.counts.model_revisions} model revision(s), {project.counts.registered_models} registered "
            "model(s)",
        }
    )
    print_table(
        None, ["label", "color", "hotkey", "id"], [(lb.name, lb.color, lb.hotkey, Id(lb.id)) for lb in project.labels]
    )
