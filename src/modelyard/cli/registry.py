"""`modelyard registry ...`: registered models, versions, files, aliases, stages, history.

Versions are named by references: `name/3`, `name/latest`, `name/production`, `name@champion`. A bare
`name` always means the whole model; commands that act on a version refuse it unless `--latest` is given.
"""

from __future__ import annotations

import json as jsonlib
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Annotated, Any

import typer

from modelyard.cli.output import print_fields, print_json, print_table
from modelyard.cli.params import one_segment
from modelyard.cli.registry_options import (
    json_object,
    json_value,
    key_values,
    label_map_of,
    metrics_of,
    named_files,
    runtime_with,
    version_reference,
)
from modelyard.cli.state import client

app = typer.Typer(
    help="Model registry: named models, numbered versions, aliases, stages, history.", no_args_is_help=True
)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
CommentOption = Annotated[str, typer.Option("--comment", "-m", help="Why; kept in the history.")]
ModelArgument = Annotated[
    str, typer.Argument(metavar="NAME", help="A registered model's name.", callback=one_segment("registered model"))
]
VersionArgument = Annotated[
    str,
    typer.Argument(
        metavar="VERSION", help="name/3, name@alias, name/latest or name/production (or a bare name with --latest)."
    ),
]
LatestOption = Annotated[bool, typer.Option("--latest", help="VERSION is a model name: use its newest version.")]
ForceOption = Annotated[
    bool, typer.Option("--force", help="Change it even if it holds an alias or is in staging or production.")
]
ImageOption = Annotated[str | None, typer.Option("--image", help="Container image, IMAGE[:TAG], to run it in.")]
RuntimeFlagOption = Annotated[
    list[str] | None, typer.Option("--runtime-flag", help="A flag for the container; repeat (replaces the list).")
]
RuntimeEnvOption = Annotated[
    list[str] | None, typer.Option("--runtime-env", help="KEY=VALUE environment of the container; repeat.")
]
SORTS = "name | description | creation_time | last_updated_time | num_versions"


# -- registered models ---------------------------------------------------------------------------
@app.command("create")
def create(
    ctx: typer.Context,
    name: ModelArgument,
    description: Annotated[str, typer.Option(help="What the model is for (any length).")] = "",
    metadata: Annotated[str | None, typer.Option(help="A JSON object.")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="key=value; repeat for more.")] = None,
    label: Annotated[list[str] | None, typer.Option("--label", help="A label; repeat for more.")] = None,
    json: JsonOption = False,
) -> None:
    """Create a registered model."""
    model = client(ctx).registry.create(
        name, description=description, metadata=json_object(metadata, "--metadata"), tags=key_values(tag, "tag"),
        labels=list(label or []),
    )  # fmt: skip
    _show_model(model, json)


@app.command("list")
def list_models(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Option(help="Name contains (case-insensitive).")] = None,
    description: Annotated[str | None, typer.Option(help="Description contains.")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="key:value or key; repeat to require all.")] = None,
    label: Annotated[list[str] | None, typer.Option("--label", help="Repeat to require all.")] = None,
    archived: Annotated[bool | None, typer.Option("--archived/--active", help="Only archived / only active.")] = None,
    sort_by: Annotated[str, typer.Option("--sort-by", help=SORTS)] = "name",
    order_by: Annotated[str, typer.Option("--order-by", help="asc | desc")] = "asc",
    limit: Annotated[int, typer.Option(help="At most this many.")] = 1000,
    json: JsonOption = False,
) -> None:
    """List registered models."""
    matching = client(ctx).registry.iterate(
        name=name, description=description, tags=tag, labels=label, archived=archived, sort=sort_by, order=order_by,
        limit=min(limit, 1000),
    )  # fmt: skip
    models = list(islice(matching, limit))
    if json:
        print_json(models)
        return
    print_table(
        "registered models",
        ["name", "versions", "description", "archived", "created", "updated"],
        [(m.name, m.num_versions, m.description[:60], "yes" if m.archived else "", m.created_at, m.updated_at)
         for m in models],
    )  # fmt: skip


