"""API models of datasets: items, annotations, revisions, uploads, import and export requests."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from modelyard.datasets.import_subsets import DEFAULT_TESTING_FRACTION
from modelyard.kit.bounds import UtcDatetime
from modelyard.projects.schemas import ProjectName
from modelyard.tasks import TaskType

Subset = Literal["unassigned", "training", "validation", "testing"]
DatasetFormat = Literal["coco", "voc", "yolo", "imagenet", "datumaro"]
Coordinate = Annotated[float, Field(allow_inf_nan=False)]


# -- annotations -------------------------------------------------------------------------------
class BoxIn(BaseModel):
    """A rectangle in pixels: top-left corner, width and height."""

    model_config = ConfigDict(extra="forbid")

    x: Coordinate
    y: Coordinate
    width: Coordinate
    height: Coordinate
    label: str = Field(min_length=1, description="Label id or name.")


class PolygonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    points: list[tuple[Coordinate, Coordinate]] = Field(description="[[x, y], ...] in pixels, 3 or more.")
    label: str = Field(min_length=1, description="Label id or name.")


class AnnotationIn(BaseModel):
    """Give the field of the project's task: `labels` for classification (exactly one for
    multiclass; any set, `[]` included, for multilabel), `boxes` for detection, `polygons` for
    instance segmentation (`[]` says the image shows no object)."""

    model_config = ConfigDict(extra="forbid")

    labels: list[str] | None = None
    boxes: list[BoxIn] | None = None
    polygons: list[PolygonIn] | None = None
    user_reviewed: bool | None = Field(default=None, description="Also set the item's user_reviewed flag.")


class LabelRef(BaseModel):
    id: str
    name: str


class BoxRead(BaseModel):
    x: float
    y: float
    width: float
    height: float
    label_id: str
    label_name: str


class PolygonRead(BaseModel):
    points: list[tuple[float, float]]
    label_id: str
    label_name: str


class AnnotationRead(BaseModel):
    labels: list[LabelRef] = Field(default_factory=list)
    boxes: list[BoxRead] = Field(default_factory=list)
    polygons: list[PolygonRead] = Field(default_factory=list)


# -- proposals: the enabled pipeline's predictions for an item, in the annotation's form -------------
class ProposedLabel(LabelRef):
    score: float


class ProposedBox(BoxRead):
    score: float


class ProposedPolygon(PolygonRead):
    score: float


class ItemProposal(BaseModel):
    """What the project's enabled pipeline predicts for an item, as shapes of the project's labels fitted into the
    image, to accept (save it as the annotation), edit or reject. Predicted labels the project no longer has are
    left out."""

    item_id: str
    revision_id: str
    variant: str
    confidence_threshold: float
    annotation_version: int = Field(description="The item's annotation version when it was predicted.")
    labels: list[ProposedLabel] = Field(default_factory=list)
    boxes: list[ProposedBox] = Field(default_factory=list)
    polygons: list[ProposedPolygon] = Field(default_factory=list)


# -- items -------------------------------------------------------------------------------------
class ItemNeighbours(BaseModel):
    """Where an item stands among the items a filter keeps, in upload order."""

    previous: str | None = Field(description="Id of the item before it, if any.")
    next: str | None = Field(description="Id of the item after it, if any.")
    position: int | None = Field(description="1-based place of the item; null when the filter leaves it out.")
    total: int = Field(description="Items the filter keeps.")


class ItemRead(BaseModel):
    id: str
    project_id: str
    name: str
    sha256: str
    size: int
    width: int
    height: int
    format: str
    subset: Subset
    in_revision: bool
    annotated: bool
    annotation: AnnotationRead | None
    annotation_version: int = Field(
        description="Raised by one on every change of the annotation; a save may name it (If-Match) to be refused "
        "with 409 `annotation_changed` when someone else saved first."
    )
    user_reviewed: bool
    uploaded_at: datetime
    uploaded_by: str
    updated_at: datetime


class ItemUpdate(BaseModel):
    """`subset` may be set by hand only before the item's first dataset revision."""

    model_config = ConfigDict(extra="forbid")

    user_reviewed: bool | None = None
    subset: Subset | None = None


class ItemFilter(BaseModel):
    """Which items: each field given narrows the selection; together they all apply."""

    model_config = ConfigDict(extra="forbid")

    annotated: bool | None = None
    label: str | None = Field(default=None, description="Label id or name used by the annotation.")
    subset: Subset | None = None
    user_reviewed: bool | None = None
    uploaded_after: UtcDatetime | None = Field(default=None, description="Uploaded at or after this time.")
    uploaded_before: UtcDatetime | None = Field(default=None, description="Uploaded before this time.")
    name: str | None = Field(default=None, max_length=512, description="Part of the file name, in any case.")


class ItemPages(BaseModel):
    """Where each page of a listing starts, so that any page can be read directly (a scrolled gallery)."""

    total: int = Field(description="Items that match the filter.")
    page_size: int
    cursors: list[str | None] = Field(
        description="The cursor of each page, in order (null for the first): list with it and limit=page_size."
    )


class SubsetCount(BaseModel):
    subset: Subset
    items: int
    annotated: int
    user_reviewed: int


class LabelItemCount(BaseModel):
    label_id: str
    label_name: str
    color: str
    items: int = Field(description="Items whose annotation uses the label.")


class DatasetCounts(BaseModel):
    """Counts of the items that match a filter (every item without one), per subset and per label."""

    total: int
    annotated: int
    user_reviewed: int
    subsets: list[SubsetCount]
    labels: list[LabelItemCount]


BulkActionName = Literal["assign_label", "delete", "move_to_subset"]
MAX_BULK_IDS = 100_000


