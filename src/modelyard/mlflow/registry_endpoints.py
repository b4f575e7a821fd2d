"""HTTP for MLflow's model registry (`registered-models/*`, `model-versions/*`): MLflow's paths, methods and JSON.

GET requests carry their fields as query parameters, the others as JSON bodies, as MLflow's client sends them.
Deleting a model or a version needs the admin scope, as in modelyard's own API.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import to_json

from modelyard.api.deps import Registry
from modelyard.auth.dependencies import Requires
from modelyard.mlflow.registry_service import MlflowRegistry
from modelyard.mlflow.registry_views import search_answer, version_json

router = APIRouter(tags=["mlflow registry"])


async def mlflow_registry(registry: Registry) -> MlflowRegistry:
    return MlflowRegistry(registry)


Service = Annotated[MlflowRegistry, Depends(mlflow_registry)]
Name = Annotated[str, Query(description="The registered model's name.")]
Version = Annotated[str, Query(description="The version number.")]


def respond(body: dict[str, Any]) -> Response:
    return Response(to_json(body), media_type="application/json")


class Tag(BaseModel):
    key: str
    value: str = ""


class MlflowRequest(BaseModel):
    """Fields MLflow's client may send that modelyard has no use for (deployment jobs, logged model ids) are
    accepted and ignored."""

    model_config = ConfigDict(extra="ignore")


class CreateModel(MlflowRequest):
    name: str
    description: str = ""
    tags: list[Tag] = Field(default_factory=list)


class RenameModel(MlflowRequest):
    name: str
    new_name: str


class UpdateModel(MlflowRequest):
    name: str
    description: str | None = None


class ModelName(MlflowRequest):
    name: str


class ModelTag(MlflowRequest):
    name: str
    key: str
    value: str = ""


class ModelTagKey(MlflowRequest):
    name: str
    key: str


class LatestVersions(MlflowRequest):
    name: str
    stages: list[str] = Field(default_factory=list)


class AliasChange(MlflowRequest):
    name: str
    alias: str
    version: str


class AliasName(MlflowRequest):
    name: str
    alias: str


class CreateVersion(MlflowRequest):
    name: str
    source: str = ""
    run_id: str = ""
    run_link: str = ""
    description: str = ""
    tags: list[Tag] = Field(default_factory=list)


class VersionName(MlflowRequest):
    name: str
    version: str


class UpdateVersion(VersionName):
    description: str | None = None


class Transition(VersionName):
    stage: str
    archive_existing_versions: bool = False


class VersionTag(VersionName):
    key: str
    value: str = ""


class VersionTagKey(VersionName):
    key: str


def _tags(tags: list[Tag]) -> dict[str, str]:
    return {tag.key: tag.value for tag in tags}


# -- registered models ---------------------------------------------------------------------------
@router.post("/registered-models/create", dependencies=[Requires.write])
def create_registered_model(body: CreateModel, service: Service) -> Response:
    created = service.create_model(body.name, body.description, _tags(body.tags))
    return respond({"registered_model": created})


@router.get("/registered-models/get", dependencies=[Requires.read])
def get_registered_model(name: Name, service: Service) -> Response:
    return respond({"registered_model": service.model_body(service.get_model(name))})


@router.post("/registered-models/rename", dependencies=[Requires.write])
def rename_registered_model(body: RenameModel, service: Service) -> Response:
    model = service.update_model(body.name, name=body.new_name, comment="renamed through MLflow")
    return respond({"registered_model": service.model_body(model)})


@router.patch("/registered-models/update", dependencies=[Requires.write])
def update_registered_model(body: UpdateModel, service: Service) -> Response:
    model = service.update_model(body.name, description=body.description)
    return respond({"registered_model": service.model_body(model)})


@router.delete("/registered-models/delete", dependencies=[Requires.admin])
def delete_registered_model(body: ModelName, service: Service) -> Response:
    service.delete_model(body.name)
    return respond({})


@router.get("/registered-models/search", dependencies=[Requires.read])
def search_registered_models(
    service: Service,
    filter_string: Annotated[
        str | None, Query(alias="filter", description="MLflow filter string: name and tags.<key>.")
    ] = None,
    max_results: Annotated[int | None, Query()] = None,
    order_by: Annotated[list[str] | None, Query()] = None,
    page_token: Annotated[str | None, Query()] = None,
) -> Response:
    models, token = service.search_models(filter_string, max_results, order_by, page_token)
    return respond(search_answer("registered_models", models, token))


@router.post("/registered-models/get-latest-versions", dependencies=[Requires.read])
def get_latest_versions(body: LatestVersions, service: Service) -> Response:
    return respond(search_answer("model_versions", service.latest_versions(body.name, body.stages)))


@router.get("/registered-models/get-latest-versions", dependencies=[Requires.read])
def get_latest_versions_by_query(
    name: Name, service: Service, stages: Annotated[list[str] | None, Query()] = None
) -> Response:
    return respond(search_answer("model_versions", service.latest_versions(name, stages)))


@router.post("/registered-models/set-tag", dependencies=[Requires.write])
def set_registered_model_tag(body: ModelTag, service: Service) -> Response:
    service.update_model(body.name, set_tags={body.key: body.value})
    return respond({})


@router.delete("/registered-models/delete-tag", dependencies=[Requires.write])
def delete_registered_model_tag(body: ModelTagKey, service: Service) -> Response:
    service.delete_model_tag(body.name, body.key)
    return respond({})


@router.post("/registered-models/alias", dependencies=[Requires.write])
def set_registered_model_alias(body: AliasChange, service: Service) -> Response:
    service.set_alias(body.name, body.alias, body.version)
    return respond({})


@router.delete("/registered-models/alias", dependencies=[Requires.write])
def delete_registered_model_alias(body: AliasName, service: Service) -> Response:
    service.delete_alias(body.name, body.alias)
    return respond({})


@router.get("/registered-models/alias", dependencies=[Requires.read])
def get_model_version_by_alias(name: Name, alias: Annotated[str, Query()], service: Service) -> Response:
    return respond({"model_version": service.version_body_by_alias(name, alias)})


# -- model versions ------------------------------------------------------------------------------
@router.post("/model-versions/create", dependencies=[Requires.write])
def create_model_version(body: CreateVersion, service: Service) -> Response:
    version = service.create_version(
        body.name, body.source, run_id=body.run_id, run_link=body.run_link, description=body.description,
        tags=_tags(body.tags),
    )  # fmt: skip
    return respond({"model_version": version_json(version)})


@router.get("/model-versions/get", dependencies=[Requires.read])
def get_model_version(name: Name, version: Version, service: Service) -> Response:
    return respond({"model_version": service.version_body(name, version)})


@router.patch("/model-versions/update", dependencies=[Requires.write])
def update_model_version(body: UpdateVersion, service: Service) -> Response:
    version = service.update_version(body.name, body.version, description=body.description)
    return respond({"model_version": version_json(version)})


@router.delete("/model-versions/delete", dependencies=[Requires.admin])
def delete_model_version(body: VersionName, service: Service) -> Response:
    service.delete_version(body.name, body.version)
    return respond({})


@router.post("/model-versions/transition-stage", dependencies=[Requires.write])
def transition_model_version_stage(body: Transition, service: Service) -> Response:
    version = service.transition(body.name, body.version, body.stage, body.archive_existing_versions)
    return respond({"model_version": version_json(version)})


@router.get("/model-versions/search", dependencies=[Requires.read])
def search_model_versions(
    service: Service,
    filter_string: Annotated[
        str | None,
        Query(
            alias="filter",
            description="MLflow filter string: name, version_number, run_id, source_path, tags.<key>, metrics.<key>.",
        ),
    ] = None,  # fmt: skip
    max_results: Annotated[int | None, Query()] = None,
    order_by: Annotated[list[str] | None, Query()] = None,
    page_token: Annotated[str | None, Query()] = None,
) -> Response:
    versions, token = service.search_versions(filter_string, max_results, order_by, page_token)
    return respond(search_answer("model_versions", versions, token))


@router.get("/model-versions/get-download-uri", dependencies=[Requires.read])
def get_model_version_download_uri(name: Name, version: Version, service: Service) -> Response:
    return respond({"artifact_uri": service.download_uri(name, version)})


@router.post("/model-versions/set-tag", dependencies=[Requires.write])
def set_model_version_tag(body: VersionTag, service: Service) -> Response:
    service.update_version(body.name, body.version, set_tags={body.key: body.value})
    return respond({})


@router.delete("/model-versions/delete-tag", dependencies=[Requires.write])
def delete_model_version_tag(body: VersionTagKey, service: Service) -> Response:
    service.update_version(body.name, body.version, remove_tags=[body.key])
    return respond({})
