"""HTTP for deployment packages: a variant as a self-contained zip (graph, config, predict.py, README)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from modelyard.api.deps import Packages
from modelyard.auth.dependencies import Requires

router = APIRouter(tags=["deployment"])


@router.get(
    "/models/{revision_id}/variants/{variant}/package",
    response_class=FileResponse,
    responses={200: {"content": {"application/zip": {}}, "description": "The deployment package."}},
    dependencies=[Requires.read],
)
def download_package(revision_id: str, variant: str, packages: Packages) -> FileResponse:
    """Build the package of an OpenVINO or ONNX variant and stream it; the zip is deleted once sent."""
    path, filename = packages.build(revision_id, variant)
    return FileResponse(path, media_type="application/zip", filename=filename,
                        background=BackgroundTask(path.unlink, missing_ok=True))  # fmt: skip
