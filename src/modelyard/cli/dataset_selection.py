"""`modelyard dataset counts` and `modelyard dataset bulk`: the dataset as a whole, and many items at once."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from modelyard.cli.output import console, fail, print_json, print_table
from modelyard.cli.params import ProjectArgument
from modelyard.cli.state import client

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
InSubset = Annotated[str | None, typer.Option("--in-subset", help="Only items of this subset.")]
Annotated_ = Annotated[bool | None, typer.Option("--annotated/--not-annotated", help="Only (not) annotated items.")]
WithLabel = Annotated[str | None, typer.Option("--with-label", help="Only items whose annotation uses this label.")]
Reviewed = Annotated[bool | None, typer.Option("--reviewed/--not-reviewed", help="Only (not) reviewed items.")]
NamePart = Annotated[str | None, typer.Option("--name", help="Only items whose file name holds this (any case).")]


def _filters(
    subset: str | None, annotated: bool | None, label: str | None, reviewed: bool | None, name: str | None
) -> dict[str, Any]:
    given = {"subset": subset, "annotated": annotated, "label": label, "user_reviewed": reviewed, "name": name}
    return {key: value for key, value in given.items() if value is not None}


def counts(
    ctx: typer.Context,
    project: ProjectArgument,
    subset: InSubset = None,
    annotated: Annotated_ = None,
    label: WithLabel = None,
    reviewed: Reviewed = None,
    name: NamePart = None,
    json: JsonOption = False,
) -> None:
    """Count a project's items: in all, per subset and per label (of those matching the filters)."""
    found = client(ctx).datasets.counts(project, **_filters(subset, annotated, label, reviewed, name))
    if json:
        print_json(found)
        return
    console.print(
        f"{found.total} item(s), {found.annotated} annotated, {found.user_reviewed} reviewed", highlight=False
    )
    print_table("subsets", ["subset", "items", "annotated", "reviewed"],
                [(s.subset, s.items, s.annotated, s.user_reviewed) for s in found.subsets])  # fmt: skip
    print_table("labels", ["label", "items"], [(label.label_name, label.items) for label in found.labels])


def bulk(
    ctx: typer.Context,
    project: ProjectArgument,
    action: Annotated[str, typer.Argument(help="assign_label | delete | move_to_subset")],
    items: Annotated[list[str] | None, typer.Argument(help="Item ids; or give --all and filters.")] = None,
    label: Annotated[str | None, typer.Option("--label", help="assign_label: the label to assign.")] = None,
    to: Annotated[str | None, typer.Option("--to", help="move_to_subset: the subset to move to.")] = None,
    every: Annotated[bool, typer.Option("--all", help="Every item matching the filters (all without).")] = False,
    exclude: Annotated[list[str] | None, typer.Option("--exclude", help="Leave out this item id.")] = None,
    subset: InSubset = None,
    annotated: Annotated_ = None,
    with_label: WithLabel = None,
    reviewed: Reviewed = None,
    name: NamePart = None,
    json: JsonOption = False,
) -> None:
    """Act on many items at once, all of them or none: assign a label (classification), delete, or move to
    a subset (not items a dataset revision has frozen)."""
    filters = _filters(subset, annotated, with_label, reviewed, name)
    if bool(items) == every:
        fail("give item ids, or --all (with filters to narrow it), not both")
        raise typer.Exit(1)
    if filters and not every:
        fail("filters select items with --all only")
        raise typer.Exit(1)
    result = client(ctx).datasets.bulk(
        project, action, ids=items or None, filter=filters if every else None, exclude=exclude or (),
        label=label, subset=to,
    )  # fmt: skip
    if json:
        print_json(result)
        return
    console.print(f"{result.action}: {result.selected} item(s) selected, {result.changed} changed", highlight=False)