class ItemsBulk(BaseModel):
    """One action on many items, all or none: those of `ids`, or every item that matches `filter`
    (an empty filter: every item), less those of `exclude`."""

    model_config = ConfigDict(extra="forbid")

    action: BulkActionName
    ids: list[str] | None = Field(default=None, min_length=1, max_length=MAX_BULK_IDS)
    filter: ItemFilter | None = None
    exclude: list[str] = Field(default_factory=list, max_length=MAX_BULK_IDS)
    label: str | None = Field(default=None, description="assign_label: the label, by id or name.")
    subset: Subset | None = Field(default=None, description="move_to_subset: where to.")

    @model_validator(mode="after")
    def _one_selection_and_the_action_argument(self) -> ItemsBulk:
        if (self.ids is None) == (self.filter is None):
            raise ValueError("give either `ids` or `filter` (an empty filter selects every item)")
        if (self.action == "assign_label") != (self.label is not None):
            raise ValueError("`label` goes with the action assign_label, and only with it")
        if (self.action == "move_to_subset") != (self.subset is not None):
            raise ValueError("`subset` goes with the action move_to_subset, and only with it")
        return self


class ItemsBulkResult(BaseModel):
    action: BulkActionName
    selected: int = Field(description="Items the selection held.")
    changed: int = Field(description="Items the action changed (an item already so is not counted).")


class ItemsDelete(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[str] = Field(min_length=1, max_length=10_000)


class ItemsDeleted(BaseModel):
    deleted: int


class RejectedFile(BaseModel):
    name: str
    reason: str


class DuplicateFile(BaseModel):
    name: str
    item_id: str = Field(description="The item that already holds these bytes.")


class UploadResult(BaseModel):
    created: list[ItemRead] = Field(default_factory=list)
    duplicates: list[DuplicateFile] = Field(default_factory=list)
    rejected: list[RejectedFile] = Field(default_factory=list)


# -- revisions ---------------------------------------------------------------------------------
class SplitRatios(BaseModel):
    model_config = ConfigDict(extra="forbid")

    training: float = Field(default=0.7, ge=0, le=1)
    validation: float = Field(default=0.2, ge=0, le=1)
    testing: float = Field(default=0.1, ge=0, le=1)

    @model_validator(mode="after")
    def _sum_to_one(self) -> SplitRatios:
        total = self.training + self.validation + self.testing
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"split ratios must add up to 1, they add up to {total:g}")
        return self


class RevisionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ratios: SplitRatios = Field(default_factory=SplitRatios)
    seed: int = Field(default=0, description="Random seed of the split of new items.")


class LabelCount(BaseModel):
    label_id: str
    label_name: str
    items: int
    shapes: int
    subsets: dict[str, int] | None = Field(
        default=None,
        description="Items that use the label, per subset of the revision (every subset the revision has, 0 "
        "included); null for revisions made before these counts were kept.",
    )


class RevisionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    project_id: str
    number: int
    parquet_key: str
    sha256: str
    size: int
    images_size: int
    item_count: int
    subset_counts: dict[str, int]
    label_counts: list[LabelCount]
    fingerprint: str
    files_deleted: bool
    files_deleted_at: datetime | None
    created_at: datetime
    created_by: str
    reused: bool = Field(default=False, description="True when nothing changed and the latest revision was returned.")


class RevisionItemRead(BaseModel):
    item_id: str
    image_path: str
    image_sha256: str
    width: int
    height: int
    subset: str
    user_reviewed: bool
    label_ids: list[str]
    label_names: list[str]
    boxes: list[BoxRead]
    polygons: list[PolygonRead]


# -- import and export -------------------------------------------------------------------------
class NewProject(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ProjectName
    task_type: TaskType


# Where the import endpoint stores an uploaded archive: the job reads only such a key, and removes it when done,
# so no import can read or remove a file stored for anything else.
IMPORT_ARCHIVE_KEY_PATTERN = r"^dataset_imports/[0-9a-f]{32}/source\.zip$"


def import_archive_key(token: str) -> str:
    return f"dataset_imports/{token}/source.zip"


def is_import_archive_key(key: str) -> bool:
    return re.fullmatch(IMPORT_ARCHIVE_KEY_PATTERN, key) is not None


class ImportParams(BaseModel):
    """Params of the `dataset.import` job."""

    model_config = ConfigDict(extra="forbid")

    archive_key: str = Field(
        pattern=IMPORT_ARCHIVE_KEY_PATTERN,
        description="Stored zip to import: one uploaded through the import endpoint, which the job owns and removes.",
    )
    format: DatasetFormat
    project_id: str | None = None
    new_project: NewProject | None = None
    unknown_labels: Literal["create", "refuse"] = Field(
        default="create",
        description="Labels the project lacks: `create` them, or `refuse` them (items using them are skipped).",
    )
    testing_fraction: float = Field(
        default=DEFAULT_TESTING_FRACTION, ge=0, lt=1,
        description="When the source names subsets but no testing one, this share of the imported training "
        "items moves to testing (stratified, stable); 0 splits nothing.",
    )  # fmt: skip

    @model_validator(mode="after")
    def _one_target(self) -> ImportParams:
        if (self.project_id is None) == (self.new_project is None):
            raise ValueError("give exactly one of project_id (existing project) or new_project (name and task_type)")
        return self


class ExportParams(BaseModel):
    """Params of the `dataset.export` job."""

    model_config = ConfigDict(extra="forbid")

    project_id: str
    format: DatasetFormat
    revision_id: str | None = Field(default=None, description="Export this revision; default: the current dataset.")


class ExportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: DatasetFormat
    revision: str | None = Field(default=None, description="Revision id or number; default: the current dataset.")
