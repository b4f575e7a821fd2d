"""API models of the per-project pipeline: enabling a variant, its status and metrics, predictions."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from modelyard.pipelines.defaults import DEFAULT_CONFIDENCE_THRESHOLD, DEFAULT_VARIANT

BATCH_PREDICT_JOB = "pipeline.batch_predict"


class PipelineEnable(BaseModel):
    model_config = ConfigDict(extra="forbid")

    revision: str = Field(min_length=1, description="Model revision id (of this project).")
    variant: str = Field(
        default=DEFAULT_VARIANT, description="FORMAT-PRECISION, e.g. openvino-fp16, openvino-int8, onnx-fp32."
    )
    confidence_threshold: float = Field(default=DEFAULT_CONFIDENCE_THRESHOLD, ge=0.0, le=1.0)


class PipelineMetrics(BaseModel):
    """Counters of this server process since the pipeline was last enabled (or this process loaded it)."""

    since: datetime
    requests: int
    failed_requests: int
    images: int
    latency_ms_p50: float | None
    latency_ms_p95: float | None
    latency_ms_p99: float | None
    throughput_images_per_second: float
    """Images answered per second of wall time since `since`."""


class PipelineStatus(BaseModel):
    project_id: str
    enabled: bool
    revision_id: str | None = None
    revision_number: int | None = None
    revision_name: str | None = None
    variant: str | None = None
    variant_id: str | None = None
    confidence_threshold: float | None = None
    enabled_at: datetime | None = None
    enabled_by: str | None = None
    loaded: bool = False
    """Whether this server process holds the variant in memory (it loads it on the first request if not)."""
    metrics: PipelineMetrics | None = None


class LabelScoreRead(BaseModel):
    index: int
    id: str
    name: str
    score: float


class DetectedObjectRead(BaseModel):
    label: LabelScoreRead
    box: tuple[float, float, float, float]
    """x, y, width, height in pixels of the original image."""
    polygons: list[list[float]] = Field(default_factory=list)


class FilePrediction(BaseModel):
    file: str
    task: str
    width: int
    height: int
    labels: list[LabelScoreRead] = Field(default_factory=list)
    scores: list[float] = Field(default_factory=list)
    objects: list[DetectedObjectRead] = Field(default_factory=list)


class PredictionsRead(BaseModel):
    project_id: str
    revision_id: str
    variant: str
    confidence_threshold: float
    predictions: list[FilePrediction]


class BatchPredictRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input_folder: str = Field(min_length=1, description="Absolute path of a folder of images, on the server.")
    output_folder: str = Field(min_length=1, description="Absolute path on the server; predictions.json goes there.")


class BatchPredictParams(BaseModel):
    """Parameters of the `pipeline.batch_predict` job (paths are on the machine that runs the job)."""

    model_config = ConfigDict(extra="forbid")

    project_id: str
    input_folder: str
    output_folder: str

    @field_validator("input_folder", "output_folder")
    @classmethod
    def _absolute(cls, value: str) -> str:
        if not Path(value).is_absolute():
            raise ValueError(f"{value!r} is relative; give an absolute path on the server")
        return value