@app.command("describe")
def describe(ctx: typer.Context, name: ModelArgument, json: JsonOption = False) -> None:
    """Show a registered model with its latest version."""
    description = client(ctx).registry.describe(name)
    if json:
        print_json(description)
        return
    _show_model(description.model, False)
    if description.latest_version:
        print()
        _show_version(description.latest_version, False)


@app.command("update")
def update(
    ctx: typer.Context,
    name: ModelArgument,
    new_name: Annotated[str | None, typer.Option("--name", help="Rename the model.")] = None,
    description: Annotated[str | None, typer.Option(help="New description.")] = None,
    add_metadata: Annotated[str | None, typer.Option(help="JSON object merged at the top level.")] = None,
    remove_metadata: Annotated[list[str] | None, typer.Option(help="Top-level key to remove; repeat.")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="key=value to set; repeat.")] = None,
    remove_tag: Annotated[list[str] | None, typer.Option(help="Tag key to remove; repeat.")] = None,
    label: Annotated[list[str] | None, typer.Option("--label", help="Label to add; repeat.")] = None,
    remove_label: Annotated[list[str] | None, typer.Option(help="Label to remove; repeat.")] = None,
    comment: CommentOption = "",
    json: JsonOption = False,
) -> None:
    """Rename a model, or change its description, metadata, tags or labels."""
    changes = {
        "name": new_name, "description": description, "add_metadata": json_object(add_metadata, "--add-metadata"),
        "remove_metadata": remove_metadata or None, "set_tags": key_values(tag, "tag") or None,
        "remove_tags": remove_tag or None, "add_labels": label or None, "remove_labels": remove_label or None,
    }  # fmt: skip
    body = {key: value for key, value in changes.items() if value is not None}
    _show_model(client(ctx).registry.update(name, **body, comment=comment), json)


@app.command("archive")
def archive(
    ctx: typer.Context,
    name: ModelArgument,
    undo: Annotated[bool, typer.Option("--undo", help="Unarchive.")] = False,
    json: JsonOption = False,
) -> None:
    """Archive a model: it becomes read-only (no new versions, no changes, no version deletes) until --undo."""
    _show_model(client(ctx).registry.archive(name, archived=not undo), json)


@app.command("delete")
def delete(
    ctx: typer.Context,
    reference: Annotated[
        str, typer.Argument(metavar="NAME_OR_VERSION", help="A model name (the whole model), or a version (name/3).")
    ],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    comment: CommentOption = "",
) -> None:
    """Delete a model with its versions, or one version. Their files are reclaimed unless still used."""
    is_version = "/" in reference or "@" in reference
    what = f"version {reference}" if is_version else f"registered model {reference!r} and all its versions"
    if not yes:
        typer.confirm(f"Delete {what}?", abort=True)
    if is_version:
        client(ctx).registry.delete_version(reference, comment=comment)
    else:
        client(ctx).registry.delete(reference, comment=comment)
    print(f"deleted {what}")


# -- versions ------------------------------------------------------------------------------------
@app.command("register")
def register(
    ctx: typer.Context,
    name: ModelArgument,
    revision: Annotated[str | None, typer.Option("--revision", help="A project's model revision id.")] = None,
    file: Annotated[
        list[Path] | None,
        typer.Option("--file", "-f", exists=True, dir_okay=False, help="A file to upload (kept by its name); repeat."),
    ] = None,
    file_as: Annotated[
        list[str] | None, typer.Option("--file-as", help="NAME=PATH: upload PATH as NAME (openvino/model.xml).")
    ] = None,
    framework: Annotated[str, typer.Option(help="pytorch | openvino | onnx | tensorflow | other")] = "other",
    task: Annotated[str | None, typer.Option("--task", help="Task type.")] = None,
    label: Annotated[list[str] | None, typer.Option("--label", help="index=name of the label map; repeat.")] = None,
    metric: Annotated[list[str] | None, typer.Option("--metric", help="name=number; repeat.")] = None,
    param: Annotated[list[str] | None, typer.Option("--param", help="name=value (JSON values); repeat.")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="key=value; repeat.")] = None,
    image: ImageOption = None,
    runtime_flag: RuntimeFlagOption = None,
    runtime_env: RuntimeEnvOption = None,
    version_name: Annotated[str, typer.Option("--name", help="A human name for the version.")] = "",
    description: Annotated[str, typer.Option(help="What changed.")] = "",
    create_model: Annotated[bool, typer.Option("--create-model", help="Create the model if missing.")] = False,
    comment: CommentOption = "",
    json: JsonOption = False,
) -> None:
    """Register a version: from a model revision (--revision) or from files (--file); all or nothing."""
    fields: dict[str, Any] = {"name": version_name, "description": description, "tags": key_values(tag, "tag"),
                              "comment": comment}  # fmt: skip
    if revision is None:
        fields |= {
            "framework": framework, "task_type": task, "label_map": label_map_of(label), "metrics": metrics_of(metric),
            "parameters": {key: json_value(value) for key, value in key_values(param, "param").items()},
            "runtime": runtime_with({}, image, runtime_flag, runtime_env) or {},
        }  # fmt: skip
    named = {path.name: path for path in file or []} | named_files(file_as, "--file-as")
    version = client(ctx).registry.register(
        name, revision_id=revision, files=named, create_model=create_model, **fields
    )
    _show_version(version, json)


