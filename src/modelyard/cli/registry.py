"""`modelyard registry ...`: registered models, versions, files, aliases, stages, history.

Versions are named by references: `name/3`, `name/latest`, `name/production`, `name@champion`.
"""

from __future__ import annotations

import json as jsonlib
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Annotated, Any

import typer

from modelyard.cli.output import print_fields, print_json, print_table
from modelyard.cli.state import client

app = typer.Typer(
    help="Model registry: named models, numbered versions, aliases, stages, history.", no_args_is_help=True
)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]
CommentOption = Annotated[str, typer.Option("--comment", "-m", help="Why; kept in the history.")]
SORTS = "name | description | creation_time | last_updated_time | num_versions"


def _pairs(values: list[str] | None, what: str) -> dict[str, str]:
    pairs = {}
    for value in values or []:
        key, sep, item = value.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{what} {value!r} must look like key=value")
        pairs[key] = item
    return pairs


def _json_value(text: str) -> Any:
    try:
        return jsonlib.loads(text)
    except ValueError:
        return text


def _json_object(text: str | None, what: str) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = jsonlib.loads(text)
    except ValueError as error:
        raise typer.BadParameter(f"{what} is not valid JSON: {error}") from None
    if not isinstance(value, dict):
        raise typer.BadParameter(f"{what} must be a JSON object")
    return value


def _label_map(values: list[str] | None) -> dict[int, str]:
    labels = {}
    for index, name in _pairs(values, "label").items():
        if not index.isdigit():
            raise typer.BadParameter(f"label index {index!r} must be a number (e.g. --label 0=cat)")
        labels[int(index)] = name
    return labels


# -- registered models ---------------------------------------------------------------------------
@app.command("create")
def create(
    ctx: typer.Context,
    name: str,
    description: Annotated[str, typer.Option(help="What the model is for (any length).")] = "",
    metadata: Annotated[str | None, typer.Option(help="A JSON object.")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="key=value; repeat for more.")] = None,
    label: Annotated[list[str] | None, typer.Option("--label", help="A label; repeat for more.")] = None,
    json: JsonOption = False,
) -> None:
    """Create a registered model."""
    model = client(ctx).registry.create(
        name, description=description, metadata=_json_object(metadata, "--metadata"), tags=_pairs(tag, "tag"),
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
def describe(ctx: typer.Context, name: str, json: JsonOption = False) -> None:
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
    name: str,
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
        "name": new_name, "description": description, "add_metadata": _json_object(add_metadata, "--add-metadata"),
        "remove_metadata": remove_metadata or None, "set_tags": _pairs(tag, "tag") or None,
        "remove_tags": remove_tag or None, "add_labels": label or None, "remove_labels": remove_label or None,
    }  # fmt: skip
    body = {key: value for key, value in changes.items() if value is not None}
    _show_model(client(ctx).registry.update(name, **body, comment=comment), json)


@app.command("archive")
def archive(
    ctx: typer.Context,
    name: str,
    undo: Annotated[bool, typer.Option("--undo", help="Unarchive.")] = False,
    json: JsonOption = False,
) -> None:
    """Archive a model (no new versions or changes) or, with --undo, unarchive it."""
    _show_model(client(ctx).registry.archive(name, archived=not undo), json)


