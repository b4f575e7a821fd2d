"""HTTP for a project's inference pipeline: enable, disable, status, predict, batch predict."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, UploadFile, status

from modelyard.api.deps import Context, Jobs, Pipelines, Runtime
from modelyard.errors import InvalidInput, PayloadTooLarge
from modelyard.jobs.schemas import JobRead
from modelyard.pipelines.schemas import BatchPredictRequest, PipelineEnable, PipelineStatus, PredictionsRead
from modelyard.pipelines.service import ReceivedImage, open_serving, predict_images

router = APIRouter(tags=["pipelines"])
PIPELINE = "/projects/{project}/pipeline"


@router.get(PIPELINE, response_model=PipelineStatus)
def get_status(project: str, service: Pipelines) -> PipelineStatus:
    """What the project serves, and this server process's metrics since it was enabled."""
    return service.status(service.project(project))


@router.put(PIPELINE, response_model=PipelineStatus)
def enable(project: str, body: PipelineEnable, service: Pipelines) -> PipelineStatus:
    """Serve predictions with a variant of a revision. Swapping variants fails no request in flight."""
    return service.enable(service.project(project), body)


@router.delete(PIPELINE, response_model=PipelineStatus)
def disable(project: str, service: Pipelines) -> PipelineStatus:
    """Stop serving predictions (idempotent)."""
    return service.disable(service.project(project))


@router.post(PIPELINE + ":predict", response_model=PredictionsRead)
def predict(
    project: str,
    context: Context,
    runtime: Runtime,
    files: Annotated[list[UploadFile], File(description="One or more images (JPEG, PNG, BMP, TIFF, WebP).")],
) -> PredictionsRead:
    """Predict each image with the enabled variant; 409 while the pipeline is disabled."""
    active = open_serving(context, runtime, project)
    with _received_images(files, context) as images:
        return predict_images(active, images)


@router.post(PIPELINE + ":batch-predict", status_code=status.HTTP_202_ACCEPTED, response_model=JobRead)
def batch_predict(project: str, body: BatchPredictRequest, service: Pipelines, jobs: Jobs) -> JobRead:
    """Queue a job predicting every image of a folder on the server; it writes predictions.json there."""
    return JobRead.model_validate(service.start_batch(service.project(project), body, jobs))


@contextmanager
def _received_images(uploads: list[UploadFile], context: Context) -> Iterator[list[ReceivedImage]]:
    """The uploaded images as files in the data directory's scratch folder, removed afterwards."""
    if not uploads:
        raise InvalidInput("send at least one image in the `files` field")
    limit = context.settings.max_image_bytes
    scratch = Path(tempfile.mkdtemp(prefix="predict-", dir=context.store.tmp))
    try:
        images = []
        for index, upload in enumerate(uploads):
            name = Path(upload.filename or f"file-{index}").name
            path, size = scratch / str(index), 0
            with path.open("wb") as out:
                while chunk := upload.file.read(1024 * 1024):
                    size += len(chunk)
                    if size > limit:
                        raise PayloadTooLarge(f"{name} is over {limit} bytes (setting MODELYARD_MAX_IMAGE_BYTES)")
                    out.write(chunk)
            images.append(ReceivedImage(name, path))
        yield images
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
