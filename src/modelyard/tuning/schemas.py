from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from modelyard.kit.limits import JsonObject
from modelyard.kit.names import Name
from modelyard.tuning.job_params import Direction, PrunerSpec
from modelyard.tuning.space import SearchDimension

TrialStatus = Literal["waiting", "running", "complete", "pruned", "failed"]


class TuneRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    architecture: str = Field(description="Architecture id, e.g. mobilenet_v3_small.")
    overrides: JsonObject = Field(
        default_factory=dict, description="Hyperparameters every trial shares, over the stored configuration."
    )
    space: dict[str, SearchDimension] | None = Field(
        default=None,
        description="Dotted hyperparameter name -> {low, high, log} or {choices}; default: from the manifest's "
        "bounds (learning rate, weight decay, batch size, optimizer, augmentations), less what `overrides` fixes.",
    )
    base: Literal["pretrained", "scratch"] = "pretrained"
    dataset_revision: str | None = Field(
        default=None, description="Dataset revision id or number; default: made from the current dataset (or reused)."
    )
    metric: str | None = Field(
        default=None, max_length=64, description="Validation metric to optimise (accuracy, map, map_50, ...); "
        "default: the task's own. Metrics ending in `loss` are minimised, others maximised.",
    )
    max_trials: int = Field(default=20, ge=1, le=1000)
    budget_seconds: float | None = Field(default=None, gt=0, le=30 * 24 * 3600,
                                         description="No new trial once it would end past this.")  # fmt: skip
    parallel: int | None = Field(default=None, ge=1, le=64, description="Trials at once; default: the job slots.")
    pruner: PrunerSpec = Field(default_factory=PrunerSpec)
    seed: int = Field(default=0, description="Seeds the sampler, so a study can be repeated.")
    register_as: Name | None = Field(default=None, description="Register the best revision as a version of this model.")
    export_best: bool = Field(default=True, description="Export and evaluate the best revision's variants.")


class TrialRead(BaseModel):
    number: int
    status: TrialStatus
    params: dict[str, Any]
    value: float | None = Field(description="The trial's metric: its best epoch's, or the last reported (pruned).")
    epochs: int = Field(description="Epochs whose metric the trial reported.")
    seconds: float | None
    started_at: datetime | None
    job_id: str | None
    revision_id: str | None
    best: bool
    failure: str | None = None


class StudyRead(BaseModel):
    job_id: str
    project_id: str | None
    architecture: str
    status: str = Field(description="The tune job's status.")
    metric: str | None
    direction: Direction
    space: dict[str, SearchDimension]
    max_trials: int
    budget_seconds: float | None
    best_trial: int | None
    best_value: float | None
    best_params: dict[str, Any] | None
    best_revision_id: str | None
    trials: list[TrialRead]