@app.command("delete")
def delete(
    ctx: typer.Context,
    reference: Annotated[str, typer.Argument(help="A model name, or a version (name/3) to delete only it.")],
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
    name: str,
    revision: Annotated[str | None, typer.Option("--revision", help="A project's model revision id.")] = None,
    file: Annotated[list[Path] | None, typer.Option("--file", "-f", help="A file to upload; repeat.")] = None,
    framework: Annotated[str, typer.Option(help="pytorch | openvino | onnx | tensorflow | other")] = "other",
    task: Annotated[str | None, typer.Option("--task", help="Task type.")] = None,
    label: Annotated[list[str] | None, typer.Option("--label", help="index=name of the label map; repeat.")] = None,
    metric: Annotated[list[str] | None, typer.Option("--metric", help="name=number; repeat.")] = None,
    param: Annotated[list[str] | None, typer.Option("--param", help="name=value (JSON values); repeat.")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="key=value; repeat.")] = None,
    version_name: Annotated[str, typer.Option("--name", help="A human name for the version.")] = "",
    description: Annotated[str, typer.Option(help="What changed.")] = "",
    create_model: Annotated[bool, typer.Option("--create-model", help="Create the model if missing.")] = False,
    comment: CommentOption = "",
    json: JsonOption = False,
) -> None:
    """Register a version: from a model revision (--revision) or from files (--file)."""
    fields: dict[str, Any] = {"name": version_name, "description": description, "tags": _pairs(tag, "tag"),
                              "comment": comment}  # fmt: skip
    if revision is None:
        fields |= {
            "framework": framework, "task_type": task, "label_map": _label_map(label),
            "metrics": {key: float(value) for key, value in _pairs(metric, "metric").items()},
            "parameters": {key: _json_value(value) for key, value in _pairs(param, "param").items()},
        }  # fmt: skip
    version = client(ctx).registry.register(
        name, revision_id=revision, files=list(file or []), create_model=create_model, **fields
    )
    _show_version(version, json)


@app.command("best")
def best(
    ctx: typer.Context,
    name: str,
    project: Annotated[str, typer.Option(help="Project whose revisions compete.")],
    metric: Annotated[str, typer.Option(help="Evaluation metric to compare.")],
    mode: Annotated[str, typer.Option(help="max | min")] = "max",
    dataset_revision: Annotated[str | None, typer.Option(help="Only revisions trained on it.")] = None,
    json: JsonOption = False,
) -> None:
    """Register a project's best succeeded model revision by an evaluation metric."""
    version = client(ctx).registry.register_best(
        name, project=project, metric=metric, mode=mode, dataset_revision_id=dataset_revision
    )
    _show_version(version, json)


@app.command("versions")
def versions(
    ctx: typer.Context,
    name: str,
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
        ["number", "name", "framework", "stage", "aliases", "metrics", "files", "created"],
        [(v.number, v.name, v.framework.value, v.stage.value, ", ".join(v.aliases),
          ", ".join(f"{k}={val:.4g}" for k, val in v.metrics.items()), len(v.files), v.created_at)
         for v in found],
    )  # fmt: skip


@app.command("version")
def version(
    ctx: typer.Context,
    reference: Annotated[str, typer.Argument(help="name/3, name/latest, name/production or name@alias")],
    new_name: Annotated[str | None, typer.Option("--name", help="Set the version's name.")] = None,
    description: Annotated[str | None, typer.Option(help="Set the description.")] = None,
    label: Annotated[list[str] | None, typer.Option("--label", help="index=name to add or overwrite.")] = None,
    remove_label: Annotated[list[int] | None, typer.Option(help="Label index to remove; repeat.")] = None,
    param: Annotated[list[str] | None, typer.Option("--param", help="name=value to set (JSON values).")] = None,
    metric: Annotated[list[str] | None, typer.Option("--metric", help="name=number to set.")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="key=value to set.")] = None,
    comment: CommentOption = "",
    json: JsonOption = False,
) -> None:
    """Show a version; with options, change it first."""
    changes = {
        "name": new_name, "description": description, "set_labels": _label_map(label) or None,
        "remove_labels": remove_label or None,
        "set_parameters": {k: _json_value(v) for k, v in _pairs(param, "param").items()} or None,
        "set_metrics": {k: float(v) for k, v in _pairs(metric, "metric").items()} or None,
        "set_tags": _pairs(tag, "tag") or None,
    }  # fmt: skip
    body = {key: value for key, value in changes.items() if value is not None}
    registry = client(ctx).registry
    found = registry.update_version(reference, **body, comment=comment) if body else registry.version(reference)
    _show_version(found, json)


