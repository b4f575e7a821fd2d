"""Registered models and versions in MLflow's JSON shapes (model_registry.proto, proto3 JSON field names).

What MLflow keeps that modelyard has no column for lives in the version's `source` document (`mlflow_uri`,
`mlflow_run_id`, `mlflow_run_link`: what was given to `create_model_version`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from modelyard.errors import InvalidInput
from modelyard.mlflow.registry_rows import ModelRow, VersionRow
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


def mlflow_source(version: VersionRow) -> tuple[str, str]:
    """The (source URI, run id) MLflow shows: as given to MLflow, or where modelyard keeps the version's files
    and the training revision it came from."""
    uri = version.source.get("mlflow_uri") or version_artifact_uri(version.id)
    return str(uri), str(version.source.get("mlflow_run_id") or version.source_revision_id or "")


def tag_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": key, "value": tags[key]} for key in sorted(tags)]


def version_json(version: VersionRow | ModelVersion) -> dict[str, Any]:
    if isinstance(version, ModelVersion):
        version = VersionRow.of(version)
    uri, run_id = mlflow_source(version)
    body: dict[str, Any] = {
        "name": version.model_name,
        "version": str(version.number),
        "creation_timestamp": milliseconds(version.created_at),
        "last_updated_timestamp": milliseconds(version.updated_at),
        "user_id": version.updated_by,
        "current_stage": STAGE_NAMES.get(version.stage, version.stage),
        "description": version.description,
        "source": uri,
        "status": "READY",
        "tags": tag_list(version.tags),
        "aliases": sorted(version.aliases),
    }
    if run_id:
        body["run_id"] = run_id
    run_link = version.source.get("mlflow_run_link")
    if run_link:
        body["run_link"] = run_link
    return body


def model_json(
    model: ModelRow | RegisteredModel, aliases: dict[str, int], latest_versions: list[VersionRow] | None = None
) -> dict[str, Any]:
    if isinstance(model, RegisteredModel):
        model = ModelRow.of(model)
    body: dict[str, Any] = {
        "name": model.name,
        "creation_timestamp": milliseconds(model.created_at),
        "last_updated_timestamp": milliseconds(model.updated_at),
        "user_id": model.updated_by,
        "description": model.description,
        "tags": tag_list(model.tags),
        "aliases": [{"alias": alias, "version": str(number)} for alias, number in sorted(aliases.items())],
    }
    if latest_versions:
        body["latest_versions"] = [version_json(version) for version in latest_versions]
    return body
