"""HTTP for streams: source, sinks, settings, start/stop/status, uploads, the live view; Prometheus `/metrics`."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, File, Request, Response, UploadFile, status
from sse_starlette import EventSourceResponse, ServerSentEvent

from modelyard.api.deps import Actor, Context, DbSession, Files
from modelyard.auth.dependencies import Access, Requires
from modelyard.errors import PayloadTooLarge
from modelyard.stream.metrics import prometheus_text
from modelyard.stream.paths import live_folder
from modelyard.stream.schemas import SinkCreate, SinkRead, SourceConfig, StreamSettings, StreamStatus, UploadedFrames
from modelyard.stream.service import StreamService

router = APIRouter(tags=["stream"])
metrics_router = APIRouter(tags=["metrics"])
STREAM = "/projects/{project}/pipeline/stream"
LIVE_POLL_SECONDS = 0.1
KEEPALIVE_SECONDS = 15.0


async def stream_service(session: DbSession, files: Files, actor: Actor, access: Access,
                         request: Request) -> StreamService:  # fmt: skip
    supervisor = getattr(request.app.state, "stream_supervisor", None)
    return StreamService(session, files, actor, access, wake=supervisor.wake if supervisor else None,
                         supervised=supervisor is not None)  # fmt: skip


Streams = Annotated[StreamService, Depends(stream_service)]


@router.get(STREAM, response_model=StreamStatus, dependencies=[Requires.read])
def get_stream(project: str, service: Streams) -> StreamStatus:
    """The stream's source, sinks, settings, worker state and metrics."""
    return service.status(service.project(project))


@router.put(STREAM + "/source", response_model=StreamStatus, dependencies=[Requires.write])
def set_source(project: str, body: SourceConfig, service: Streams) -> StreamStatus:
    """Set the stream's one source (a running stream restarts on it)."""
    return service.set_source(service.project(project), body)


@router.put(STREAM + "/settings", response_model=StreamStatus, dependencies=[Requires.write])
def set_settings(project: str, body: StreamSettings, service: Streams) -> StreamStatus:
    """Confidence threshold, label filter and region of interest, applied from the next frame."""
    return service.set_settings(service.project(project), body)


@router.get(STREAM + "/sinks", response_model=list[SinkRead], dependencies=[Requires.read])
def list_sinks(project: str, service: Streams) -> list[SinkRead]:
    return service.sinks(service.project(project))


@router.post(STREAM + "/sinks", response_model=SinkRead, status_code=status.HTTP_201_CREATED,
             dependencies=[Requires.write])  # fmt: skip
def add_sink(project: str, body: SinkCreate, service: Streams) -> SinkRead:
    """Add a sink (a running stream restarts with it)."""
    return service.add_sink(service.project(project), body)


@router.delete(STREAM + "/sinks/{sink_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[Requires.write])
def remove_sink(project: str, sink_id: str, service: Streams) -> Response:
    service.remove_sink(service.project(project), sink_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(STREAM + ":start", response_model=StreamStatus, dependencies=[Requires.write])
def start(project: str, service: Streams) -> StreamStatus:
    """Run the stream in a worker process of the server, now and after every restart, until stopped."""
    return service.start(service.project(project))


@router.post(STREAM + ":stop", response_model=StreamStatus, dependencies=[Requires.write])
def stop(project: str, service: Streams) -> StreamStatus:
    return service.stop(service.project(project))


@router.post(STREAM + "/frames", response_model=UploadedFrames, status_code=status.HTTP_202_ACCEPTED,
             dependencies=[Requires.write])  # fmt: skip
def upload_frames(
    project: str,
    service: Streams,
    context: Context,
    files: Annotated[list[UploadFile], File(description="Images for a stream whose source is `http`.")],
) -> UploadedFrames:
    """Queue images for the stream; its sinks receive their predictions."""
    found = service.project(project)
    limit = context.settings.max_image_bytes
    for upload in files:
        if upload.size is not None and upload.size > limit:
            raise PayloadTooLarge(f"{upload.filename} is over {limit} bytes (setting MODELYARD_MAX_IMAGE_BYTES)")
    return service.accept_uploads(found, [(upload.filename or "image", upload.file) for upload in files])


@router.get(STREAM + "/live", response_class=EventSourceResponse, dependencies=[Requires.read])
def live_view(project: str, service: Streams, context: Context) -> EventSourceResponse:
    """Server-Sent Events `frame`: the latest frame's predictions, with the frame as a JPEG (base64) with them
    drawn; needs a `live` sink."""
    found = service.project(project)
    folder = live_folder(context.settings.data_dir, found.id)
    return EventSourceResponse(_live_frames(folder), ping=KEEPALIVE_SECONDS)


async def _live_frames(folder: Path) -> AsyncIterator[ServerSentEvent]:
    last_sequence = None
    while True:
        try:
            payload = json.loads(await anyio.Path(folder / "latest.json").read_bytes())
            image = await anyio.Path(folder / "latest.jpg").read_bytes()
        except (OSError, ValueError):
            payload, image = None, b""
        if payload is not None and payload.get("sequence") != last_sequence:
            last_sequence = payload.get("sequence")
            payload["image_jpeg_base64"] = base64.b64encode(image).decode()
            yield ServerSentEvent(json.dumps(payload), event="frame")
        await anyio.sleep(LIVE_POLL_SECONDS)


PROMETHEUS_TEXT: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/plain": {}}, "description": "Prometheus text format."}
}


@metrics_router.get("/metrics", response_class=Response, dependencies=[Requires.read], responses=PROMETHEUS_TEXT)
def metrics(service: Streams) -> Response:
    """Every stream's metrics (those of the projects the caller may see) in Prometheus' text format."""
    from prometheus_client import CONTENT_TYPE_LATEST

    return Response(prometheus_text(service.readings()), media_type=CONTENT_TYPE_LATEST)
