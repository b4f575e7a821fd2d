"""Streams: a project's source, sinks and settings; starting and stopping its worker; status and metrics."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from modelyard.auth.access import EVERY_PROJECT, ProjectAccess
from modelyard.db.base import new_id, utcnow
from modelyard.db.engine import run_after_commit
from modelyard.errors import Conflict, InvalidInput, NotFound
from modelyard.pipelines.repository import PipelineRepository
from modelyard.projects.models import Project
from modelyard.projects.service import ProjectService
from modelyard.storage.service import FileService
from modelyard.stream.metrics import PipelineReading
from modelyard.stream.models import StreamPipeline, StreamSink
from modelyard.stream.paths import uploads_folder
from modelyard.stream.repository import StreamRepository
from modelyard.stream.schemas import (
    SinkCreate,
    SinkMetrics,
    SinkRead,
    SourceConfig,
    StreamMetrics,
    StreamSettings,
    StreamStatus,
    UploadedFrames,
)

log = structlog.get_logger("modelyard.stream")
UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class StreamService:
    def __init__(self, session: Session, files: FileService, actor: str, access: ProjectAccess = EVERY_PROJECT,
                 wake: Callable[[], None] | None = None, supervised: bool = False) -> None:  # fmt: skip
        self.session = session
        self.files = files
        self.actor = actor
        self.access = access
        self.wake = wake or (lambda: None)
        self.supervised = supervised
        """Whether this server runs stream workers (a server does; the SDK's in-process mode does not)."""
        self.streams = StreamRepository(session)

    def project(self, reference: str) -> Project:
        return ProjectService(self.session, self.files, self.actor, self.access).get(reference)

    # -- configuration -----------------------------------------------------------------------
    def set_source(self, project: Project, source: SourceConfig) -> StreamStatus:
        """The stream's one source; a running stream restarts on the new one."""
        if source.path is not None:
            path = Path(source.path)
            if not path.is_absolute():
                raise InvalidInput(f"{path} is relative: give an absolute path on the server")
            if source.kind == "video" and not path.is_file():
                raise InvalidInput(f"the video {path} does not exist on the server")
            if source.kind == "folder" and not path.is_dir():
                raise InvalidInput(f"the folder {path} does not exist on the server: create it first")
        pipeline = self.streams.get_or_create(project.id)
        pipeline.source_kind = source.kind
        pipeline.source = source.model_dump(exclude={"kind"}, exclude_defaults=True)
        self._touched(pipeline)
        log.info("stream.source.set", project=project.id, kind=source.kind)
        return self.status(project)

    def set_settings(self, project: Project, settings: StreamSettings) -> StreamStatus:
        """Threshold, labels and region; a running stream applies them from its next frame."""
        if settings.labels is not None:
            known = {label.name for label in project.labels}
            unknown = sorted(set(settings.labels) - known)
            if unknown:
                raise InvalidInput(f"project {project.name} has no label {', '.join(map(repr, unknown))}; "
                                   f"its labels: {', '.join(sorted(known)) or 'none'}")  # fmt: skip
        pipeline = self.streams.get_or_create(project.id)
        pipeline.settings = settings.model_dump(mode="json", exclude_none=True)
        self._touched(pipeline)
        return self.status(project)

    def add_sink(self, project: Project, request: SinkCreate) -> SinkRead:
        config: dict[str, object]
        if request.kind == "folder":
            path = Path(request.path or "")
            if not path.is_absolute():
                raise InvalidInput(f"{path} is relative: give an absolute path on the server")
            if not path.is_dir():
                raise InvalidInput(f"the folder {path} does not exist on the server: create it first")
            config = {"path": str(path), "draw": request.draw}
        elif request.kind == "webhook":
            config = {"url": request.url}
        elif request.kind == "mqtt":
            config = {"host": request.host, "port": request.port,
                      "topic": request.topic or f"modelyard/{project.name}/predictions"}  # fmt: skip
        else:
            if any(sink.kind == "live" for sink in self.streams.sinks(project.id)):
                raise Conflict(f"the stream of {project.name} already has a live view")
            config = {}
        self._touched(self.streams.get_or_create(project.id))
        sink = self.streams.add_sink(StreamSink(id=new_id(), project_id=project.id, kind=request.kind, config=config,
                                                created_by=self.actor))  # fmt: skip
        log.info("stream.sink.added", project=project.id, sink=sink.id, kind=sink.kind)
        return _sink_read(sink)

    def sinks(self, project: Project) -> list[SinkRead]:
        return [_sink_read(sink) for sink in self.streams.sinks(project.id)]

    def remove_sink(self, project: Project, sink_id: str) -> None:
        sink = self.streams.sink(project.id, sink_id)
        if sink is None:
            raise NotFound(f"the stream of {project.name} has no sink {sink_id}; list them with "
                           f"`modelyard pipeline sinks {project.name}`")  # fmt: skip
        self.streams.delete_sink(sink)
        log.info("stream.sink.removed", project=project.id, sink=sink_id)

    # -- running -----------------------------------------------------------------------------
    def start(self, project: Project) -> StreamStatus:
        pipeline = self.streams.get(project.id)
        if pipeline is None or pipeline.source_kind is None:
            raise Conflict(f"the stream of {project.name} has no source: set one first with "
                           f"`modelyard pipeline source {project.name} --folder DIR` (or --video, --camera, "
                           "--http)", code="stream_without_source")  # fmt: skip
        if PipelineRepository(self.session).get(project.id) is None:
            raise Conflict(f"the pipeline of project {project.name} is disabled: enable a model first with "
                           f"`modelyard pipeline enable {project.name} REVISION`",
                           code="pipeline_disabled")  # fmt: skip
        if pipeline.desired_state != "running":
            pipeline.desired_state = "running"
            pipeline.state = "starting" if self.supervised else "waiting"
            pipeline.last_error = None
            pipeline.restarts = 0
            self._touched(pipeline)
            run_after_commit(self.session, self.wake)
            log.info("stream.started", project=project.id)
        return self.status(project)

    def stop(self, project: Project) -> StreamStatus:
        pipeline = self.streams.get(project.id)
        if pipeline is not None and pipeline.desired_state != "stopped":
            pipeline.desired_state = "stopped"
            if pipeline.worker_pid is None:
                pipeline.state = "stopped"
            self._touched(pipeline)
            run_after_commit(self.session, self.wake)
            log.info("stream.stopped", project=project.id)
        return self.status(project)

    def _touched(self, pipeline: StreamPipeline) -> None:
        pipeline.updated_at, pipeline.updated_by = utcnow(), self.actor
        self.session.flush()

    # -- reading -----------------------------------------------------------------------------
    def status(self, project: Project) -> StreamStatus:
        pipeline = self.streams.get(project.id)
        sinks = self.sinks(project)
        if pipeline is None:
            return StreamStatus(project_id=project.id, source=None, sinks=sinks, settings=StreamSettings(),
                                desired_state="stopped", state="stopped")  # fmt: skip
        source = None
        if pipeline.source_kind is not None:
            source = SourceConfig.model_validate({"kind": pipeline.source_kind, **pipeline.source})
        return StreamStatus(
            project_id=project.id, source=source, sinks=sinks,
            settings=StreamSettings.model_validate(pipeline.settings),
            desired_state="running" if pipeline.desired_state == "running" else "stopped", state=pipeline.state,
            worker_pid=pipeline.worker_pid, started_at=pipeline.started_at, heartbeat_at=pipeline.heartbeat_at,
            restarts=pipeline.restarts, last_error=pipeline.last_error, metrics=_metrics(pipeline, sinks),
        )  # fmt: skip

    def readings(self) -> list[PipelineReading]:
        """Every stream this caller may see, for /metrics."""
        rows = self.session.execute(
            select(StreamPipeline, Project.name).join(Project, Project.id == StreamPipeline.project_id)
        ).all()
        readings = []
        for pipeline, name in rows:
            if not self.access.allows(pipeline.project_id):
                continue
            metrics = StreamMetrics.model_validate(pipeline.metrics) if pipeline.metrics else None
            readings.append(PipelineReading(pipeline.project_id, name, pipeline.state, pipeline.restarts,
                                            pipeline.heartbeat_at, metrics))  # fmt: skip
        return readings

    # -- the HTTP source ---------------------------------------------------------------------
    def accept_uploads(self, project: Project, uploads: Sequence[tuple[str, BinaryIO]]) -> UploadedFrames:
        """Queue uploaded images for the stream (its source must be `http`); written whole, then renamed."""
        pipeline = self.streams.get(project.id)
        if pipeline is None or pipeline.source_kind != "http":
            raise Conflict(f"the stream of {project.name} does not take uploads: set its source with "
                           f"`modelyard pipeline source {project.name} --http`", code="stream_not_http")  # fmt: skip
        folder = uploads_folder(self.files.store.data_dir, project.id)
        folder.mkdir(parents=True, exist_ok=True)
        accepted = []
        for name, content in uploads:
            safe = UNSAFE_NAME.sub("_", Path(name).name).lstrip(".") or "image"
            target = folder / f"{utcnow():%Y%m%dT%H%M%S%f}-{new_id()[:8]}-{safe}"
            partial = folder / f".{target.name}.part"
            with partial.open("wb") as out:
                while chunk := content.read(1 << 20):
                    out.write(chunk)
            os.replace(partial, target)
            accepted.append(target.name)
        return UploadedFrames(project_id=project.id, accepted=accepted)


def _sink_read(sink: StreamSink) -> SinkRead:
    return SinkRead(id=sink.id, kind=sink.kind, config=dict(sink.config), created_at=sink.created_at,
                    created_by=sink.created_by)  # fmt: skip


def _metrics(pipeline: StreamPipeline, sinks: list[SinkRead]) -> StreamMetrics | None:
    if not pipeline.metrics:
        return None
    metrics = StreamMetrics.model_validate(pipeline.metrics)
    reported = {sink.id: sink for sink in metrics.sinks}
    # Sinks added since the worker's last report show with nothing delivered yet.
    metrics.sinks = [reported.get(sink.id) or SinkMetrics(id=sink.id, kind=sink.kind) for sink in sinks]
    return metrics
