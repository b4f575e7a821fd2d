"""Parameters of the tune job and of the link from a trial's training job to its study.

Kept apart from the job bodies (and free of Optuna) so services and the training job can import them cheaply."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from modelyard.tuning.space import SearchDimension

TUNE_JOB = "revision.tune"
Direction = Literal["maximize", "minimize"]


class PrunerSpec(BaseModel):
    """How bad trials are stopped, judged on the validation metric after each epoch."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["median", "threshold", "none"] = Field(
        default="median",
        description="median: stop a trial whose metric is below the median of earlier trials at the same epoch; "
        "threshold: stop a trial whose metric is outside [lower, upper]; none: never stop early.",
    )
    startup_trials: int = Field(default=2, ge=0, description="median: trials that run to the end before any is judged.")
    warmup_epochs: int = Field(default=0, ge=0, description="Epochs of each trial before it is judged.")
    lower: float | None = Field(default=None, allow_inf_nan=False, description="threshold: prune below this value.")
    upper: float | None = Field(default=None, allow_inf_nan=False, description="threshold: prune above this value.")


class TrialLink(BaseModel):
    """Carried by a trial's training job: which study and trial it reports to, on what metric."""

    model_config = ConfigDict(extra="forbid")

    study_job_id: str
    number: int
    metric: str | None = Field(default=None, description="Metric to report; None: the training's validation metric.")
    direction: Direction = "maximize"
    pruner: PrunerSpec = Field(default_factory=PrunerSpec)


class TuneParams(BaseModel):
    """Params of the `revision.tune` job: what start_tuning checked, resolved."""

    model_config = ConfigDict(extra="forbid")

    project_id: str
    architecture: str
    base: Literal["pretrained", "scratch"] = "pretrained"
    fixed: dict[str, Any] = Field(
        default_factory=dict, description="Hyperparameters every trial shares (project configuration and overrides)."
    )
    space: dict[str, SearchDimension]
    dataset_revision_id: str | None = None
    metric: str | None = None
    direction: Direction = "maximize"
    max_trials: int = Field(default=20, ge=1, le=1000)
    budget_seconds: float | None = Field(default=None, gt=0)
    parallel: int | None = Field(default=None, ge=1, description="Trials at once; None: the server's job slots.")
    pruner: PrunerSpec = Field(default_factory=PrunerSpec)
    seed: int = 0
    register_as: str | None = None
    export_best: bool = True