@app.command("best")
def best(
    ctx: typer.Context,
    name: ModelArgument,
    project: Annotated[str, typer.Option(help="Project whose revisions compete.")],
    metric: Annotated[str, typer.Option(help="Evaluation metric to compare.")],
    mode: Annotated[str, typer.Option(help="max | min")] = "max",
    dataset_revision: Annotated[str | None, typer.Option(help="Only revisions trained on it.")] = None,
    comment: CommentOption = "",
    json: JsonOption = False,
) -> None:
    """Register a project's best succeeded model revision by an evaluation metric."""
    version = client(ctx).registry.register_best(
        name, project=project, metric=metric, mode=mode, dataset_revision_id=dataset_revision, comment=comment
    )
    _show_version(version, json)


@app.command("versions")
def versions(
    ctx: typer.Context,
    name: ModelArgument,
    stage: Annotated[str | None, typer.Option(help="Only versions in this stage.")] = None,
    order_by: Annotated[str, typer.Option("--order-by", help="desc (newest first) | asc")] = "desc",
    limit: Annotated[int, typer.Option(help="At most this many.")] = 100,
    json: JsonOption = False,
) -> None:
    """List a model's versions, newest first."""
    versions = client(ctx).registry.iterate_versions(name, stage=stage, order=order_by, limit=min(limit, 1000))
    found = list(islice(versions, limit))
    if json:
        print_json(found)
        return
    print_table(
        f"versions of {name}",
        ["number", "name", "framework", "stage", "aliases", "metrics", "files", "updated"],
        [(v.number, v.name, v.framework.value, v.stage.value, ", ".join(v.aliases),
          ", ".join(f"{k}={val:.4g}" for k, val in v.metrics.items()), len(v.files), v.updated_at)
         for v in found],
    )  # fmt: skip


