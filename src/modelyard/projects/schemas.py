from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from modelyard.kit.limits import BoundedText, check_label_count
from modelyard.kit.names import Name
from modelyard.tasks import TaskType

PROJECT_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 _.\-]*$"
HOTKEY_PATTERN = re.compile(r"^((ctrl|alt|shift|meta)\+)*([a-z0-9]|f[1-9]|f1[0-2])$")
COLOR_PATTERN = re.compile(r"^#([0-9a-f]{6}|[0-9a-f]{3})$")


def _normalize_color(value: str) -> str:
    value = value.strip().lower()
    if not COLOR_PATTERN.match(value):
        raise ValueError("color must be a hex RGB value such as '#ff8800' or '#f80'")
    if len(value) == 4:
        value = "#" + "".join(ch * 2 for ch in value[1:])
    return value


def _normalize_hotkey(value: str) -> str:
    value = value.strip().lower().replace(" ", "")
    if not HOTKEY_PATTERN.match(value):
        raise ValueError("hotkey must be a key (a-z, 0-9, f1-f12) with optional ctrl+/alt+/shift+/meta+ modifiers")
    return value


ProjectName = Annotated[Name, StringConstraints(pattern=PROJECT_NAME_PATTERN)]
LabelName = Name
Color = Annotated[str, AfterValidator(_normalize_color)]
Hotkey = Annotated[str, AfterValidator(_normalize_hotkey)]


class LabelCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: LabelName
    color: Color | None = Field(default=None, description="Hex RGB; a distinct color is picked when omitted.")
    hotkey: Hotkey | None = None


class LabelUpdate(BaseModel):
    """Fields left out stay as they are; `hotkey: null` clears the hotkey."""

    model_config = ConfigDict(extra="forbid")

    name: LabelName | None = None
    color: Color | None = None
    hotkey: Hotkey | None = None


class LabelRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    color: str
    hotkey: str | None
    position: int
    created_at: datetime
    created_by: str


class LabelUsage(BaseModel):
    label_id: str
    label_name: str
    items: int = Field(description="Annotated items whose annotation uses the label.")
    shapes: int = Field(description="Its boxes or polygons (1 per item for classification).")


class LabelsUsage(BaseModel):
    """How much of a project's dataset is annotated, and with which labels (in the labels' order)."""

    items: int
    annotated_items: int
    labels: list[LabelUsage]


class ProjectCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ProjectName
    task_type: TaskType
    description: BoundedText = ""
    labels: Annotated[list[LabelCreate | LabelName], AfterValidator(check_label_count)] = Field(default_factory=list)


class ProjectUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ProjectName | None = None
    description: BoundedText | None = None


class ProjectCounts(BaseModel):
    """What a project holds, counted when it is read: also what deleting it takes away (registered models stay
    in the registry)."""

    # Always sent: the OpenAPI document marks the fields required in responses, though they have defaults.
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    items: int = Field(default=0, description="Dataset items (images).")
    dataset_revisions: int = 0
    model_revisions: int = 0
    registered_models: int = Field(default=0, description="Registered models owned by the project.")


class ProjectRead(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_serialization_defaults_required=True)

    id: str
    name: str
    task_type: TaskType
    description: str
    labels: list[LabelRead]
    created_at: datetime
    updated_at: datetime
    created_by: str
    updated_by: str
    counts: ProjectCounts = Field(default_factory=ProjectCounts)


ProjectSort = Literal["name", "created_at"]
