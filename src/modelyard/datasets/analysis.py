"""What a dataset revision holds, in figures: computed from its data.parquet alone (pure: no database).

Image sizes come from the Parquet's width and height columns (measured when each image was uploaded), object
sizes from its boxes and polygons, so analysing 100,000 items decodes no image. An object's size is the side of
the square of its area relative to the image's: `sqrt(object area / image area)`. Small objects are under 0.1
of the image's side (under 1 % of its area), large ones 0.3 and over (9 % of its area and more).

    analyse_table(pyarrow.parquet.read_table("data.parquet"), task, labels)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field

SMALL_BELOW = 0.1
LARGE_FROM = 0.3
IMBALANCED_FROM = 3.0
"""Most common over least common label, from which a set counts as imbalanced (and gets class balancing)."""


class Spread(BaseModel):
    minimum: float
    median: float
    mean: float
    maximum: float


class ObjectSizes(BaseModel):
    small: int = Field(description=f"Objects under {SMALL_BELOW} of the image's side (sqrt of relative area).")
    medium: int
    large: int = Field(description=f"Objects of {LARGE_FROM} of the image's side and more.")
    median_relative_side: float = Field(description="Median of sqrt(object area / image area).")


class LabelStatistics(BaseModel):
    label_id: str
    label_name: str
    items: int = Field(description="Items that use the label.")
    shapes: int = Field(description="Boxes or polygons of the label (classification: its items).")
    share: float = Field(description="Its shapes over all shapes.")


class DatasetAnalysis(BaseModel):
    """The figures of one dataset revision that decide how to train on it."""

    task: str
    items: int
    subsets: dict[str, int]
    image_width: Spread
    image_height: Spread
    objects_per_image: Spread | None = Field(description="Boxes or polygons per item (null for classification).")
    object_sizes: ObjectSizes | None = Field(description="Null for classification and for sets without shapes.")
    labels: list[LabelStatistics]
    imbalance_ratio: float = Field(description="Shapes of the most common label over the least common used one.")
    unused_labels: list[str] = Field(description="Names of the project's labels no item uses.")
    imbalanced: bool = Field(description=f"imbalance_ratio >= {IMBALANCED_FROM}.")
    annotation_density: float | None = Field(
        description="Mean share of an image's area its objects cover, overlaps counted twice and capped at 1 "
        "(null for classification)."
    )

    @property
    def smallest_side(self) -> float:
        return min(self.image_width.median, self.image_height.median)

    def subset(self, name: str) -> int:
        return self.subsets.get(name, 0)


def spread(values: Any) -> Spread:
    import numpy as np

    array = np.asarray(values, dtype=np.float64)
    if array.size == 0:
        return Spread(minimum=0, median=0, mean=0, maximum=0)
    return Spread(
        minimum=float(array.min()),
        median=float(np.median(array)),
        mean=round(float(array.mean()), 4),
        maximum=float(array.max()),
    )


def analyse_table(table: Any, task: str, labels: Sequence[tuple[str, str]]) -> DatasetAnalysis:
    """Figures of a revision's table (schema of `parquet.revision_schema`); `labels` are (id, name) in order."""
    import numpy as np

    widths = table.column("width").to_numpy().astype(np.float64)
    heights = table.column("height").to_numpy().astype(np.float64)
    subsets: dict[str, int] = {}
    for name in table.column("subset").to_pylist():
        subsets[name] = subsets.get(name, 0) + 1
    classification = task.endswith("classification")
    column = "label_ids" if classification else ("boxes" if task == "detection" else "polygons")
    per_item, shape_labels, extents = _shapes(table, column)
    item_labels = _items_per_label(table)
    shape_counts: dict[str, int] = {}
    for label_id in shape_labels:
        shape_counts[label_id] = shape_counts.get(label_id, 0) + 1
    total = max(1, len(shape_labels))
    statistics = [
        LabelStatistics(
            label_id=label_id,
            label_name=name,
            items=item_labels.get(label_id, 0),
            shapes=shape_counts.get(label_id, 0),
            share=round(shape_counts.get(label_id, 0) / total, 4),
        )
        for label_id, name in labels
    ]
    used = [label.shapes for label in statistics if label.shapes]
    ratio = round(max(used) / min(used), 4) if used else 1.0
    sizes, density = None, None
    if not classification:
        sizes, density = _object_sizes(extents, per_item, widths, heights)
    return DatasetAnalysis(
        task=task,
        items=table.num_rows,
        subsets=dict(sorted(subsets.items())),
        image_width=spread(widths),
        image_height=spread(heights),
        objects_per_image=None if classification else spread(per_item),
        object_sizes=sizes,
        labels=statistics,
        imbalance_ratio=ratio,
        unused_labels=[label.label_name for label in statistics if not label.shapes],
        imbalanced=ratio >= IMBALANCED_FROM,
        annotation_density=density,
    )


