"""A dataset revision's items as columns, and its Parquet table built column by column (pure: no database).

A revision holds every annotated item of a project (100,000 and more): the table is built from flat
lists of values (one per box, one per polygon point) and offsets, never from a dict per item or box.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import accumulate, chain
from typing import Any

from modelyard.datasets.annotations import LabelBook
from modelyard.datasets.parquet import revision_schema
from modelyard.datasets.schemas import LabelCount


@dataclass(frozen=True)
class RevisionRows:
    """The annotated items of a project, in id order, one list per field."""

    ids: Sequence[str]
    image_keys: Sequence[str]
    sha256s: Sequence[str]
    sizes: Sequence[int]
    widths: Sequence[int]
    heights: Sequence[int]
    subsets: Sequence[str]  # as stored: `unassigned` for items no revision has included yet
    user_reviewed: Sequence[bool]
    in_revision: Sequence[bool]
    annotations: Sequence[dict[str, Any] | None]

    @classmethod
    def from_rows(cls, rows: Sequence[Sequence[Any]]) -> RevisionRows:
        """From query rows whose last field is the annotation as JSON text: parsed in one call."""
        if not rows:
            return cls(*([()] * 10))
        *fields, texts = zip(*rows, strict=True)
        annotations = json.loads("[" + ",".join(text if text is not None else "null" for text in texts) + "]")
        ids, keys, sha256s, sizes, widths, heights, subsets, reviewed, in_revision = fields
        return cls(
            ids,
            keys,
            sha256s,
            sizes,
            widths,
            heights,
            subsets,
            [bool(value) for value in reviewed],
            [bool(value) for value in in_revision],
            annotations,
        )

    def __len__(self) -> int:
        return len(self.ids)

    @cached_property
    def label_ids(self) -> list[list[str]]:
        """Each item's distinct labels, in order of first appearance."""
        return [_label_ids(annotation) for annotation in self.annotations]


def _label_ids(annotation: Mapping[str, Any] | None) -> list[str]:
    if not annotation:
        return []
    if "labels" in annotation:
        return list(annotation["labels"])
    shapes = chain(annotation.get("boxes", ()), annotation.get("polygons", ()))
    return list(dict.fromkeys(shape["label_id"] for shape in shapes))


