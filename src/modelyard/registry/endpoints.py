"""HTTP for the registry: translate requests, call the services, shape responses.

Versions are addressed by a selector in place of a number: `3`, `latest`, a stage, `@alias`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, StreamingResponse
from pydantic import BaseModel, ValidationError
from pydantic_core import to_json

from modelyard.api.deps import Context, Projects, Registry
from modelyard.api.transfers import FILE_BODY, receive_file, stored_body
from modelyard.auth.dependencies import Requires
from modelyard.errors import InvalidInput, PayloadTooLarge
from modelyard.kit.bounds import StoredInt, UtcDatetime
from modelyard.kit.page import Page
from modelyard.kit.pagination import Order, split_rows
from modelyard.registry import moves
from modelyard.registry.files import VersionFiles, register_with_files
from modelyard.registry.promotion import PromotionService
from modelyard.registry.repository import model_sort_value
from modelyard.registry.schemas import (
    AliasName,
    AliasRead,
    AliasSet,
    BestRequest,
    EventRead,
    FileRead,
    LabelInUse,
    MetricFilter,
    ModelCreate,
    ModelDescription,
    ModelHolders,
    ModelRead,
    ModelSort,
    ModelUpdate,
    Stage,
    StageChange,
    StageHolders,
    TransferRequest,
    VersionCreate,
    VersionRead,
    VersionUpdate,
)
from modelyard.registry.service import RegistryService
from modelyard.registry.sources import lookup_evaluations
from modelyard.registry.views import file_read, model_read, version_read
from modelyard.storage.base import Source
from modelyard.storage.endpoints import RedirectAllowed

router = APIRouter(prefix="/registry", tags=["registry"])
METRIC_FILTER = re.compile(r"^(?P<name>[^<>=]+?)\s*(?P<op>>=|<=|>|<|=)\s*(?P<value>[-+0-9.eE]+|inf|-inf)$")
Limit = Annotated[int, Query(ge=1, le=1000)]
Force = Annotated[bool, Query(description="Change the files even if the version holds an alias or a serving stage.")]


def _tag_filters(values: list[str] | None) -> dict[str, str | None]:
    """`key:value` (exact) or `key` (any value)."""
    filters: dict[str, str | None] = {}
    for value in values or []:
        key, sep, tag_value = value.partition(":")
        if not key:
            raise InvalidInput(f"tag filter {value!r} is not valid: use key:value or key")
        filters[key] = tag_value if sep else None
    return filters


def _metric_filter(value: str | None) -> MetricFilter | None:
    if value is None:
        return None
    match = METRIC_FILTER.match(value.strip())
    if match is None:
        raise InvalidInput(f"metric filter {value!r} is not valid: use e.g. 'accuracy>=0.9' (>, >=, <, <=, =)")
    try:
        threshold = float(match["value"])
    except ValueError:
        raise InvalidInput(
            f"metric filter {value!r} is not valid: {match['value']!r} is not a number", code="invalid_metric_filter"
        ) from None
    return MetricFilter(name=match["name"].strip(), operator=match["op"], value=threshold)


def respond(value: BaseModel | list[Any] | dict[str, Any], status_code: int = status.HTTP_200_OK) -> Response:
    """Serialize here, in the endpoint's thread, and hand FastAPI a finished response.

    FastAPI would validate the returned model again on another worker thread *before* the
    request's session commits. Under load every worker thread may be waiting for the write lock
    that this very request holds, so it could never commit; and the second validation costs as
    much as the query. `response_model` stays on the routes for the OpenAPI document.
    """
    body = value.model_dump_json() if isinstance(value, BaseModel) else to_json(value)
    return Response(body, status_code=status_code, media_type="application/json")


# -- registered models ---------------------------------------------------------------------------
@router.post("/models", status_code=status.HTTP_201_CREATED, response_model=ModelRead, dependencies=[Requires.write])
def create_model(body: ModelCreate, service: Registry) -> Response:
    return respond(model_read(service.create_model(body)), status.HTTP_201_CREATED)


@router.get("/models", response_model=Page[ModelRead], dependencies=[Requires.read])
def list_models(
    service: Registry,
    name: Annotated[str | None, Query(description="Name contains (case-insensitive).")] = None,
    description: Annotated[str | None, Query(description="Description contains (case-insensitive).")] = None,
    tag: Annotated[list[str] | None, Query(description="key:value or key; repeat to require all.")] = None,
    label: Annotated[list[str] | None, Query(description="Repeat to require all.")] = None,
    archived: bool | None = None,
    sort: ModelSort = "name",
    order: Order = "asc",
    limit: Limit = 50,
    cursor: str | None = None,
) -> Response:
    rows = service.page_models(
        name_contains=name,
        description_contains=description,
        tags=_tag_filters(tag),
        labels=label or [],
        archived=archived,
        sort=sort,
        order=order,
        limit=limit,
        cursor=cursor,
    )
    items, next_cursor = split_rows(rows, limit, lambda model: (model_sort_value(model, sort), model.id))
    return respond(Page[ModelRead](items=[model_read(model) for model in items], next_cursor=next_cursor))


@router.get("/labels", response_model=list[LabelInUse], dependencies=[Requires.read])
def labels_in_use(service: Registry) -> Response:
    return respond([LabelInUse(label=label, models=count) for label, count in service.labels_in_use()])


@router.get("/models/{name}", response_model=ModelRead, dependencies=[Requires.read])
def get_model(name: str, service: Registry) -> Response:
    return respond(model_read(service.get_model(name)))


@router.get("/models/{name}/describe", response_model=ModelDescription, dependencies=[Requires.read])
def describe_model(name: str, service: Registry) -> Response:
    model = service.get_model(name)
    latest = service.latest_version(model)
    return respond(ModelDescription(model=model_read(model), latest_version=version_read(latest) if latest else None))


@router.patch("/models/{name}", response_model=ModelRead, dependencies=[Requires.write])
def update_model(name: str, body: ModelUpdate, service: Registry) -> Response:
    return respond(model_read(service.update_model(service.get_model(name), body)))


@router.delete("/models/{name}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[Requires.admin])
def delete_model(name: str, service: Registry, comment: str = "") -> Response:
    service.delete_model(service.get_model(name), comment=comment)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -- versions ------------------------------------------------------------------------------------
@router.post(
    "/models/{name}/versions",
    status_code=status.HTTP_201_CREATED,
    response_model=VersionRead,
    dependencies=[Requires.write],
)
def register_version(name: str, body: VersionCreate, service: Registry) -> Response:
    return respond(version_read(service.register(name, body)), status.HTTP_201_CREATED)


@router.post(
    "/models/{name}/versions:upload",
    status_code=status.HTTP_201_CREATED,
    response_model=VersionRead,
    dependencies=[Requires.write],
)
def register_version_with_files(
    name: str,
    service: Registry,
    context: Context,
    file: Annotated[list[UploadFile], File(description="The files' bytes, one multipart field `file` each.")],
    file_name: Annotated[
        list[str], Form(description="The name in the version of each `file`, in the same order (`openvino/model.xml`).")
    ],
    version: Annotated[str, Form(description="The version's fields as a JSON object, as for POST .../versions")] = "{}",
) -> Response:
    """Register a version with its files in one transaction: a refused or failed file leaves no version."""
    try:
        request = VersionCreate.model_validate_json(version)
    except ValidationError as error:
        raise RequestValidationError(error.errors(include_url=False)) from None
    if len(file_name) != len(file):
        raise InvalidInput(f"got {len(file)} files and {len(file_name)} file names: give one `file_name` per `file`")
    limit = context.settings.max_upload_bytes
    for upload in file:
        if upload.size is not None and upload.size > limit:
            raise PayloadTooLarge(f"file is {upload.size} bytes, the limit is {limit} (MODELYARD_MAX_UPLOAD_BYTES)")
    uploads = [(given_name, upload.file) for given_name, upload in zip(file_name, file, strict=True)]
    return respond(version_read(register_with_files(service, name, request, uploads)), status.HTTP_201_CREATED)


@router.post(
    "/models/{name}/versions:best",
    status_code=status.HTTP_201_CREATED,
    response_model=VersionRead,
    dependencies=[Requires.write],
)
def register_best(name: str, body: BestRequest, service: Registry, projects: Projects) -> Response:
    project = projects.get(body.project)
    candidates = lookup_evaluations(service.session, project.id, body.metric)
    version = service.register_best(
        name,
        candidates,
        metric=body.metric,
        mode=body.mode,
        dataset_revision_id=body.dataset_revision_id,
        create_model=body.create_model,
        comment=body.comment,
    )
    return respond(version_read(version), status.HTTP_201_CREATED)


@router.get("/models/{name}/versions", response_model=Page[VersionRead], dependencies=[Requires.read])
def list_versions(
    name: str,
    service: Registry,
    stage: Stage | None = None,
    order: Order = "desc",
    limit: Limit = 50,
    cursor: str | None = None,
) -> Response:
    model = service.get_model(name)
    rows = service.page_versions(model, stage=stage.value if stage else None, order=order, limit=limit, cursor=cursor)
    items, next_cursor = split_rows(rows, limit, lambda version: (version.number, version.id))
    return respond(Page[VersionRead](items=[version_read(version) for version in items], next_cursor=next_cursor))


@router.get("/versions", response_model=Page[VersionRead], dependencies=[Requires.read])
def search_versions(
    service: Registry,
    model: Annotated[str | None, Query(description="Only versions of this registered model.")] = None,
    tag: Annotated[list[str] | None, Query(description="key:value or key; repeat to require all.")] = None,
    metric: Annotated[str | None, Query(description="e.g. accuracy>=0.9; results come best first.")] = None,
    order: Order = "desc",
    limit: Limit = 50,
    cursor: str | None = None,
) -> Response:
    found = service.get_model(model) if model else None
    rows = service.search_versions(
        model=found, tags=_tag_filters(tag), metric=_metric_filter(metric), order=order, limit=limit, cursor=cursor
    )
    items, next_cursor = split_rows(rows, limit, lambda row: (row[1], row[0].id))
    return respond(Page[VersionRead](items=[version_read(version) for version, _ in items], next_cursor=next_cursor))


@router.get("/models/{name}/versions/{selector}", response_model=VersionRead, dependencies=[Requires.read])
def get_version(name: str, selector: str, service: Registry) -> Response:
    return respond(version_read(service.find_version(name, selector)))


@router.patch("/models/{name}/versions/{selector}", response_model=VersionRead, dependencies=[Requires.write])
def update_version(name: str, selector: str, body: VersionUpdate, service: Registry) -> Response:
    version = service.get_version(service.get_model(name), selector)
    return respond(version_read(service.update_version(version, body)))


@router.delete(
    "/models/{name}/versions/{selector}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[Requires.admin],
)
def delete_version(name: str, selector: str, service: Registry, comment: str = "") -> Response:
    service.delete_version(service.get_version(service.get_model(name), selector), comment=comment)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/models/{name}/versions/{selector}/stage", response_model=VersionRead, dependencies=[Requires.write])
def change_stage(name: str, selector: str, body: StageChange, service: Registry) -> Response:
    version = service.get_version(service.get_model(name), selector)
    return respond(version_read(PromotionService(service).change_stage(version, body)))


@router.post("/models/{name}/versions/{selector}/transfer", response_model=VersionRead, dependencies=[Requires.write])
def transfer_version(name: str, selector: str, body: TransferRequest, service: Registry) -> Response:
    version = service.get_version(service.get_model(name), selector)
    moved = moves.transfer_version(
        service, version, body.target_model, create_model=body.create_model, comment=body.comment
    )
    return respond(version_read(moved))


@router.post(
    "/models/{name}/versions/{selector}/copy",
    status_code=status.HTTP_201_CREATED,
    response_model=VersionRead,
    dependencies=[Requires.write],
)
def copy_version(name: str, selector: str, body: TransferRequest, service: Registry) -> Response:
    version = service.get_version(service.get_model(name), selector)
    copied = moves.copy_version(
        service, version, body.target_model, create_model=body.create_model, comment=body.comment
    )
    return respond(version_read(copied), status.HTTP_201_CREATED)


# -- files ---------------------------------------------------------------------------------------
@router.get("/models/{name}/versions/{selector}/files", response_model=list[FileRead], dependencies=[Requires.read])
def list_files(name: str, selector: str, service: Registry) -> Response:
    version = service.get_version(service.get_model(name), selector)
    return respond([file_read(file) for file in version.files])


@router.put(
    "/models/{name}/versions/{selector}/files/{file_name:path}",
    response_model=FileRead,
    dependencies=[Requires.write],
    openapi_extra=FILE_BODY,
)
async def upload_file(
    name: str,
    selector: str,
    file_name: str,
    request: Request,
    service: Registry,
    context: Context,
    force: Force = False,
) -> Response:
    """Store a file in a version: the raw body (`Content-Type: application/octet-stream`, streamed into the
    store as it arrives) or the multipart field `file`. A body that ends early stores nothing."""

    def store(source: Source) -> Response:
        version = service.get_version(service.get_model(name), selector)
        return respond(file_read(VersionFiles(service).upload(version, file_name, source, force=force)))

    return await receive_file(request, context.settings.max_upload_bytes, store)


@router.get("/models/{name}/versions/{selector}/files/{file_name:path}", dependencies=[Requires.read])
def download_file(
    name: str, selector: str, file_name: str, service: Registry, context: Context, redirect: RedirectAllowed = False
) -> Response:
    version = service.get_version(service.get_model(name), selector)
    files = VersionFiles(service)
    file = files.get(version, file_name)
    headers = {
        "x-sha256": file.sha256,
        "x-content-sha256": file.sha256,
        "etag": f'"{file.sha256}"',
        "content-disposition": f"attachment; filename*=UTF-8''{quote(file_name.rsplit('/', 1)[-1])}",
    }
    if redirect and file.size >= context.settings.redirect_min_bytes:
        url = files.download_url(file)
        if url is not None:
            return RedirectResponse(url, status_code=status.HTTP_307_TEMPORARY_REDIRECT, headers=headers)
    # Hashed as it streams: altered bytes end the transfer before its last chunk.
    body = stored_body(files.open(file))
    headers["content-length"] = str(file.size)
    return StreamingResponse(body, media_type="application/octet-stream", headers=headers)


@router.delete(
    "/models/{name}/versions/{selector}/files/{file_name:path}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[Requires.admin],
)
def delete_file(
    name: str, selector: str, file_name: str, service: Registry, force: Force = False, comment: str = ""
) -> Response:
    version = service.get_version(service.get_model(name), selector)
    VersionFiles(service).delete(version, file_name, force=force, comment=comment)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -- aliases and stages --------------------------------------------------------------------------
@router.get("/models/{name}/aliases", response_model=dict[str, int], dependencies=[Requires.read])
def list_aliases(name: str, service: Registry) -> Response:
    return respond(PromotionService(service).aliases(service.get_model(name)))


@router.get("/models/{name}/aliases/{alias}", response_model=AliasRead, dependencies=[Requires.read])
def get_alias(
    name: str,
    alias: str,
    service: Registry,
    at: Annotated[UtcDatetime | None, Query(description="Who held it at this time (from the history).")] = None,
) -> Response:
    model = service.get_model(name)
    if at is not None:
        return respond(AliasRead(alias=alias, version=PromotionService(service).alias_at(model, alias, at), at=at))
    return respond(AliasRead(alias=alias, version=service.get_version(model, f"@{alias}").number))


@router.put("/models/{name}/aliases/{alias}", response_model=VersionRead, dependencies=[Requires.write])
def set_alias(name: str, alias: AliasName, body: AliasSet, service: Registry) -> Response:
    return respond(version_read(PromotionService(service).set_alias(service.get_model(name), alias, body)))


@router.delete("/models/{name}/aliases/{alias}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[Requires.write])
def remove_alias(
    name: str, alias: str, service: Registry, expected_version: StoredInt | None = None, comment: str = ""
) -> Response:
    PromotionService(service).remove_alias(
        service.get_model(name), alias, expected_version=expected_version, comment=comment
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/models/{name}/stages/{stage}", response_model=StageHolders, dependencies=[Requires.read])
def stage_holders(
    name: str,
    stage: Stage,
    service: Registry,
    at: Annotated[UtcDatetime | None, Query(description="Who was in the stage at this time.")] = None,
) -> Response:
    versions = PromotionService(service).stage_holders(service.get_model(name), stage.value, at)
    return respond(StageHolders(stage=stage, versions=versions, at=at))


@router.get("/models/{name}/holders", response_model=ModelHolders, dependencies=[Requires.read])
def holders(
    name: str,
    service: Registry,
    at: Annotated[UtcDatetime | None, Query(description="As of this time (replayed from the history).")] = None,
) -> Response:
    """Every alias with its version and every stage with its versions, in one answer."""
    aliases, stages = PromotionService(service).holders(service.get_model(name), at)
    return respond(ModelHolders(aliases=aliases, stages=stages, at=at))


# -- history -------------------------------------------------------------------------------------
def _events_page(service: RegistryService, limit: int, **filters: Any) -> Response:
    rows = service.history.page(limit=limit, project_ids=service.access.project_ids, **filters)
    items, next_cursor = split_rows(rows, limit, lambda event: (event.id, event.id))
    return respond(Page[EventRead](items=[EventRead.model_validate(e) for e in items], next_cursor=next_cursor))


@router.get("/models/{name}/events", response_model=Page[EventRead], dependencies=[Requires.read])
def model_events(
    name: str,
    service: Registry,
    action: str | None = None,
    version: StoredInt | None = None,
    order: Order = "asc",
    limit: Limit = 100,
    cursor: str | None = None,
) -> Response:
    model = service.get_model(name)
    return _events_page(
        service, limit, model_id=model.id, action=action, version_number=version, order=order, cursor=cursor
    )


@router.get("/events", response_model=Page[EventRead], dependencies=[Requires.read])
def events(
    service: Registry,
    model: Annotated[str | None, Query(description="Model name as it was at the event (works after deletion).")] = None,
    action: str | None = None,
    version: StoredInt | None = None,
    order: Order = "asc",
    limit: Limit = 100,
    cursor: str | None = None,
) -> Response:
    return _events_page(
        service, limit, model_name=model, action=action, version_number=version, order=order, cursor=cursor
    )
