"""The jobs of a model revision: one name each, and the parameter model each is submitted as.

Kept apart from the job bodies so the service can submit a job without importing what runs it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from modelyard.tuning.job_params import TrialLink

TRAIN_JOB = "revision.train"
EXPORT_JOB = "revision.export"
EVALUATE_JOB = "revision.evaluate"
OPTIMIZE_JOB = "revision.optimize"


class AutoParams(BaseModel):
    """What `train --auto` asked for: the job chooses the rest from the dataset's analysis and this machine."""

    model_config = ConfigDict(extra="forbid")

    budget_seconds: float = Field(gt=0, description="Seconds the training itself may take.")
    goal: Literal["fast", "balanced", "accurate"] = "balanced"
    explicit: dict[str, Any] = Field(default_factory=dict, description="Overrides given with --auto: kept as given.")
    architecture: str | None = Field(default=None, description="Given explicitly: only the rest is chosen.")
    base: str | None = Field(default=None, description="`pretrained` or `scratch` given explicitly.")


class TrainParams(BaseModel):
    """Params of the `revision.train` job: what start_training checked, resolved."""

    model_config = ConfigDict(extra="forbid")

    project_id: str
    architecture: str = Field(description="Empty with `auto`: the job chooses it.")
    hyperparameters: dict[str, Any]
    hyperparameter_sources: dict[str, str] = Field(
        default_factory=dict, description="Dotted name -> where its value comes from (parent, overrides, ...)."
    )
    base: str = Field(description="`pretrained`, `scratch` or `revision` (then `parent_id` names it).")
    parent_id: str | None = None
    dataset_revision_id: str | None = None
    name: str | None = None
    trial: TrialLink | None = Field(default=None, description="The study this training is a trial of.")
    variants: bool = Field(default=True, description="Export and evaluate variants once trained.")
    auto: AutoParams | None = None
    auto_configuration: dict[str, Any] | None = Field(
        default=None, description="Set by the job once it has chosen: what and why (stored on the revision)."
    )


class ExportParams(BaseModel):
    """Params of the `revision.export` job."""

    model_config = ConfigDict(extra="forbid")

    revision_id: str
    format: Literal["openvino", "onnx"]
    precision: Literal["fp32", "fp16"] = "fp16"
    evaluate: bool = True


class EvaluateParams(BaseModel):
    """Params of the `revision.evaluate` job."""

    model_config = ConfigDict(extra="forbid")

    revision_id: str
    variant: str = "openvino-fp16"
    dataset_revision: str | None = None
    subset: str = "testing"
    force: bool = Field(default=False, description="Run even when the same evaluation is stored already.")


class OptimizeParams(BaseModel):
    """Params of the `revision.optimize` job."""

    model_config = ConfigDict(extra="forbid")

    revision_id: str
    max_drop: float | None = Field(default=None, gt=0, le=1)
