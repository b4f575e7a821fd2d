"""API models of the stream pipeline: its source, sinks, settings, status and metrics."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SourceKind = Literal["video", "camera", "folder", "http"]
SinkKind = Literal["folder", "webhook", "mqtt", "live"]
DEFAULT_MQTT_PORT = 1883


class SourceConfig(BaseModel):
    """One source per pipeline. Paths are on the server (the machine that runs the pipeline)."""

    model_config = ConfigDict(extra="forbid")

    kind: SourceKind
    path: str | None = Field(default=None, max_length=4096, description="video: the file; folder: the folder.")
    loop: bool = Field(default=False, description="video: play the file again from the start when it ends.")
    realtime: bool = Field(
        default=False,
        description="video: deliver frames at the file's frame rate, as a camera would (frames may then drop).",
    )
    device: str | None = Field(default=None, max_length=2048, description="camera: an index (0) or an RTSP/HTTP URL.")

    @model_validator(mode="after")
    def _fields_of_kind(self) -> SourceConfig:
        if self.kind in ("video", "folder") and not self.path:
            raise ValueError(f"a {self.kind} source needs `path`")
        if self.kind == "camera" and not self.device:
            raise ValueError("a camera source needs `device` (an index such as 0, or a stream URL)")
        return self

    @property
    def live(self) -> bool:
        """Whether frames come at the source's pace (dropped when the model lags) rather than on demand."""
        return self.kind == "camera" or (self.kind == "video" and self.realtime)


class SinkCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: SinkKind
    path: str | None = Field(default=None, max_length=4096, description="folder: where the JSON files go.")
    draw: bool = Field(default=False, description="folder: also write each frame with its predictions drawn.")
    url: str | None = Field(default=None, max_length=2048, description="webhook: the URL each frame is POSTed to.")
    host: str | None = Field(default=None, max_length=255, description="mqtt: the broker's host.")
    port: int = Field(default=DEFAULT_MQTT_PORT, ge=1, le=65535, description="mqtt: the broker's port.")
    topic: str | None = Field(default=None, max_length=1024,
                              description="mqtt: the topic (default modelyard/PROJECT/predictions).")  # fmt: skip

    @model_validator(mode="after")
    def _fields_of_kind(self) -> SinkCreate:
        needed = {"folder": "path", "webhook": "url", "mqtt": "host"}.get(self.kind)
        if needed is not None and not getattr(self, needed):
            raise ValueError(f"a {self.kind} sink needs `{needed}`")
        if self.kind == "webhook" and not (self.url or "").startswith(("http://", "https://")):
            raise ValueError("a webhook URL starts with http:// or https://")
        if self.topic is not None and ("#" in self.topic or "+" in self.topic or not self.topic):
            raise ValueError("an MQTT topic to publish to has no wildcards (# or +)")
        return self


class SinkRead(BaseModel):
    id: str
    kind: str
    config: dict[str, Any]
    created_at: datetime
    created_by: str


class Region(BaseModel):
    """A rectangle of the frame in pixels: only it is predicted, and boxes come back in frame pixels."""

    model_config = ConfigDict(extra="forbid")

    x: int = Field(ge=0)
    y: int = Field(ge=0)
    width: int = Field(gt=0)
    height: int = Field(gt=0)


class StreamSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    confidence_threshold: float | None = Field(
        default=None, ge=0.0, le=1.0, description="Overrides the enabled variant's threshold for the stream."
    )
    labels: list[str] | None = Field(
        default=None, max_length=1000, description="Keep only predictions of these label names (none: all)."
    )
    region: Region | None = Field(default=None, description="Region of interest (none: the whole frame).")


class SinkMetrics(BaseModel):
    id: str
    kind: str
    delivered: int = 0
    failed: int = 0
    """Attempts that failed (a webhook or broker that refused or was down); webhook ones are retried."""
    retrying: int = 0
    """Webhook messages that failed at least once and wait for their next attempt."""
    pending: int = 0
    """Webhook messages in the durable outbox, not yet delivered."""


class StreamMetrics(BaseModel):
    """What the running worker counted since it started (it reports twice a second)."""

    since: datetime
    frames_in: int
    frames_processed: int
    frames_dropped: int
    frames_failed: int
    latency_ms_p50: float | None
    """Source timestamp to every sink written."""
    latency_ms_p99: float | None
    model_ms_p50: float | None
    model_ms_p99: float | None
    queue_depth: int
    """Frames waiting between the source and the model, and between the model and the sinks."""
    revision_id: str | None = None
    variant: str | None = None
    sinks: list[SinkMetrics] = Field(default_factory=list)


class StreamStatus(BaseModel):
    project_id: str
    source: SourceConfig | None
    sinks: list[SinkRead]
    settings: StreamSettings
    desired_state: Literal["running", "stopped"]
    state: str
    """stopped, waiting (for a server to run it), starting, running, restarting (after a crash), finished."""
    worker_pid: int | None = None
    started_at: datetime | None = None
    heartbeat_at: datetime | None = None
    restarts: int = 0
    last_error: str | None = None
    metrics: StreamMetrics | None = None


class UploadedFrames(BaseModel):
    project_id: str
    accepted: list[str]
    """The names the uploads were queued under, in order."""
