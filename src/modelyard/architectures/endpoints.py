"""HTTP for architectures and their pretrained weights."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request, Response, status
from starlette.concurrency import run_in_threadpool

from modelyard.api.deps import Catalog, Context
from modelyard.architectures.schemas import ArchitectureRead, CachedWeightsRead
from modelyard.architectures.service import ArchitectureCatalog
from modelyard.architectures.weights import CachedWeights
from modelyard.auth.dependencies import Requires
from modelyard.errors import PayloadTooLarge
from modelyard.tasks import TaskType

router = APIRouter(tags=["architectures"])


def _read(catalog: ArchitectureCatalog, manifest) -> ArchitectureRead:  # noqa: ANN001
    cached = {weights.architecture_id for weights in catalog.cached_weights()}
    return ArchitectureRead.from_manifest(manifest, manifest.id in cached)


@router.get("/architectures", response_model=list[ArchitectureRead], dependencies=[Requires.read])
def list_architectures(catalog: Catalog, task: TaskType | None = None) -> list[ArchitectureRead]:
    return [_read(catalog, manifest) for manifest in catalog.list(task.value if task else None)]


@router.get("/architectures/{architecture_id}", response_model=ArchitectureRead, dependencies=[Requires.read])
def get_architecture(architecture_id: str, catalog: Catalog) -> ArchitectureRead:
    return _read(catalog, catalog.get(architecture_id))


@router.get("/weights", response_model=list[CachedWeightsRead], dependencies=[Requires.read])
def list_weights(catalog: Catalog) -> list[CachedWeightsRead]:
    return [_weights(weights) for weights in catalog.cached_weights()]


@router.put("/architectures/{architecture_id}/weights", response_model=CachedWeightsRead, dependencies=[Requires.write])
async def import_weights(
    architecture_id: str, request: Request, catalog: Catalog, context: Context
) -> CachedWeightsRead:
    """Upload pretrained weights (the raw file as the body); refused unless the hash matches the manifest."""
    staged = catalog.staging_file()
    try:
        await _stream_to(request, staged, context.settings.max_upload_bytes)
        weights = await run_in_threadpool(catalog.import_weights, architecture_id, staged)
    finally:
        staged.unlink(missing_ok=True)
    return _weights(weights)


@router.delete(
    "/architectures/{architecture_id}/weights", status_code=status.HTTP_204_NO_CONTENT, dependencies=[Requires.admin]
)
def delete_weights(architecture_id: str, catalog: Catalog) -> Response:
    catalog.delete_weights(architecture_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


async def _stream_to(request: Request, target: Path, limit: int) -> None:
    received = 0
    with target.open("wb") as handle:
        async for chunk in request.stream():
            received += len(chunk)
            if received > limit:
                raise PayloadTooLarge(f"upload is larger than the limit of {limit} bytes (MODELYARD_MAX_UPLOAD_BYTES)")
            handle.write(chunk)


def _weights(weights: CachedWeights) -> CachedWeightsRead:
    return CachedWeightsRead(
        architecture_id=weights.architecture_id, family=weights.family, path=str(weights.path),
        size_bytes=weights.size_bytes,
    )  # fmt: skip
