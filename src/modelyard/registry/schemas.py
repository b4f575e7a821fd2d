"""Registry API models."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, field_validator

from modelyard.kit.bounds import INT64_MAX, StoredInt, StoredText, storable_text
from modelyard.kit.limits import (
    BoundedText,
    JsonObject,
    ShownJson,
    check_json_value,
    check_label_count,
    check_tag_count,
)
from modelyard.kit.names import Name

MODEL_NAME_PATTERN = r"^[A-Za-z0-9_.\-]+$"
ALIAS_PATTERN = r"^[A-Za-z_][A-Za-z0-9_.\-]*$"
LARGE_FILE_BYTES = 100 * 1024 * 1024

ModelName = Annotated[Name, StringConstraints(pattern=MODEL_NAME_PATTERN)]
AliasName = Annotated[Name, StringConstraints(pattern=ALIAS_PATTERN)]
TagKey = Name
TagValue = Annotated[str, StringConstraints(max_length=1024), AfterValidator(storable_text)]
Tags = Annotated[dict[TagKey, TagValue], AfterValidator(check_tag_count), AfterValidator(check_json_value)]
Labels = Annotated[list[Name], AfterValidator(check_label_count)]
LabelMap = Annotated[dict[int, Name], AfterValidator(check_label_count)]
Metrics = Annotated[dict[Name, float], AfterValidator(check_json_value)]


class Framework(StrEnum):
    PYTORCH = "pytorch"
    OPENVINO = "openvino"
    ONNX = "onnx"
    TENSORFLOW = "tensorflow"
    OTHER = "other"


class Stage(StrEnum):
    NONE = "none"
    STAGING = "staging"
    PRODUCTION = "production"
    ARCHIVED = "archived"


ModelSort = Literal["name", "description", "creation_time", "last_updated_time", "num_versions"]


class Runtime(BaseModel):
    """The container a version runs in."""

    model_config = ConfigDict(extra="forbid")

    image: str | None = None
    tag: str | None = None
    flags: Annotated[list[StoredText], AfterValidator(check_json_value)] = Field(default_factory=list)
    environment: Annotated[dict[StoredText, StoredText], AfterValidator(check_json_value)] = Field(default_factory=dict)


# -- registered models -----------------------------------------------------------------------
class ModelCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ModelName
    description: BoundedText = ""
    metadata: JsonObject = Field(default_factory=dict)
    tags: Tags = Field(default_factory=dict)
    labels: Labels = Field(default_factory=list)
    project: str | None = Field(
        default=None,
        max_length=256,
        description="Owning project (name or id): tokens limited to projects see only their projects' models. "
        "Left out: a global model (visible to unlimited tokens only). Registering a revision sets it.",
    )


class ModelUpdate(BaseModel):
    """Fields left out stay as they are. `add_metadata` merges top-level keys (a nested value is
    replaced whole); `remove_metadata` drops top-level keys."""

    model_config = ConfigDict(extra="forbid")

    name: ModelName | None = None
    description: BoundedText | None = None
    add_metadata: JsonObject | None = None
    remove_metadata: list[str] | None = None
    set_tags: Tags | None = None
    remove_tags: list[str] | None = None
    add_labels: Labels | None = None
    remove_labels: list[str] | None = None
    archived: bool | None = None
    comment: BoundedText = ""


class ModelRead(BaseModel):
    id: str
    name: str
    description: str
    metadata: ShownJson
    tags: dict[str, str]
    labels: list[str]
    archived: bool
    num_versions: int
    project_id: str | None = None
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str


class LabelInUse(BaseModel):
    label: str
    models: int


# -- versions --------------------------------------------------------------------------------
class VersionCreate(BaseModel):
    """Register a version: from a model revision (`revision_id`), or from files uploaded next."""

    model_config = ConfigDict(extra="forbid")

    revision_id: str | None = Field(default=None, description="A project's model revision to register.")
    create_model: bool = Field(default=False, description="Create the registered model if it does not exist.")
    name: StoredText = Field(default="", max_length=256)
    description: BoundedText = ""
    framework: Framework = Framework.OTHER
    task_type: StoredText | None = Field(default=None, max_length=64)
    label_map: LabelMap = Field(default_factory=dict)
    parameters: JsonObject = Field(default_factory=dict)
    runtime: Runtime = Field(default_factory=Runtime)
    metrics: Metrics = Field(default_factory=dict)
    tags: Tags = Field(default_factory=dict)
    comment: BoundedText = ""


class VersionUpdate(BaseModel):
    """Fields left out stay as they are. `set_labels` adds or overwrites indices of the label map."""

    model_config = ConfigDict(extra="forbid")

    name: StoredText | None = Field(default=None, max_length=256)
    description: BoundedText | None = None
    framework: Framework | None = None
    task_type: StoredText | None = Field(default=None, max_length=64)
    set_labels: LabelMap | None = None
    remove_labels: list[int] | None = None
    set_parameters: JsonObject | None = None
    remove_parameters: list[str] | None = None
    runtime: Runtime | None = None
    set_metrics: Metrics | None = None
    remove_metrics: list[str] | None = None
    set_tags: Tags | None = None
    remove_tags: list[str] | None = None
    force: bool = Field(
        default=False, description="Change the label map even if the version holds an alias or a serving stage."
    )
    comment: BoundedText = ""


class FileRead(BaseModel):
    name: str
    size: int
    sha256: str
    category: Literal["large", "small"]
    created_at: datetime
    created_by: str


class VersionRead(BaseModel):
    id: str
    model: str
    model_id: str
    number: int
    name: str
    description: str
    framework: Framework
    task_type: str | None
    label_map: dict[int, str]
    parameters: ShownJson
    runtime: Runtime
    metrics: dict[str, float]
    stage: Stage
    aliases: list[str]
    tags: dict[str, str]
    files: list[FileRead]
    source_revision_id: str | None
    source: dict[str, Any] = Field(description="Read-only lineage; {'kind': 'uploaded'} for uploaded versions.")
    trainable: bool
    deployable: bool
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str


class ModelDescription(BaseModel):
    model: ModelRead
    latest_version: VersionRead | None


class StageChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stage: Stage
    comment: BoundedText = ""
    archive_existing: bool = Field(
        default=False, description="Move the other versions now in this stage to `archived`."
    )


class AliasSet(BaseModel):
    """Point an alias at a version. With `expected_version` present (null: expected unset), the
    alias moves only if that is who holds it now (compare-and-set)."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1, le=INT64_MAX)
    expected_version: StoredInt | None = None
    force: bool = Field(default=False, description="Move even if the label maps differ.")
    comment: BoundedText = ""


class AliasRead(BaseModel):
    alias: str
    version: int | None
    at: datetime | None = None


class StageHolders(BaseModel):
    stage: Stage
    versions: list[int]
    at: datetime | None = None


class ModelHolders(BaseModel):
    """Who held every alias and which versions were in each stage (`none` left out), now or at `at`."""

    aliases: dict[str, int]
    stages: dict[str, list[int]]
    at: datetime | None = None


class TransferRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target_model: ModelName
    create_model: bool = False
    comment: BoundedText = ""


class BestRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    project: str
    metric: str
    mode: Literal["max", "min"] = "max"
    dataset_revision_id: str | None = None
    create_model: bool = True
    comment: BoundedText = ""


class EventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    model_id: str
    model_name: str
    version_id: str | None
    version_number: int | None
    action: str
    subject: str | None
    actor: str
    at: datetime
    before: ShownJson | None
    after: ShownJson | None
    comment: str


class MetricFilter(BaseModel):
    name: str
    operator: Literal[">", ">=", "<", "<=", "="]
    value: float

    @field_validator("name")
    @classmethod
    def _not_empty(cls, value: str) -> str:
        if not value:
            raise ValueError("metric name is empty")
        return value
