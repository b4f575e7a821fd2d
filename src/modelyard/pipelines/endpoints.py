"""HTTP for a project's inference pipeline: enable, disable, status, predict, batch predict."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import anyio
from fastapi import APIRouter, File, Response, UploadFile, status

from modelyard.api.deps import Context, Jobs, Pipelines, Runtime
from modelyard.auth.access import ProjectAccess
from modelyard.auth.dependencies import Access, Requires
from modelyard.context import AppContext
from modelyard.errors import InvalidInput, PayloadTooLarge
from modelyard.jobs.schemas import JobRead
from modelyard.pipelines.runtime import PipelineRuntime
from modelyard.pipelines.schemas import BatchPredictRequest, PipelineEnable, PipelineStatus, PredictionsRead
from modelyard.pipelines.service import ReceivedImage, open_serving, predict_images

router = APIRouter(tags=["pipelines"])
PIPELINE = "/projects/{project}/pipeline"


@router.get(PIPELINE, response_model=PipelineStatus, dependencies=[Requires.read])
def get_status(project: str, service: Pipelines) -> PipelineStatus:
    """What the project serves, and this server process's metrics since it was enabled."""
    return service.status(service.project(project))


@router.put(PIPELINE, response_model=PipelineStatus, dependencies=[Requires.write])
def enable(project: str, body: PipelineEnable, service: Pipelines) -> PipelineStatus:
    """Serve predictions with a variant of a revision. Swapping variants fails no request in flight."""
    return service.enable(service.project(project), body)


@router.delete(PIPELINE, response_model=PipelineStatus, dependencies=[Requires.write])
def disable(project: str, service: Pipelines) -> PipelineStatus:
    """Stop serving predictions (idempotent)."""
    return service.disable(service.project(project))


@router.post(PIPELINE + ":predict", response_model=PredictionsRead, dependencies=[Requires.write])
async def predict(
    project: str,
    context: Context,
    runtime: Runtime,
    access: Access,
    files: Annotated[list[UploadFile], File(description="One or more images (JPEG, PNG, BMP, TIFF, WebP).")],
) -> Response:
    """Predict each image with the enabled variant; 409 while the pipeline is disabled."""
    images = _received_images(files, context.settings.max_image_bytes)
    # One worker-thread hop for the lookup, the decoding, the inference and the JSON; returning the finished body
    # spares FastAPI a second hop to validate the answer against PredictionsRead again.
    body = await anyio.to_thread.run_sync(_predictions_json, context, runtime, project, images, access)
    return Response(body, media_type="application/json")


def _predictions_json(
    context: AppContext, runtime: PipelineRuntime, project: str, images: list[ReceivedImage], access: ProjectAccess
) -> bytes:
    return predict_images(open_serving(context, runtime, project, access), images).model_dump_json().encode()


@router.post(
    PIPELINE + ":batch-predict",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobRead,
    dependencies=[Requires.write],
)
def batch_predict(project: str, body: BatchPredictRequest, service: Pipelines, jobs: Jobs) -> JobRead:
    """Queue a job predicting every image of a folder on the server; it writes predictions.json there."""
    return JobRead.model_validate(service.start_batch(service.project(project), body, jobs))


def _received_images(uploads: list[UploadFile], limit: int) -> list[ReceivedImage]:
    """The uploads, decoded where they are (the multipart parser keeps small ones in memory)."""
    if not uploads:
        raise InvalidInput("send at least one image in the `files` field")
    images = []
    for index, upload in enumerate(uploads):
        name = Path(upload.filename or f"file-{index}").name
        size = upload.size if upload.size is not None else upload.file.seek(0, os.SEEK_END)
        if size > limit:
            raise PayloadTooLarge(f"{name} is over {limit} bytes (setting MODELYARD_MAX_IMAGE_BYTES)")
        upload.file.seek(0)
        images.append(ReceivedImage(name, upload.file))
    return images
