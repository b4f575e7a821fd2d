"""Registered models and versions in MLflow's JSON shapes (model_registry.proto, proto3 JSON field names), with
the fields MLflow's own server leaves out left out as well: it writes its protobuf messages with MessageToDict,
which drops empty repeated fields (`tags`, `aliases`, `latest_versions`), and its registered model sets neither
`user_id` nor an empty `description`. The client reads the same entities either way (a missing list is an empty
one, a model's missing description an empty string) and parses fewer fields; a version's `description` stays,
as MLflow sends it (the client reads a missing one as None).

What MLflow keeps that modelyard has no column for lives in the version's `source` document (`mlflow_uri`,
`mlflow_run_id`, `mlflow_run_link`: what was given to `create_model_version`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from modelyard.errors import InvalidInput
from modelyard.registry.models import ModelVersion, RegisteredModel

MLFLOW_SOURCE_KIND = "mlflow"
# modelyard stage -> MLflow's spelling; MLflow accepts any case on input.
STAGE_NAMES = {"none": "None", "staging": "Staging", "production": "Production", "archived": "Archived"}
REGISTRY_ARTIFACT_ROOT = "registry/versions"


def milliseconds(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def stage_from_mlflow(text: str) -> str:
    """`Staging`, `staging`, `STAGING` -> `staging`; INVALID_PARAMETER_VALUE for anything else."""
    stage = text.strip().lower()
    if stage not in STAGE_NAMES:
        raise InvalidInput(f"stage {text!r} is not valid: use one of {', '.join(STAGE_NAMES.values())}")
    return stage


def version_artifact_uri(version_id: str) -> str:
    """Where MLflow's client downloads the version's files: the artifact proxy's view of the version's folder."""
    return f"mlflow-artifacts:/{REGISTRY_ARTIFACT_ROOT}/{version_id}"


def version_body(
    version_id: str,
    model_name: str,
    number: int,
    description: str,
    stage: str,
    mlflow_uri: str | None,
    mlflow_run_id: str | None,
    mlflow_run_link: str | None,
    source_revision_id: str | None,
    created_ms: int,
    updated_ms: int,
    updated_by: str,
    tags: dict[str, str] | None,
    aliases: list[str] | None,
) -> dict[str, Any]:
    """A version in MLflow's shape, from its fields: the source URI and run id are those given to MLflow, or
    else where modelyard keeps the version's files and the training revision it came from. Without tags or
    aliases, the version has neither field, as from MLflow's server."""
    body: dict[str, Any] = {
        "name": model_name,
        "version": str(number),
        "creation_timestamp": created_ms,
        "last_updated_timestamp": updated_ms,
        "user_id": updated_by,
        "current_stage": STAGE_NAMES.get(stage, stage),
        "description": description,
        "source": str(mlflow_uri or version_artifact_uri(version_id)),
        "status": "READY",
    }
    if tags:
        body["tags"] = tag_list(tags)
    if aliases:
        body["aliases"] = sorted(aliases)
    run_id = mlflow_run_id or source_revision_id
    if run_id:
        body["run_id"] = str(run_id)
    if mlflow_run_link:
        body["run_link"] = mlflow_run_link
    return body


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": key, "value": tags[key]} for key in sorted(tags)]


def version_json(version: ModelVersion) -> dict[str, Any]:
    source = version.source or {}
    return version_body(
        version.id, version.model.name, version.number, version.description, version.stage,
        source.get("mlflow_uri"), source.get("mlflow_run_id"), source.get("mlflow_run_link"),
        version.source_revision_id, milliseconds(version.created_at), milliseconds(version.updated_at),
        version.updated_by, {tag.key: tag.value for tag in version.tags}, [alias.alias for alias in version.aliases],
    )  # fmt: skip


def model_body(
    name: str,
    description: str,
    created_ms: int,
    updated_ms: int,
    tags: dict[str, str] | None,
    aliases: dict[str, int] | None,
    latest_versions: list[dict[str, Any]] | None,
) -> dict[str, Any]:
    """A registered model in MLflow's shape, with its latest versions already in theirs: no `user_id` (MLflow's
    server sends none for a model), and no empty description, tags, aliases or latest versions."""
    body: dict[str, Any] = {"name": name, "creation_timestamp": created_ms, "last_updated_timestamp": updated_ms}
    if description:
        body["description"] = description
    if tags:
        body["tags"] = tag_list(tags)
    if aliases:
        body["aliases"] = [{"alias": alias, "version": str(aliases[alias])} for alias in sorted(aliases)]
    if latest_versions:
        body["latest_versions"] = latest_versions
    return body


def model_json(
    model: RegisteredModel, aliases: dict[str, int], latest_versions: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return model_body(
        model.name, model.description, milliseconds(model.created_at), milliseconds(model.updated_at),
        {tag.key: tag.value for tag in model.tags}, aliases, latest_versions,
    )  # fmt: skip


def search_answer(field: str, found: list[dict[str, Any]], token: str | None = None) -> dict[str, Any]:
    """A list answer (`{field: [...], "next_page_token": ...}`): `{}` when nothing was found and no page follows,
    as MLflow's server answers."""
    body: dict[str, Any] = {field: found} if found else {}
    if token:
        body["next_page_token"] = token
    return body