@app.command("version")
def version(
    ctx: typer.Context,
    reference: VersionArgument,
    latest: LatestOption = False,
    new_name: Annotated[str | None, typer.Option("--name", help="Set the version's name.")] = None,
    description: Annotated[str | None, typer.Option(help="Set the description.")] = None,
    framework: Annotated[str | None, typer.Option(help="Set: pytorch | openvino | onnx | tensorflow | other")] = None,
    task: Annotated[str | None, typer.Option("--task", help="Set the task type.")] = None,
    label: Annotated[list[str] | None, typer.Option("--label", help="index=name to add or overwrite.")] = None,
    remove_label: Annotated[list[int] | None, typer.Option(help="Label index to remove; repeat.")] = None,
    param: Annotated[list[str] | None, typer.Option("--param", help="name=value to set (JSON values).")] = None,
    remove_param: Annotated[list[str] | None, typer.Option(help="Parameter to remove; repeat.")] = None,
    metric: Annotated[list[str] | None, typer.Option("--metric", help="name=number to set.")] = None,
    remove_metric: Annotated[list[str] | None, typer.Option(help="Metric to remove; repeat.")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="key=value to set.")] = None,
    remove_tag: Annotated[list[str] | None, typer.Option(help="Tag key to remove; repeat.")] = None,
    image: ImageOption = None,
    runtime_flag: RuntimeFlagOption = None,
    runtime_env: RuntimeEnvOption = None,
    force: ForceOption = False,
    comment: CommentOption = "",
    json: JsonOption = False,
) -> None:
    """Show a version; with options, change it first (its label map only with --force while it is in use)."""
    reference = version_reference(reference, latest)
    changes = {
        "name": new_name, "description": description, "framework": framework, "task_type": task,
        "set_labels": label_map_of(label) or None, "remove_labels": remove_label or None,
        "set_parameters": {k: json_value(v) for k, v in key_values(param, "param").items()} or None,
        "remove_parameters": remove_param or None, "set_metrics": metrics_of(metric) or None,
        "remove_metrics": remove_metric or None, "set_tags": key_values(tag, "tag") or None,
        "remove_tags": remove_tag or None,
    }  # fmt: skip
    body: dict[str, Any] = {key: value for key, value in changes.items() if value is not None}
    registry = client(ctx).registry
    if image is not None or runtime_flag is not None or runtime_env is not None:
        current = registry.version(reference).runtime.model_dump()
        body["runtime"] = runtime_with(current, image, runtime_flag, runtime_env)
    if body:
        found = registry.update_version(reference, **body, force=force, comment=comment)
    else:
        found = registry.version(reference)
    _show_version(found, json)


@app.command("transfer")
def transfer(
    ctx: typer.Context,
    reference: VersionArgument,
    target: Annotated[str, typer.Argument(metavar="TARGET", help="The model to move it into.")],
    latest: LatestOption = False,
    create_model: Annotated[bool, typer.Option("--create-model", help="Create the target if missing.")] = False,
    comment: CommentOption = "",
    json: JsonOption = False,
) -> None:
    """Move a version to another model (it takes the next number there)."""
    moved = client(ctx).registry.transfer(
        version_reference(reference, latest), target, create_model=create_model, comment=comment
    )
    _show_version(moved, json)


@app.command("copy")
def copy(
    ctx: typer.Context,
    reference: VersionArgument,
    target: Annotated[str, typer.Argument(metavar="TARGET", help="The model to copy it into.")],
    latest: LatestOption = False,
    create_model: Annotated[bool, typer.Option("--create-model", help="Create the target if missing.")] = False,
    comment: CommentOption = "",
    json: JsonOption = False,
) -> None:
    """Copy a version into another model (files share their bytes)."""
    copied = client(ctx).registry.copy(
        version_reference(reference, latest), target, create_model=create_model, comment=comment
    )
    _show_version(copied, json)


# -- aliases and stages --------------------------------------------------------------------------
@app.command("alias")
def alias(
    ctx: typer.Context,
    name: ModelArgument,
    alias_name: Annotated[str | None, typer.Argument(metavar="ALIAS", help="The alias, e.g. production.")] = None,
    version_number: Annotated[
        int | None, typer.Argument(metavar="NUMBER", help="The version number to point the alias at.")
    ] = None,
    expected: Annotated[int | None, typer.Option("--expected", help="Move only if this version holds it.")] = None,
    expect_unset: Annotated[bool, typer.Option("--expect-unset", help="Set only if nobody holds it.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Move even if the label maps differ.")] = False,
    remove: Annotated[bool, typer.Option("--remove", help="Remove the alias.")] = False,
    at: Annotated[datetime | None, typer.Option(help="Who held it at this time (UTC unless a zone is given).")] = None,
    comment: CommentOption = "",
    json: JsonOption = False,
) -> None:
    """List aliases (NAME), show one (NAME ALIAS [--at T]), move one (NAME ALIAS NUMBER) or --remove it."""
    registry = client(ctx).registry
    if alias_name is None:
        aliases = registry.aliases(name)
        if json:
            print_json(aliases)
        else:
            print_table(f"aliases of {name}", ["alias", "version"], sorted(aliases.items()))
        return
    if remove:
        registry.remove_alias(name, alias_name, expected_version=expected, comment=comment)
        print(f"removed alias {alias_name} of {name}")
        return
    if version_number is None:
        held = registry.alias(name, alias_name, at=at)
        if json:
            print_json(held)
        else:
            when = f" at {held.at:%Y-%m-%d %H:%M:%S}" if held.at else ""
            print(f"{name}@{alias_name}{when}: " + (f"version {held.version}" if held.version else "no version"))
        return
    options: dict[str, Any] = {"force": force, "comment": comment}
    if expect_unset:
        options["expected_version"] = None
    elif expected is not None:
        options["expected_version"] = expected
    _show_version(registry.set_alias(name, alias_name, version_number, **options), json)


