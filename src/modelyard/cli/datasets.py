"""`modelyard dataset ...` and `modelyard annotate ...`"""

from __future__ import annotations

import json as jsonlib
from itertools import islice
from pathlib import Path
from typing import Annotated, Any

import typer

from modelyard.cli.jobs import exit_if_unsuccessful, follow
from modelyard.cli.output import Id, console, fail, print_fields, print_json, print_table
from modelyard.cli.params import DatasetRevisionArgument, ProjectArgument
from modelyard.cli.state import client

app = typer.Typer(help="Datasets: images, annotations, subsets, revisions, import and export.", no_args_is_help=True)
revision_app = typer.Typer(help="Dataset revisions: immutable Parquet snapshots.", no_args_is_help=True)
app.add_typer(revision_app, name="revision")
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
FORMATS = "coco | voc | yolo | imagenet | datumaro"


@app.command("upload")
def upload(
    ctx: typer.Context,
    project: ProjectArgument,
    paths: Annotated[list[Path], typer.Argument(help="Image files, zips of images, or folders (their images).")],
    atomic: Annotated[bool, typer.Option("--atomic", help="Store nothing if any file is rejected.")] = False,
    json: JsonOption = False,
) -> None:
    """Upload images into a project's dataset."""
    files = _expand(paths)
    if not files:
        fail("no files to upload")
        raise typer.Exit(1)
    result = client(ctx).datasets.upload(project, files, atomic=atomic)
    if json:
        print_json(result)
    else:
        console.print(
            f"stored {len(result.created)}, duplicates {len(result.duplicates)}, rejected {len(result.rejected)}"
        )
        for duplicate in result.duplicates:
            console.print(f"  duplicate: {duplicate.name} (same bytes as item {duplicate.item_id})", highlight=False)
        for rejected in result.rejected:
            fail(f"{rejected.name}: {rejected.reason}")
    if result.rejected:
        raise typer.Exit(1)