def fingerprint(rows: RevisionRows, subsets: Sequence[str], book: LabelBook) -> str:
    """Changes with any item, image, subset, review flag, annotation or label name."""
    records = zip(rows.ids, rows.sha256s, subsets, rows.user_reviewed, rows.annotations, strict=True)
    payload = json.dumps([sorted(book.names_by_id.items()), list(records)], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


def revision_table(rows: RevisionRows, subsets: Sequence[str], book: LabelBook, folder: str) -> dict[str, Any]:
    """The data.parquet columns as pyarrow arrays (shapes as in `parquet.py`'s docstring)."""
    import pyarrow as pa

    schema = revision_schema()
    names = book.names_by_id
    project_prefix = folder.split("dataset_revisions/", 1)[0]  # projects/<project>/
    start = len(project_prefix)
    image_paths = [
        "../../" + key[start:] if key.startswith(project_prefix) else posixpath.relpath(key, folder)
        for key in rows.image_keys
    ]
    label_ids = _string_lists(rows.label_ids)
    label_names = _string_lists([[names.get(label_id, label_id) for label_id in ids] for ids in rows.label_ids])
    return {
        "item_id": pa.array(rows.ids, pa.string()),
        "image_path": pa.array(image_paths, pa.string()),
        "image_sha256": pa.array(rows.sha256s, pa.string()),
        "image_size": pa.array(rows.sizes, pa.int64()),
        "width": pa.array(rows.widths, pa.int32()),
        "height": pa.array(rows.heights, pa.int32()),
        "subset": pa.array(subsets, pa.string()),
        "user_reviewed": pa.array(rows.user_reviewed, pa.bool_()),
        "label_ids": label_ids,
        "label_names": label_names,
        "boxes": _boxes(rows.annotations, names, schema.field("boxes").type),
        "polygons": _polygons(rows.annotations, names, schema.field("polygons").type),
    }


def _offsets(counts: Sequence[int]) -> Any:
    import pyarrow as pa

    return pa.array(list(accumulate(counts, initial=0)), pa.int32())


def _string_lists(lists: Sequence[Sequence[str]]) -> Any:
    import pyarrow as pa

    return pa.ListArray.from_arrays(
        _offsets([len(values) for values in lists]), pa.array(list(chain.from_iterable(lists)), pa.string())
    )


def _shapes(annotations: Sequence[Mapping[str, Any] | None], kind: str) -> tuple[list[list[Any]], list[Any]]:
    per_item = [annotation.get(kind, []) if annotation else [] for annotation in annotations]
    return per_item, list(chain.from_iterable(per_item))


def _boxes(annotations: Sequence[Mapping[str, Any] | None], names: Mapping[str, str], list_type: Any) -> Any:
    import pyarrow as pa

    per_item, boxes = _shapes(annotations, "boxes")
    struct_type = list_type.value_type
    label_ids = [box["label_id"] for box in boxes]
    values = [pa.array([box[name] for box in boxes], pa.float64()) for name in ("x", "y", "width", "height")]
    values += [pa.array(label_ids, pa.string()), pa.array([names.get(i, i) for i in label_ids], pa.string())]
    structs = pa.StructArray.from_arrays(values, fields=list(struct_type))
    return pa.ListArray.from_arrays(_offsets([len(item) for item in per_item]), structs, type=list_type)


def _polygons(annotations: Sequence[Mapping[str, Any] | None], names: Mapping[str, str], list_type: Any) -> Any:
    import pyarrow as pa

    per_item, polygons = _shapes(annotations, "polygons")
    struct_type = list_type.value_type
    points_type = struct_type.field("points").type
    points = list(chain.from_iterable(polygon["points"] for polygon in polygons))
    xy = pa.StructArray.from_arrays(
        [
            pa.array([point[0] for point in points], pa.float64()),
            pa.array([point[1] for point in points], pa.float64()),
        ],
        fields=list(points_type.value_type),
    )
    label_ids = [polygon["label_id"] for polygon in polygons]
    structs = pa.StructArray.from_arrays(
        [
            pa.ListArray.from_arrays(_offsets([len(polygon["points"]) for polygon in polygons]), xy, type=points_type),
            pa.array(label_ids, pa.string()),
            pa.array([names.get(i, i) for i in label_ids], pa.string()),
        ],
        fields=list(struct_type),
    )
    return pa.ListArray.from_arrays(_offsets([len(item) for item in per_item]), structs, type=list_type)


def label_counts(rows: RevisionRows, subsets: Sequence[str], book: LabelBook) -> list[LabelCount]:
    """Per label: the items that use it, and its shapes (or 1 per item for classification labels), in all and in
    each subset (`subsets`: each row's subset in the revision)."""
    items = Counter(chain.from_iterable(rows.label_ids))
    shapes = Counter[str]()
    per_subset: dict[str, Counter[str]] = {}
    for label_ids, subset in zip(rows.label_ids, subsets, strict=True):
        per_subset.setdefault(subset, Counter()).update(label_ids)
    for annotation in rows.annotations:
        if not annotation:
            continue
        if "labels" in annotation:
            shapes.update(annotation["labels"])
        else:
            shapes.update(
                shape["label_id"] for shape in chain(annotation.get("boxes", ()), annotation.get("polygons", ()))
            )
    return [
        LabelCount(
            label_id=label_id, label_name=name, items=items[label_id], shapes=shapes[label_id],
            subsets={subset: counted[label_id] for subset, counted in sorted(per_subset.items())},
        )  # fmt: skip
        for label_id, name in book.names_by_id.items()
    ]