@app.command("transfer")
def transfer(
    ctx: typer.Context,
    reference: str,
    target: str,
    create_model: Annotated[bool, typer.Option("--create-model", help="Create the target if missing.")] = False,
    comment: CommentOption = "",
    json: JsonOption = False,
) -> None:
    """Move a version to another model (it takes the next number there)."""
    _show_version(client(ctx).registry.transfer(reference, target, create_model=create_model, comment=comment), json)


@app.command("copy")
def copy(
    ctx: typer.Context,
    reference: str,
    target: str,
    create_model: Annotated[bool, typer.Option("--create-model", help="Create the target if missing.")] = False,
    comment: CommentOption = "",
    json: JsonOption = False,
) -> None:
    """Copy a version into another model (files share their bytes)."""
    _show_version(client(ctx).registry.copy(reference, target, create_model=create_model, comment=comment), json)


# -- aliases and stages --------------------------------------------------------------------------
@app.command("alias")
def alias(
    ctx: typer.Context,
    name: str,
    alias_name: Annotated[str | None, typer.Argument(metavar="ALIAS")] = None,
    version_number: Annotated[int | None, typer.Argument(metavar="VERSION")] = None,
    expected: Annotated[int | None, typer.Option("--expected", help="Move only if this version holds it.")] = None,
    expect_unset: Annotated[bool, typer.Option("--expect-unset", help="Set only if nobody holds it.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Move even if the label maps differ.")] = False,
    remove: Annotated[bool, typer.Option("--remove", help="Remove the alias.")] = False,
    at: Annotated[datetime | None, typer.Option(help="Who held it at this time (UTC unless a zone is given).")] = None,
    comment: CommentOption = "",
    json: JsonOption = False,
) -> None:
    """List aliases (NAME), show one (NAME ALIAS [--at T]), move one (NAME ALIAS VERSION) or --remove it."""
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
    reference: Annotated[str, typer.Argument(help="A version (name/3) to move, or a model name with --holders.")],
    stage_name: Annotated[str, typer.Argument(metavar="STAGE", help="none | staging | production | archived")],
    archive_existing: Annotated[bool, typer.Option(help="Archive the versions now in that stage.")] = False,
    holders: Annotated[bool, typer.Option("--holders", help="Show which versions are (were) in the stage.")] = False,
    at: Annotated[datetime | None, typer.Option(help="With --holders: at this time (UTC unless zoned).")] = None,
    comment: CommentOption = "",
    json: JsonOption = False,
) -> None:
    """Move a version to a stage, or (--holders) show the versions in a stage now or at a time."""
    registry = client(ctx).registry
    if holders or at is not None:
        found = registry.stage_holders(reference, stage_name, at=at)
        if json:
            print_json(found)
        else:
            when = f" at {found.at:%Y-%m-%d %H:%M:%S}" if found.at else ""
            print(f"{reference} {stage_name}{when}: " + (", ".join(map(str, found.versions)) or "no version"))
        return
    moved = registry.stage(reference, stage_name, comment=comment, archive_existing=archive_existing)
    _show_version(moved, json)


# -- files ---------------------------------------------------------------------------------------
@app.command("files")
def files(
    ctx: typer.Context,
    reference: str,
    upload: Annotated[list[Path] | None, typer.Option("--upload", help="Upload (or replace) a file; repeat.")] = None,
    delete_name: Annotated[str | None, typer.Option("--delete", help="Delete the file of this name.")] = None,
    json: JsonOption = False,
) -> None:
    """List a version's files; --upload or --delete first."""
    registry = client(ctx).registry
    for path in upload or []:
        registry.upload(reference, path)
    if delete_name:
        registry.delete_file(reference, delete_name)
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
    reference: str,
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder to write into.")] = Path("."),
    file_name: Annotated[str | None, typer.Option("--file", help="Only this file.")] = None,
) -> None:
    """Download a version's files (hashes checked)."""
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
    name: Annotated[str | None, typer.Argument(help="A model; all events when left out.")] = None,
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