def _expand(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")))
        else:
            files.append(path)
    return files


@app.command("items")
def items(
    ctx: typer.Context,
    project: ProjectArgument,
    subset: Annotated[str | None, typer.Option(help="unassigned | training | validation | testing")] = None,
    annotated: Annotated[bool | None, typer.Option("--annotated/--not-annotated", help="Only (not) annotated.")] = None,
    label: Annotated[str | None, typer.Option(help="Only items whose annotation uses this label.")] = None,
    reviewed: Annotated[bool | None, typer.Option("--reviewed/--not-reviewed", help="Only (not) reviewed.")] = None,
    name: Annotated[str | None, typer.Option(help="Only items whose file name holds this (any case).")] = None,
    sort: Annotated[str, typer.Option(help="uploaded_at | name")] = "uploaded_at",
    descending: Annotated[bool, typer.Option("--descending", help="Last first.")] = False,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 100,
    json: JsonOption = False,
) -> None:
    """List a project's dataset items."""
    items = client(ctx).datasets.iterate_items(
        project, subset=subset, annotated=annotated, label=label, user_reviewed=reviewed, name=name, sort=sort,
        order="desc" if descending else "asc", limit=min(limit, 1000),
    )  # fmt: skip
    found = list(islice(items, limit))
    if json:
        print_json(found)
        return
    print_table(
        "items",
        ["id", "name", "size", "subset", "annotation", "reviewed", "uploaded"],
        [
            (
                Id(i.id),
                i.name,
                f"{i.width}x{i.height}",
                i.subset,
                _summary(i.annotation) if i.annotated else "-",
                "yes" if i.user_reviewed else "",
                i.uploaded_at,
            )
            for i in found
        ],
    )


ItemArgument = Annotated[str, typer.Argument(help="Dataset item id (or its first 6+ characters).")]


@app.command("neighbours")
def neighbours(
    ctx: typer.Context,
    project: ProjectArgument,
    item: ItemArgument,
    subset: Annotated[str | None, typer.Option(help="unassigned | training | validation | testing")] = None,
    annotated: Annotated[bool | None, typer.Option("--annotated/--not-annotated", help="Only (not) annotated.")] = None,
    label: Annotated[str | None, typer.Option(help="Only items whose annotation uses this label.")] = None,
    reviewed: Annotated[bool | None, typer.Option("--reviewed/--not-reviewed", help="Only (not) reviewed.")] = None,
    json: JsonOption = False,
) -> None:
    """The items before and after an item (upload order) among those the filters keep."""
    found = client(ctx).datasets.neighbours(
        project, item, subset=subset, annotated=annotated, label=label, user_reviewed=reviewed
    )
    if json:
        print_json(found)
        return
    place = f"{found.position} of {found.total}" if found.position is not None else f"not among the {found.total}"
    print_fields({"previous": found.previous or "-", "next": found.next or "-", "position": place})


@app.command("propose")
def propose(ctx: typer.Context, project: ProjectArgument, item: ItemArgument, json: JsonOption = False) -> None:
    """What the project's enabled model predicts for an item, as an annotation (nothing is stored)."""
    proposal = client(ctx).datasets.propose(project, item)
    if json:
        print_json(proposal)
        return
    rows = [(label.name, "", f"{label.score:.3f}") for label in proposal.labels]
    rows += [(box.label_name, f"box {box.x:.1f},{box.y:.1f} {box.width:.1f}x{box.height:.1f}", f"{box.score:.3f}")
             for box in proposal.boxes]  # fmt: skip
    rows += [(polygon.label_name, f"polygon of {len(polygon.points)} points", f"{polygon.score:.3f}")
             for polygon in proposal.polygons]  # fmt: skip
    print_table(f"proposal of revision {proposal.revision_id} ({proposal.variant})", ["label", "shape", "score"], rows)


def _summary(annotation: Any) -> str:
    if annotation is None:
        return "-"
    if annotation.boxes:
        return f"{len(annotation.boxes)} box(es)"
    if annotation.polygons:
        return f"{len(annotation.polygons)} polygon(s)"
    return ", ".join(label.name for label in annotation.labels) or "(none)"


@app.command("delete")
def delete(
    ctx: typer.Context,
    project: ProjectArgument,
    items: Annotated[list[str], typer.Argument(help="Item ids (or their first 6+ characters).")],
) -> None:
    """Delete dataset items (images stay while a dataset revision references them)."""
    count = client(ctx).datasets.delete_items(project, items)
    print(f"deleted {count} item(s)")


@app.command("revisions")
def revisions(ctx: typer.Context, project: ProjectArgument, json: JsonOption = False) -> None:
    """List a project's dataset revisions, newest first."""
    found = client(ctx).datasets.revisions(project)
    if json:
        print_json(found)
        return
    print_table(
        "dataset revisions",
        ["number", "items", "training", "validation", "testing", "files", "created", "id"],
        [
            (
                r.number,
                r.item_count,
                r.subset_counts.get("training", 0),
                r.subset_counts.get("validation", 0),
                r.subset_counts.get("testing", 0),
                "deleted" if r.files_deleted else "kept",
                r.created_at,
                Id(r.id),
            )
            for r in found
        ],
    )


@app.command("stats")
def stats(
    ctx: typer.Context,
    project: ProjectArgument,
    revision: Annotated[str, typer.Option(help="Dataset revision: id, number or `latest`.")] = "latest",
    json: JsonOption = False,
) -> None:
    """What a dataset revision holds in figures: image and object sizes, labels and imbalance, density."""
    analysis = client(ctx).datasets.analysis(project, revision)
    if json:
        print_json(analysis)
        return
    print_fields(analysis_fields(analysis))
    print_table(
        "labels",
        ["label", "items", "shapes", "share"],
        [(label.label_name, label.items, label.shapes, f"{label.share:.1%}") for label in analysis.labels],
    )


def analysis_fields(analysis: Any) -> dict[str, Any]:
    def spread(value: Any) -> str:
        return f"{value.minimum:g} / {value.median:g} / {value.mean:g} / {value.maximum:g}"

    fields: dict[str, Any] = {
        "task": analysis.task,
        "items": f"{analysis.items} ({', '.join(f'{k} {v}' for k, v in analysis.subsets.items())})",
        "image width (min/median/mean/max)": spread(analysis.image_width),
        "image height (min/median/mean/max)": spread(analysis.image_height),
    }
    if analysis.objects_per_image is not None:
        fields["objects per image (min/median/mean/max)"] = spread(analysis.objects_per_image)
    if analysis.object_sizes is not None:
        sizes = analysis.object_sizes
        fields["object sizes (small/medium/large)"] = (
            f"{sizes.small} / {sizes.medium} / {sizes.large} "
            f"(median side {sizes.median_relative_side:.3f} of the image's)"
        )
    if analysis.annotation_density is not None:
        fields["annotation density"] = f"{analysis.annotation_density:.1%} of an image's area on average"
    fields["imbalance (most / least common label)"] = (
        f"{analysis.imbalance_ratio:g}{' (imbalanced)' if analysis.imbalanced else ''}"
    )
    if analysis.unused_labels:
        fields["unused labels"] = ", ".join(analysis.unused_labels)
    return fields


@revision_app.command("create")
def revision_create(
    ctx: typer.Context,
    project: ProjectArgument,
    split: Annotated[str, typer.Option(help="Ratios of new items: training,validation,testing.")] = "0.7,0.2,0.1",
    seed: Annotated[int, typer.Option(help="Seed of the split.")] = 0,
    json: JsonOption = False,
) -> None:
    """Freeze the annotated items into a revision (reuses the latest when nothing changed)."""
    try:
        training, validation, testing = (float(part) for part in split.split(","))
    except ValueError:
        raise typer.BadParameter("expected three numbers such as 0.7,0.2,0.1", param_hint="--split") from None
    revision = client(ctx).datasets.create_revision(
        project, ratios={"training": training, "validation": validation, "testing": testing}, seed=seed
    )
    _show_revision(revision, json)


@revision_app.command("show")
def revision_show(
    ctx: typer.Context,
    project: ProjectArgument,
    revision: DatasetRevisionArgument,
    json: JsonOption = False,
) -> None:
    """Show a revision (id, number or `latest`)."""
    _show_revision(client(ctx).datasets.revision(project, revision), json)


@revision_app.command("items")
def revision_items(
    ctx: typer.Context,
    project: ProjectArgument,
    revision: DatasetRevisionArgument,
    subset: Annotated[str | None, typer.Option(help="training | validation | testing")] = None,
    limit: Annotated[int, typer.Option(help="At most this many.")] = 100,
    json: JsonOption = False,
) -> None:
    """Browse the items of a revision."""
    page = client(ctx).datasets.revision_items(project, revision, subset=subset, limit=limit)
    if json:
        print_json(page.items)
        return
    print_table(
        "revision items",
        ["item", "subset", "size", "labels", "boxes", "polygons"],
        [
            (Id(i.item_id), i.subset, f"{i.width}x{i.height}", ", ".join(i.label_names), len(i.boxes), len(i.polygons))
            for i in page.items
        ],
    )


@revision_app.command("delete-files")
def revision_delete_files(
    ctx: typer.Context,
    project: ProjectArgument,
    revision: DatasetRevisionArgument,
    force: Annotated[bool, typer.Option("--force", help="Even while kept model revisions need it.")] = False,
    json: JsonOption = False,
) -> None:
    """Delete a revision's files, keeping its record."""
    _show_revision(client(ctx).datasets.delete_revision_files(project, revision, force=force), json)


def _show_revision(revision: Any, json: bool) -> None:
    if json:
        print_json(revision)
        return
    print_fields(
        {
            "revision": f"{revision.number}" + (" (reused: nothing changed)" if revision.reused else ""),
            "id": revision.id,
            "items": revision.item_count,
            "subsets": ", ".join(f"{k} {v}" for k, v in sorted(revision.subset_counts.items())),
            "labels": ", ".join(f"{c.label_name} {c.items}" for c in revision.label_counts) or "-",
            "parquet": f"{revision.parquet_key} ({revision.size} bytes)",
            "files": "deleted" if revision.files_deleted else "kept",
            "created": f"{revision.created_at:%Y-%m-%d %H:%M:%S} by {revision.created_by}",
        }
    )


@app.command("import")
def import_dataset(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Dataset folder or zip.", exists=True)],
    format: Annotated[str, typer.Option("--format", help=FORMATS)],
    project: Annotated[str | None, typer.Option(help="Import into this existing project.")] = None,
    new: Annotated[str | None, typer.Option("--new", help="Create a project with this name.")] = None,
    task: Annotated[str | None, typer.Option(help="Task of the new project.")] = None,
    refuse_unknown_labels: Annotated[
        bool, typer.Option("--refuse-unknown-labels", help="Skip items using labels the project lacks.")
    ] = False,
    testing_fraction: Annotated[
        float | None,
        typer.Option(
            help="Share of training items split off as testing when the source has no testing subset "
            "(default 0.1; 0 splits nothing)."
        ),
    ] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Follow progress until the job ends.")] = False,
    json: JsonOption = False,
) -> None:
    """Import a dataset (COCO, VOC, YOLO, ImageNet, Datumaro) as a job."""
    if (project is None) == (new is None):
        raise typer.BadParameter("give --project P, or --new NAME with --task TASK")
    sdk = client(ctx, run_jobs=wait)
    job = sdk.datasets.import_(
        path, format, project=project, new_project=new, task_type=task,
        unknown_labels="refuse" if refuse_unknown_labels else "create", testing_fraction=testing_fraction,
    )  # fmt: skip
    if wait:
        job = follow(sdk, job.id)
    _show_job(job, json)


@app.command("export")
def export_dataset(
    ctx: typer.Context,
    project: ProjectArgument,
    format: Annotated[str, typer.Option("--format", help=FORMATS)],
    output: Annotated[Path, typer.Option("-o", "--output", help="Where to write the zip.")],
    revision: Annotated[str | None, typer.Option(help="Revision id or number; default: the current dataset.")] = None,
    json: JsonOption = False,
) -> None:
    """Export the dataset or a revision as a zip (waits for the export job)."""
    sdk = client(ctx, run_jobs=True)
    job = follow(sdk, sdk.datasets.export(project, format, revision=revision).id)
    if job.status != "succeeded":
        _show_job(job, json)
    sdk.datasets.download_export(project, job.id, output)
    if json:
        print_json({"job": job.model_dump(mode="json"), "output": str(output)})
    else:
        console.print(f"wrote {output} ({job.result['items']} items, {job.result['size']} bytes)", highlight=False)


def _show_job(job: Any, json: bool) -> None:
    if json:
        print_json(job)
    else:
        print_fields(
            {
                "job": job.id,
                "status": job.status,
                "error": job.error or "-",
                "result": jsonlib.dumps(job.result) if job.result else "-",
            }
        )
    exit_if_unsuccessful(job)


def annotate(
    ctx: typer.Context,
    project: ProjectArgument,
    item: Annotated[str, typer.Argument(help="Dataset item id (or its first 6+ characters).")],
    label: Annotated[list[str] | None, typer.Option("--label", help="A label (classification); repeat.")] = None,
    box: Annotated[list[str] | None, typer.Option("--box", help="x,y,width,height,label (detection); repeat.")] = None,
    polygon: Annotated[
        list[str] | None, typer.Option("--polygon", help="x1,y1,x2,y2,x3,y3,...,label (segmentation); repeat.")
    ] = None,
    empty: Annotated[
        bool, typer.Option("--empty", help="An explicit empty annotation (no label / no object).")
    ] = False,
    reviewed: Annotated[bool | None, typer.Option("--reviewed/--not-reviewed", help="Set user_reviewed.")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Delete the item's annotation.")] = False,
    if_version: Annotated[
        int | None,
        typer.Option("--if-version", help="Only while the stored annotation is this version (else refused)."),
    ] = None,
    json: JsonOption = False,
) -> None:
    """Set (replace) an item's annotation from the command line."""
    datasets = client(ctx).datasets
    if clear:
        result = datasets.delete_annotation(project, item, if_version=if_version)
    else:
        task = client(ctx).projects.get(project).task_type.value
        kwargs: dict[str, Any] = {"user_reviewed": reviewed, "if_version": if_version}
        if label or (empty and "classification" in task):
            kwargs["labels"] = list(label or [])
        if box or (empty and task == "detection"):
            kwargs["boxes"] = [_parse_box(value) for value in box or []]
        if polygon or (empty and task == "instance_segmentation"):
            kwargs["polygons"] = [_parse_polygon(value) for value in polygon or []]
        result = datasets.annotate(project, item, **kwargs)
    if json:
        print_json(result)
    else:
        summary = _summary(result.annotation) if result.annotated else "not annotated"
        console.print(f"{result.id}: {summary} (annotation version {result.annotation_version})")


def _parse_box(value: str) -> dict[str, Any]:
    *numbers, label = value.split(",")
    try:
        x, y, width, height = (float(n) for n in numbers)
    except ValueError:
        raise typer.BadParameter(f"expected x,y,width,height,label, got {value!r}", param_hint="--box") from None
    return {"x": x, "y": y, "width": width, "height": height, "label": label}


def _parse_polygon(value: str) -> dict[str, Any]:
    *numbers, label = value.split(",")
    try:
        coordinates = [float(n) for n in numbers]
    except ValueError:
        raise typer.BadParameter(f"expected x1,y1,...,label, got {value!r}", param_hint="--polygon") from None
    if len(coordinates) % 2:
        raise typer.BadParameter("polygon coordinates come in x,y pairs", param_hint="--polygon")
    return {"points": list(zip(coordinates[0::2], coordinates[1::2], strict=True)), "label": label}
