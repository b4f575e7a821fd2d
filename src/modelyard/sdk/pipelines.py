"""SDK resource `client.pipelines`: a project's inference pipeline, and deployment packages."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelyard.jobs.schemas import JobRead
from modelyard.pipelines.schemas import (
    DEFAULT_CONFIDENCE_THRESHOLD,
    DEFAULT_VARIANT,
    PipelineStatus,
    PredictionsRead,
)
from modelyard.stream.schemas import (
    DEFAULT_MQTT_PORT,
    SinkRead,
    SourceKind,
    StreamStatus,
    UploadedFrames,
)

if TYPE_CHECKING:
    from modelyard.sdk.client import Client

__all__ = ["Pipelines"]


class Pipelines:
    def __init__(self, client: Client) -> None:
        self._client = client

    def enable(
        self,
        project: str,
        revision: str,
        variant: str = DEFAULT_VARIANT,
        confidence_threshold: float = DEFAULT_CONFIDENCE_THRESHOLD,
    ) -> PipelineStatus:
        """Serve predictions with a variant (e.g. openvino-fp16, openvino-int8) of a model revision."""
        body = {"revision": revision, "variant": variant, "confidence_threshold": confidence_threshold}
        return self._client.send_model(PipelineStatus, "PUT", f"/projects/{project}/pipeline", json=body)

    def disable(self, project: str) -> PipelineStatus:
        return self._client.send_model(PipelineStatus, "DELETE", f"/projects/{project}/pipeline")

    def status(self, project: str) -> PipelineStatus:
        return self._client.get_model(PipelineStatus, f"/projects/{project}/pipeline")

    def predict(self, project: str, paths: Sequence[str | Path] | str | Path) -> PredictionsRead:
        """Predict one or more image files with the project's enabled variant."""
        paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
        with ExitStack() as stack:
            files = [("files", (Path(p).name, stack.enter_context(open(p, "rb")))) for p in paths]
            return self._client.send_model(PredictionsRead, "POST", f"/projects/{project}/pipeline:predict",
                                           files=files)  # fmt: skip

    def batch_predict(self, project: str, input_folder: str | Path, output_folder: str | Path) -> JobRead:
        """Queue a job predicting every image of `input_folder` (a path on the server) into `output_folder`."""
        body = {"input_folder": str(input_folder), "output_folder": str(output_folder)}
        return self._client.send_model(JobRead, "POST", f"/projects/{project}/pipeline:batch-predict", json=body)

    def deploy(self, revision: str, variant: str = DEFAULT_VARIANT, output_path: str | Path = "model.zip") -> Path:
        """Download the deployment package of a revision's variant to `output_path` (written atomically)."""
        destination = Path(output_path)
        destination.parent.mkdir(parents=True, exist_ok=True)
        partial = destination.with_name(destination.name + ".part")
        path = f"/models/{self._client.models.id_of(revision)}/variants/{variant}/package"
        try:
            with self._client.stream("GET", path) as response, \
                    partial.open("wb") as out:  # fmt: skip
                for chunk in response.iter_bytes():
                    out.write(chunk)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        partial.replace(destination)
        return destination

    # -- the stream: source, sinks, settings, worker ---------------------------------------------
    def set_source(
        self,
        project: str,
        kind: SourceKind,
        *,
        path: str | Path | None = None,
        loop: bool = False,
        realtime: bool = False,
        device: str | int | None = None,
    ) -> StreamStatus:
        """The stream's one source: `video` (path, loop, realtime), `camera` (device: index or URL), `folder`
        (path, watched for new images) or `http` (images sent with `upload_frames`). Paths are on the server."""
        body: dict[str, Any] = {"kind": kind, "loop": loop, "realtime": realtime}
        if path is not None:
            body["path"] = str(path)
        if device is not None:
            body["device"] = str(device)
        return self._client.send_model(StreamStatus, "PUT", f"/projects/{project}/pipeline/stream/source", json=body)

    def add_sink(
        self,
        project: str,
        kind: str,
        *,
        path: str | Path | None = None,
        draw: bool = False,
        url: str | None = None,
        host: str | None = None,
        port: int = DEFAULT_MQTT_PORT,
        topic: str | None = None,
    ) -> SinkRead:
        """Add a sink: `folder` (path, draw), `webhook` (url), `mqtt` (host, port, topic) or `live`."""
        body: dict[str, Any] = {"kind": kind, "draw": draw, "url": url, "host": host, "port": port, "topic": topic}
        if path is not None:
            body["path"] = str(path)
        return self._client.send_model(SinkRead, "POST", f"/projects/{project}/pipeline/stream/sinks", json=body)

    def sinks(self, project: str) -> list[SinkRead]:
        found = self._client.request("GET", f"/projects/{project}/pipeline/stream/sinks").json()
        return [SinkRead.model_validate(entry) for entry in found]

    def remove_sink(self, project: str, sink_id: str) -> None:
        self._client.request("DELETE", f"/projects/{project}/pipeline/stream/sinks/{sink_id}")

    def configure_stream(
        self,
        project: str,
        *,
        confidence_threshold: float | None = None,
        labels: Sequence[str] | None = None,
        region: tuple[int, int, int, int] | None = None,
    ) -> StreamStatus:
        """The stream's settings (each None: not applied): threshold, label names kept, region x, y, width, height."""
        body: dict[str, Any] = {"confidence_threshold": confidence_threshold,
                                "labels": list(labels) if labels is not None else None}  # fmt: skip
        if region is not None:
            body["region"] = dict(zip(("x", "y", "width", "height"), region, strict=True))
        return self._client.send_model(StreamStatus, "PUT", f"/projects/{project}/pipeline/stream/settings",
                                       json=body)  # fmt: skip

    def start(self, project: str) -> StreamStatus:
        """Run the stream in a worker process of the server until `stop` (it resumes after server restarts)."""
        return self._client.send_model(StreamStatus, "POST", f"/projects/{project}/pipeline/stream:start")

    def stop(self, project: str) -> StreamStatus:
        return self._client.send_model(StreamStatus, "POST", f"/projects/{project}/pipeline/stream:stop")

    def stream_status(self, project: str) -> StreamStatus:
        return self._client.get_model(StreamStatus, f"/projects/{project}/pipeline/stream")

    def upload_frames(self, project: str, paths: Sequence[str | Path] | str | Path) -> UploadedFrames:
        """Send images to a stream whose source is `http`; its sinks receive their predictions."""
        paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
        with ExitStack() as stack:
            files = [("files", (Path(p).name, stack.enter_context(open(p, "rb")))) for p in paths]
            return self._client.send_model(UploadedFrames, "POST", f"/projects/{project}/pipeline/stream/frames",
                                           files=files)  # fmt: skip

    def live_frames(self, project: str) -> Iterator[dict[str, Any]]:
        """The live view's frames as they come (needs a `live` sink): predictions and `image_jpeg_base64`."""
        for event, data in self._client.stream_events(f"/projects/{project}/pipeline/stream/live"):
            if event == "frame":
                yield data
