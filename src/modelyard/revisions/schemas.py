from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from modelyard.kit.limits import JsonObject
from modelyard.kit.names import Name
from modelyard.revisions.states import RevisionStatus, WeightsStatus


class AutoRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    budget_seconds: float = Field(
        default=600, gt=0, le=7 * 24 * 3600, description="Seconds the training itself may take (variants follow)."
    )
    goal: Literal["fast", "balanced", "accurate"] = "balanced"


class TrainRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    architecture: str | None = Field(
        default=None, description="Architecture id, e.g. mobilenet_v3_small; with `auto` it may be left out."
    )
    overrides: JsonObject = Field(
        default_factory=dict, description="Hyperparameters over the stored configuration, e.g. {'epochs': 5}."
    )
    base: str | None = Field(
        default=None,
        description="'pretrained' (published weights; the default), 'scratch' (random init) or a model revision "
        "id to fine-tune; with `auto`, left out: chosen.",
    )
    auto: AutoRequest | None = Field(
        default=None,
        description="Choose the architecture, input size, epochs, batch size, learning rate, augmentations and "
        "class balancing from the dataset's analysis and this machine's speed, to fit the budget; `architecture`, "
        "`base` and `overrides` given beside it are kept.",
    )
    dataset_revision: str | None = Field(
        default=None, description="Dataset revision id or number; default: made from the current dataset (or reused)."
    )
    name: Name | None = None


class CandidateRead(BaseModel):
    """One architecture as auto-configuration would train it within the budget."""

    architecture: str
    recommended: bool
    input_size: int
    preferred_size: int = Field(description="The size the data asks for; input_size is smaller to fit the budget.")
    epochs: int
    target_epochs: int = Field(description="Epochs it aims for; fewer when the budget does not afford them.")
    predicted_seconds: float = Field(description="Predicted training time (decoding, epochs, validation).")
    speed_measured: bool = Field(description="False: estimated from GFLOPs until a training measures this machine.")
    base: str
    budget_seconds: float
    reference_metric: str | None = Field(description="The manifest's published metric, the expected quality.")
    reference_value: float | None


class RecommendationRead(BaseModel):
    budget_seconds: float
    goal: str
    machine: str = Field(description="The machine profile the speeds belong to: device, CPUs, torch threads.")
    candidates: list[CandidateRead] = Field(description="The recommended one first.")
    reasons: dict[str, str] = Field(description="The recommended configuration's choices, each with its reason.")
    hyperparameters: dict[str, Any]


class RevisionLabel(BaseModel):
    index: int
    id: str
    name: str
    color: str | None = None


class ModelRevisionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    project_id: str
    number: int
    name: str
    architecture_id: str
    task_type: str
    status: RevisionStatus
    reason: str | None
    error: str | None
    base: str
    dataset_revision_id: str
    parent_id: str | None
    job_id: str | None
    configuration: dict[str, Any]
    labels: list[RevisionLabel]
    auto_configuration: dict[str, Any] | None = Field(
        default=None, description="What auto-configuration chose and why (null when trained without it)."
    )
    training_device: str | None
    metric_name: str | None
    best_metric: float | None
    best_epoch: int | None
    epochs_trained: int | None
    weights_status: WeightsStatus
    started_at: datetime | None
    finished_at: datetime | None
    created_at: datetime
    created_by: str
    size_bytes: int | None = Field(
        default=None, description="Bytes of its stored variants, weights included (in lists and single reads)."
    )


class RevisionUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name


class Lineage(BaseModel):
    revision: ModelRevisionRead
    ancestors: list[ModelRevisionRead] = Field(description="Parent first, then its parent, and so on.")
    descendants: list[ModelRevisionRead] = Field(description="Every revision fine-tuned from it, at any depth.")


class TrainingConfigurationRead(BaseModel):
    architecture_id: str
    overrides: dict[str, Any]
    hyperparameters: dict[str, Any] = Field(description="The manifest's defaults with the overrides applied.")


class TrainingConfigurationUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    overrides: dict[str, Any]


class VariantRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    revision_id: str
    name: str
    format: str
    precision: str
    folder: str
    model_file: str
    files: list[dict[str, Any]]
    size_bytes: int
    parity: dict[str, Any] | None
    speed: dict[str, Any] | None
    created_at: datetime


class ExportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["openvino", "onnx"] = "openvino"
    precision: Literal["fp32", "fp16"] = "fp16"


class OptimizeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_drop: float | None = Field(default=None, gt=0, le=1, description="Accuracy-controlled: largest absolute drop.")
