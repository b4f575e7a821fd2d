"""A dataset revision's `data.parquet`: its schema, and plain-Python reading and writing (pure: no database).

One row per item. Columns:

    item_id        string                 the dataset item's id
    image_path     string                 the image, relative to the folder that holds data.parquet
    image_sha256   string                 sha256 of the image bytes
    image_size     int64                  bytes
    width, height  int32                  pixels
    subset         string                 training | validation | testing
    user_reviewed  bool
    label_ids      list<string>           classification: the item's labels; detection/segmentation:
    label_names    list<string>           the distinct labels of its shapes, in order of appearance
    boxes          list<struct<x, y, width, height: double, label_id, label_name: string>>
    polygons       list<struct<points: list<struct<x, y: double>>, label_id, label_name: string>>

File metadata (key `modelyard`, JSON): format version, project id and task, revision id and number,
and the label map (id, name, color, position) as it was when the revision was made.

    pandas.read_parquet("data.parquet").explode("boxes")      # one row per box
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FORMAT_VERSION = "modelyard.dataset_revision/1"
METADATA_KEY = b"modelyard"
PARQUET_NAME = "data.parquet"


def revision_schema() -> Any:
    import pyarrow as pa

    label = [pa.field("label_id", pa.string()), pa.field("label_name", pa.string())]
    box = pa.struct([pa.field(name, pa.float64()) for name in ("x", "y", "width", "height")] + label)
    point = pa.struct([pa.field("x", pa.float64()), pa.field("y", pa.float64())])
    polygon = pa.struct([pa.field("points", pa.list_(point)), *label])
    return pa.schema(
        [
            pa.field("item_id", pa.string(), nullable=False),
            pa.field("image_path", pa.string(), nullable=False),
            pa.field("image_sha256", pa.string(), nullable=False),
            pa.field("image_size", pa.int64(), nullable=False),
            pa.field("width", pa.int32(), nullable=False),
            pa.field("height", pa.int32(), nullable=False),
            pa.field("subset", pa.string(), nullable=False),
            pa.field("user_reviewed", pa.bool_(), nullable=False),
            pa.field("label_ids", pa.list_(pa.string()), nullable=False),
            pa.field("label_names", pa.list_(pa.string()), nullable=False),
            pa.field("boxes", pa.list_(box), nullable=False),
            pa.field("polygons", pa.list_(polygon), nullable=False),
        ]
    )


@dataclass(frozen=True)
class RevisionLabel:
    id: str
    name: str
    color: str
    position: int


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    width: float
    height: float
    label_id: str
    label_name: str


@dataclass(frozen=True)
class Polygon:
    points: list[tuple[float, float]]
    label_id: str
    label_name: str


@dataclass(frozen=True)
class RevisionItem:
    """One row of data.parquet, with `image_path` made absolute."""

    item_id: str
    image_path: Path
    image_sha256: str
    image_size: int
    width: int
    height: int
    subset: str
    user_reviewed: bool
    label_ids: list[str] = field(default_factory=list)
    label_names: list[str] = field(default_factory=list)
    boxes: list[Box] = field(default_factory=list)
    polygons: list[Polygon] = field(default_factory=list)


@dataclass(frozen=True)
class RevisionMetadata:
    format_version: str
    project_id: str
    task_type: str
    revision_id: str
    revision_number: int
    labels: list[RevisionLabel]


def write_revision(path: Path, columns: Mapping[str, Any], metadata: RevisionMetadata) -> None:
    """Write the columns (Python lists or pyarrow arrays; names and shapes as in the module docstring)
    as one Parquet file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = revision_schema()
    table = pa.Table.from_pydict(columns, schema=schema)
    payload = {
        "format_version": metadata.format_version,
        "project_id": metadata.project_id,
        "task_type": metadata.task_type,
        "revision_id": metadata.revision_id,
        "revision_number": metadata.revision_number,
        "labels": [label.__dict__ for label in metadata.labels],
    }
    table = table.replace_schema_metadata({METADATA_KEY: json.dumps(payload).encode()})
    pq.write_table(table, path, compression="zstd")


def read_revision_metadata(path: Path) -> RevisionMetadata:
    import pyarrow.parquet as pq

    raw = json.loads(pq.read_schema(path).metadata[METADATA_KEY])
    return RevisionMetadata(
        format_version=raw["format_version"],
        project_id=raw["project_id"],
        task_type=raw["task_type"],
        revision_id=raw["revision_id"],
        revision_number=raw["revision_number"],
        labels=[RevisionLabel(**label) for label in raw["labels"]],
    )


def read_revision_table(path: Path, subset: str | None = None) -> Any:
    """The revision as a pyarrow Table, optionally one subset only."""
    import pyarrow.parquet as pq

    filters = [("subset", "=", subset)] if subset else None
    return pq.read_table(path, filters=filters, schema=revision_schema())


def read_revision(
    path: Path, subset: str | None = None, *, locate: Callable[[list[str]], list[Path]] | None = None
) -> list[RevisionItem]:
    """Every item of the revision at `path` (a data.parquet), or those of one subset. `locate` turns the
    images' paths as written (relative to the folder of data.parquet) into local files; without it they are
    taken relative to `path`'s own folder (a revision folder copied out of modelyard)."""
    rows = read_revision_table(path, subset).to_pylist()
    if locate is None:
        folder = Path(path).resolve().parent
        images = [(folder / row["image_path"]).resolve() for row in rows]
    else:
        images = locate([row["image_path"] for row in rows])
    return [_item(row, image) for row, image in zip(rows, images, strict=True)]


def _item(row: dict[str, Any], image: Path) -> RevisionItem:
    return RevisionItem(
        item_id=row["item_id"],
        image_path=image,
        image_sha256=row["image_sha256"],
        image_size=row["image_size"],
        width=row["width"],
        height=row["height"],
        subset=row["subset"],
        user_reviewed=row["user_reviewed"],
        label_ids=row["label_ids"],
        label_names=row["label_names"],
        boxes=[Box(**box) for box in row["boxes"]],
        polygons=[
            Polygon(
                points=[(point["x"], point["y"]) for point in polygon["points"]],
                label_id=polygon["label_id"],
                label_name=polygon["label_name"],
            )
            for polygon in row["polygons"]
        ],
    )
