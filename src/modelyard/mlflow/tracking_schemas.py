"""Request bodies of MLflow's tracking API, as its client sends them (unknown fields are ignored, as MLflow's
server ignores them), bounded like every other input of modelyard."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from modelyard.kit.bounds import StoredInt, storable_text
from modelyard.kit.names import Name
from modelyard.mlflow.tracking_models import KEY_LENGTH

MAX_PARAM_VALUE = 6000
MAX_TAG_VALUE = 8000
MAX_BATCH_METRICS = 1000
MAX_BATCH_PARAMS = 100
MAX_BATCH_TAGS = 100
MAX_RESULTS = 50_000

Key = Annotated[Name, StringConstraints(max_length=KEY_LENGTH)]
ParamValue = Annotated[str, StringConstraints(max_length=MAX_PARAM_VALUE), AfterValidator(storable_text)]
TagValue = Annotated[str, StringConstraints(max_length=MAX_TAG_VALUE), AfterValidator(storable_text)]
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=64), AfterValidator(storable_text)]


class MlflowBody(BaseModel):
    model_config = ConfigDict(extra="ignore")


class TagIn(MlflowBody):
    key: Key
    value: TagValue = ""


class ParamIn(MlflowBody):
    key: Key
    value: ParamValue = ""


class MetricIn(MlflowBody):
    key: Key
    value: float
    timestamp: StoredInt
    step: StoredInt = 0


class CreateExperiment(MlflowBody):
    name: Name
    artifact_location: str | None = Field(default=None, description="Refused unless empty: the server chooses it.")
    tags: list[TagIn] = Field(default_factory=list)


class ExperimentIdBody(MlflowBody):
    experiment_id: Identifier


class UpdateExperiment(MlflowBody):
    experiment_id: Identifier
    new_name: Name


class SetExperimentTag(MlflowBody):
    experiment_id: Identifier
    key: Key
    value: TagValue


class SearchExperiments(MlflowBody):
    max_results: int = Field(default=1000, ge=1, le=MAX_RESULTS)
    page_token: str | None = Field(default=None, max_length=4096)
    filter: str | None = Field(default=None, max_length=8192)
    order_by: list[Annotated[str, StringConstraints(max_length=512)]] = Field(default_factory=list, max_length=20)
    view_type: str = "ACTIVE_ONLY"


class CreateRun(MlflowBody):
    experiment_id: Identifier = "0"
    user_id: Annotated[str, StringConstraints(max_length=256), AfterValidator(storable_text)] | None = None
    start_time: StoredInt | None = None
    run_name: Name | None = None
    tags: list[TagIn] = Field(default_factory=list, max_length=MAX_BATCH_TAGS)


class RunIdBody(MlflowBody):
    run_id: Identifier | None = None
    run_uuid: Identifier | None = None

    @property
    def run(self) -> str:
        """MLflow's clients send `run_id`; older ones `run_uuid`."""
        return self.run_id or self.run_uuid or ""


class UpdateRun(RunIdBody):
    status: str | None = Field(default=None, max_length=16)
    end_time: StoredInt | None = None
    run_name: Name | None = None


class LogMetric(RunIdBody):
    key: Key
    value: float
    timestamp: StoredInt
    step: StoredInt = 0


class LogParam(RunIdBody):
    key: Key
    value: ParamValue


class SetTag(RunIdBody):
    key: Key
    value: TagValue


class DeleteTag(MlflowBody):
    run_id: Identifier
    key: Key


class LogBatch(MlflowBody):
    run_id: Identifier
    metrics: list[MetricIn] = Field(default_factory=list, max_length=MAX_BATCH_METRICS)
    params: list[ParamIn] = Field(default_factory=list, max_length=MAX_BATCH_PARAMS)
    tags: list[TagIn] = Field(default_factory=list, max_length=MAX_BATCH_TAGS)


class SearchRuns(MlflowBody):
    experiment_ids: list[Identifier] = Field(default_factory=list, max_length=1000)
    filter: str | None = Field(default=None, max_length=8192)
    run_view_type: str = "ACTIVE_ONLY"
    max_results: int = Field(default=1000, ge=1, le=MAX_RESULTS)
    order_by: list[Annotated[str, StringConstraints(max_length=512)]] = Field(default_factory=list, max_length=20)
    page_token: str | None = Field(default=None, max_length=4096)