@app.command("stage")
def stage(
    ctx: typer.Context,
    reference: Annotated[
        str,
        typer.Argument(
            metavar="VERSION_OR_NAME", help="A version (name/3, name@alias) to move, or a model name with --holders."
        ),
    ],
    stage_name: Annotated[str, typer.Argument(metavar="STAGE", help="none | staging | production | archived")],
    latest: LatestOption = False,
    archive_existing: Annotated[bool, typer.Option(help="Archive the versions now in that stage.")] = False,
    holders: Annotated[bool, typer.Option("--holders", help="Show which versions are (were) in the stage.")] = False,
    at: Annotated[datetime | None, typer.Option(help="With --holders: at this time (UTC unless zoned).")] = None,
    comment: CommentOption = "",
    json: JsonOption = False,
) -> None:
    """Move a version to a stage, or (--holders) show the versions of a model in a stage now or at a time."""
    registry = client(ctx).registry
    if holders or at is not None:
        if "/" in reference or "@" in reference:
            raise typer.BadParameter(f"--holders takes a model name, not the version {reference!r}")
        found = registry.stage_holders(reference, stage_name, at=at)
        if json:
            print_json(found)
        else:
            when = f" at {found.at:%Y-%m-%d %H:%M:%S}" if found.at else ""
            print(f"{reference} {stage_name}{when}: " + (", ".join(map(str, found.versions)) or "no version"))
        return
    reference = version_reference(reference, latest)
    moved = registry.stage(reference, stage_name, comment=comment, archive_existing=archive_existing)
    _show_version(moved, json)


@app.command("holders")
def holders(
    ctx: typer.Context,
    name: ModelArgument,
    at: Annotated[datetime | None, typer.Option(help="As of this time (UTC unless a zone is given).")] = None,
    json: JsonOption = False,
) -> None:
    """Every alias and stage of a model with the versions that hold it, now or --at a past time."""
    found = client(ctx).registry.holders(name, at=at)
    if json:
        print_json(found)
        return
    rows = [(f"@{alias}", str(number)) for alias, number in sorted(found.aliases.items())]
    rows += [(stage, ", ".join(map(str, numbers))) for stage, numbers in found.stages.items()]
    when = f" at {found.at:%Y-%m-%d %H:%M:%S}" if found.at else ""
    print_table(f"holders of {name}{when}", ["alias or stage", "versions"], rows)


# -- files ---------------------------------------------------------------------------------------
@app.command("files")
def files(
    ctx: typer.Context,
    reference: VersionArgument,
    latest: LatestOption = False,
    upload: Annotated[
        list[Path] | None,
        typer.Option("--upload", exists=True, dir_okay=False, help="Upload (or replace) a file by its name; repeat."),
    ] = None,
    upload_as: Annotated[
        list[str] | None, typer.Option("--upload-as", help="NAME=PATH: upload PATH as NAME; repeat.")
    ] = None,
    delete_name: Annotated[str | None, typer.Option("--delete", help="Delete the file of this name.")] = None,
    force: ForceOption = False,
    json: JsonOption = False,
) -> None:
    """List a version's files; --upload or --delete first (with --force while it holds an alias or stage)."""
    reference = version_reference(reference, latest)
    registry = client(ctx).registry
    named = {path.name: path for path in upload or []} | named_files(upload_as, "--upload-as")
    for file_name, path in named.items():
        registry.upload(reference, path, name=file_name, force=force)
    if delete_name:
        registry.delete_file(reference, delete_name, force=force)
    found = registry.files(reference)
    if json:
        print_json(found)
        return
    print_table(
        f"files of {reference}",
        ["name", "size", "category", "sha256"],
        [(f.name, f.size, f.category, f.sha256[:16]) for f in found],
    )


