from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class EvaluateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    variant: str = Field(default="openvino-fp16", description="e.g. pytorch-fp32, openvino-fp16, onnx-fp32.")
    dataset_revision: str | None = Field(default=None, description="Id or number; default: the revision's own.")
    subset: str = Field(default="testing", pattern="^(training|validation|testing)$")
    force: bool = Field(default=False, description="Evaluate again even when the same evaluation is stored.")


class EvaluationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    project_id: str
    revision_id: str
    variant_id: str | None
    variant: str
    dataset_revision_id: str
    subset: str
    item_count: int
    metric_name: str
    metric_value: float
    metrics: dict[str, float]
    per_label: dict[str, Any]
    confusion_matrix: list[list[int]] | None
    predictions_key: str | None
    seconds: float
    job_id: str | None
    created_at: datetime
    created_by: str