def _shapes(table: Any, column: str) -> tuple[Any, list[str], Any]:
    """(shapes per item, each shape's label id, each shape's width and height in pixels or None)."""
    import numpy as np
    import pyarrow.compute as pc

    values = table.column(column).combine_chunks()
    per_item = pc.list_value_length(values).to_numpy(zero_copy_only=False).astype(np.int64)
    flat = pc.list_flatten(values)
    if column == "label_ids":
        return per_item, flat.to_pylist(), None
    label_ids = flat.field("label_id").to_pylist()
    if column == "boxes":
        box_sizes = np.stack([flat.field("width").to_numpy(), flat.field("height").to_numpy()], axis=1)
        return per_item, label_ids, box_sizes
    return per_item, label_ids, _polygon_extents(flat.field("points"))


def _polygon_extents(points: Any) -> Any:
    """Width and height of each polygon's bounding box, from the flat list of its points."""
    import numpy as np
    import pyarrow.compute as pc

    counts = pc.list_value_length(points).to_numpy(zero_copy_only=False).astype(np.int64)
    if not len(counts):
        return np.zeros((0, 2))
    flat = pc.list_flatten(points)
    xs, ys = flat.field("x").to_numpy(), flat.field("y").to_numpy()
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    present = counts > 0
    extents = np.zeros((len(counts), 2))
    if present.any():
        chosen = starts[present]
        extents[present, 0] = np.maximum.reduceat(xs, chosen) - np.minimum.reduceat(xs, chosen)
        extents[present, 1] = np.maximum.reduceat(ys, chosen) - np.minimum.reduceat(ys, chosen)
    return extents


def _items_per_label(table: Any) -> dict[str, int]:
    import pyarrow.compute as pc

    counts: dict[str, int] = {}
    for entry in pc.value_counts(pc.list_flatten(table.column("label_ids").combine_chunks())).to_pylist():
        counts[entry["values"]] = entry["counts"]
    return counts


def _object_sizes(extents: Any, per_item: Any, widths: Any, heights: Any) -> tuple[ObjectSizes | None, float]:
    import numpy as np

    image_areas = np.maximum(widths * heights, 1.0)
    owner = np.repeat(np.arange(len(per_item)), per_item)
    areas = np.clip(extents[:, 0], 0, None) * np.clip(extents[:, 1], 0, None) if len(owner) else np.zeros(0)
    relative_areas = areas / image_areas[owner] if len(owner) else np.zeros(0)
    covered = np.minimum(np.bincount(owner, weights=relative_areas, minlength=len(per_item)), 1.0)
    density = round(float(covered.mean()), 4) if len(covered) else 0.0
    if not len(relative_areas):
        return None, density
    sides = np.sqrt(relative_areas)
    sizes = ObjectSizes(
        small=int((sides < SMALL_BELOW).sum()),
        medium=int(((sides >= SMALL_BELOW) & (sides < LARGE_FROM)).sum()),
        large=int((sides >= LARGE_FROM).sum()),
        median_relative_side=round(float(np.median(sides)), 4),
    )
    return sizes, density