@app.command("download")
def download(
    ctx: typer.Context,
    reference: VersionArgument,
    latest: LatestOption = False,
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder to write into.")] = Path("."),
    file_name: Annotated[str | None, typer.Option("--file", help="Only this file.")] = None,
) -> None:
    """Download a version's files (hashes checked)."""
    reference = version_reference(reference, latest)
    registry = client(ctx).registry
    if file_name:
        paths = [registry.download_file(reference, file_name, output / file_name)]
    else:
        paths = registry.download(reference, output)
    for path in paths:
        print(path)


# -- history -------------------------------------------------------------------------------------
@app.command("events")
def events(
    ctx: typer.Context,
    name: Annotated[
        str | None,
        typer.Argument(metavar="NAME", help="A model, also a deleted one (its recorded history); all when left out."),
    ] = None,
    action: Annotated[str | None, typer.Option(help="Only this action, e.g. alias.set.")] = None,
    version_number: Annotated[int | None, typer.Option("--version", help="Only events of this version number.")] = None,
    order_by: Annotated[str, typer.Option("--order-by", help="asc (oldest first) | desc")] = "asc",
    limit: Annotated[int, typer.Option(help="At most this many.")] = 100,
    json: JsonOption = False,
) -> None:
    """The history of a model (or of the registry): who changed what, when."""
    page = client(ctx).registry.events(
        name, action=action, version=version_number, order=order_by, limit=min(max(limit, 1), 1000)
    )
    if json:
        print_json(page.items)
        return
    print_table(
        "registry events",
        ["at", "actor", "model", "version", "action", "subject", "comment"],
        [(e.at, e.actor, e.model_name, e.version_number, e.action, e.subject, e.comment) for e in page.items],
    )


# -- printing ------------------------------------------------------------------------------------
def _show_model(model: Any, json: bool) -> None:
    if json:
        print_json(model)
        return
    print_fields(
        {
            "name": model.name,
            "id": model.id,
            "description": model.description or "-",
            "metadata": jsonlib.dumps(model.metadata) if model.metadata else "-",
            "tags": ", ".join(f"{k}={v}" for k, v in model.tags.items()) or "-",
            "labels": ", ".join(model.labels) or "-",
            "versions": model.num_versions,
            "archived": "yes" if model.archived else "no",
            "created": f"{model.created_at:%Y-%m-%d %H:%M:%S} by {model.created_by}",
            "updated": f"{model.updated_at:%Y-%m-%d %H:%M:%S} by {model.updated_by}",
        }
    )


def _show_version(version: Any, json: bool) -> None:
    if json:
        print_json(version)
        return
    print_fields(
        {
            "version": f"{version.model}/{version.number}" + (f" ({version.name})" if version.name else ""),
            "id": version.id,
            "framework": version.framework.value,
            "task": version.task_type or "-",
            "stage": version.stage.value,
            "aliases": ", ".join(version.aliases) or "-",
            "labels": ", ".join(f"{k}:{v}" for k, v in version.label_map.items()) or "-",
            "metrics": ", ".join(f"{k}={v:.4g}" for k, v in version.metrics.items()) or "-",
            "parameters": jsonlib.dumps(version.parameters) if version.parameters else "-",
            "tags": ", ".join(f"{k}={v}" for k, v in version.tags.items()) or "-",
            "source": version.source.get("revision_id") or version.source.get("kind", "-"),
            "trainable": "yes" if version.trainable else "no",
            "deployable": "yes" if version.deployable else "no",
            "description": version.description or "-",
            "created": f"{version.created_at:%Y-%m-%d %H:%M:%S} by {version.created_by}",
        }
    )
    if version.files:
        print_table(None, ["file", "size", "category", "sha256"],
                    [(f.name, f.size, f.category, f.sha256[:16]) for f in version.files])  # fmt: skip
