"""HTTP for deployment packages: a variant as a self-contained zip (graph, config, predict.py, README)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from modelyard.api.deps import Context, DbSession
from modelyard.pipelines.service import DeploymentPackages
from modelyard.storage.service import FileService

router = APIRouter(tags=["deployment"])


def deployment_packages(session: DbSession, context: Context) -> DeploymentPackages:
    return DeploymentPackages(session, FileService(session, context.store))


Packages = Annotated[DeploymentPackages, Depends(deployment_packages)]


@router.get(
    "/models/{revision_id}/variants/{variant}/package",
    response_class=FileResponse,
    responses={200: {"content": {"application/zip": {}}, "description": "The deployment package."}},
)
def download_package(revision_id: str, variant: str, packages: Packages) -> FileResponse:
    """Build the package of an OpenVINO or ONNX variant and stream it; the zip is deleted once sent."""
    path, filename = packages.build(revision_id, variant)
    return FileResponse(path, media_type="application/zip", filename=filename,
                        background=BackgroundTask(path.unlink, missing_ok=True))  # fmt: skip
