"""Reading and writing dataset formats through Datumaro (pure: paths and dataclasses in and out).

Datumaro is imported inside the functions: it is heavy, and the CLI and API must start fast.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelyard.kit.messages import without_server_path
from modelyard.tasks import TaskType

# Our format names -> Datumaro's, for reading and for writing.
IMPORT_FORMATS = {
    "coco": "coco_instances",
    "voc": "voc",
    "yolo": "yolo",
    "imagenet": "imagenet",
    "datumaro": "datumaro",
}
EXPORT_FORMATS = {
    "coco": "coco_instances",
    "voc": "voc_detection",
    "yolo": "yolo",
    "imagenet": "imagenet_with_subset_dirs",
    "datumaro": "datumaro",
}
FORMAT_TASKS = {
    "coco": {TaskType.DETECTION, TaskType.INSTANCE_SEGMENTATION},
    "voc": {TaskType.DETECTION},
    "yolo": {TaskType.DETECTION},
    "imagenet": {TaskType.MULTICLASS_CLASSIFICATION, TaskType.MULTILABEL_CLASSIFICATION},
    "datumaro": set(TaskType),
}
SUBSET_FROM_SOURCE = {
    "train": "training", "training": "training",
    "val": "validation", "valid": "validation", "validation": "validation",
    "test": "testing", "testing": "testing",
}  # fmt: skip
# VOC's `trainval` lists the items of `train` and `val` again: read only when those two are absent.
UNION_SUBSET = "trainval"
SUBSET_TO_EXPORT = {"training": "train", "validation": "val", "testing": "test", "unassigned": "default"}
IGNORED_SOURCE_LABELS = {"voc": {"background"}}


@dataclass
class SourceShape:
    kind: str  # "label" | "box" | "polygon" | other Datumaro types, reported as ignored
    label: str | None
    values: tuple[float, ...] = ()  # box: x, y, width, height; polygon: x1, y1, x2, y2, ...


@dataclass
class SourceItem:
    name: str
    subset: str  # ours: training | validation | testing | unassigned
    image: Path | None
    shapes: list[SourceShape] = field(default_factory=list)


@dataclass
class SourceDataset:
    labels: list[str]
    items: Iterator[SourceItem]
    size: int


@dataclass
class ExportItem:
    name: str
    subset: str  # ours
    image: Path
    size: tuple[int, int] | None = None  # (height, width) when known: spares reading it from the file
    labels: list[str] = field(default_factory=list)
    boxes: list[tuple[float, float, float, float, str]] = field(default_factory=list)
    polygons: list[tuple[list[tuple[float, float]], str]] = field(default_factory=list)


def _datumaro() -> Any:
    try:
        import datumaro
    except ImportError:
        raise RuntimeError(
            "dataset import and export need Datumaro: install it with `pip install 'modelyard[datasets]'`"
        ) from None
    return datumaro


def dataset_root(folder: Path) -> Path:
    """Descend through lone folders (a zip of `my_dataset/` holds everything in that one folder)."""
    while True:
        entries = [entry for entry in folder.iterdir() if not entry.name.startswith((".", "__MACOSX"))]
        if len(entries) == 1 and entries[0].is_dir():
            folder = entries[0]
        else:
            return folder


def read_dataset(folder: Path, format: str) -> SourceDataset:
    """Open a dataset folder in one of our formats; raise ValueError saying what is wrong."""
    dm = _datumaro()
    from datumaro.components.annotation import AnnotationType

    root = dataset_root(folder)
    parts: list[tuple[Any, str | None]] = []
    try:
        subset_dirs = [d for d in root.iterdir() if d.is_dir() and d.name.lower() in SUBSET_FROM_SOURCE]
        if format == "imagenet" and subset_dirs:
            # Datumaro's imagenet_with_subset_dirs refuses subsets with different classes: read each alone.
            parts = [(dm.Dataset.import_from(str(d), "imagenet"), d.name.lower()) for d in sorted(subset_dirs)]
        else:
            parts = [(dm.Dataset.import_from(str(root), IMPORT_FORMATS[format]), None)]
    except Exception as error:  # noqa: BLE001 - Datumaro raises many types for a folder it cannot read
        reason = without_server_path(f"{type(error).__name__}: {error}", folder, "<archive>")
        raise ValueError(
            f"the folder is not a readable {format} dataset ({reason}); check the format and the folder layout"
        ) from None
    ignored = IGNORED_SOURCE_LABELS.get(format, set())
    labels: list[str] = []
    for dataset, _ in parts:
        for category in dataset.categories().get(AnnotationType.label, []):
            if category.name not in labels and category.name not in ignored:
                labels.append(category.name)
    if format == "imagenet":
        labels.sort()  # class folders carry no order

    def items() -> Iterator[SourceItem]:
        for dataset, forced_subset in parts:
            names = [category.name for category in dataset.categories().get(AnnotationType.label, [])]
            repeated = _repeated_subsets(dataset)
            for item in dataset:
                if (item.subset or "").lower() not in repeated:
                    yield _source_item(item, forced_subset, names)

    size = sum(len(dataset) - _count_in(dataset, _repeated_subsets(dataset)) for dataset, _ in parts)
    return SourceDataset(labels, items(), size)


def source_subset(name: str) -> str:
    """Ours for a source's subset name: `train`, `train2017`, `val_2017` and the like; else `unassigned`."""
    key = re.sub(r"[-_]?\d+$", "", name.lower())
    if key == UNION_SUBSET:
        return "training"
    return SUBSET_FROM_SOURCE.get(key, "unassigned")


def _repeated_subsets(dataset: Any) -> set[str]:
    """Subsets whose items another subset holds already (`trainval` beside `train` or `val`)."""
    names = {name.lower() for name in dataset.subsets()}
    if UNION_SUBSET in names and names & {"train", "val"}:
        return {UNION_SUBSET}
    return set()


def _count_in(dataset: Any, subsets: set[str]) -> int:
    return sum(len(subset) for name, subset in dataset.subsets().items() if name.lower() in subsets)


def _source_item(item: Any, forced_subset: str | None, names: list[str]) -> SourceItem:
    from datumaro.components.annotation import AnnotationType

    subset = source_subset(forced_subset or item.subset or "")
    path = getattr(item.media, "path", None)
    image = Path(path).resolve() if path else None
    shapes = []
    for annotation in item.annotations:
        label = names[annotation.label] if getattr(annotation, "label", None) is not None else None
        if annotation.type == AnnotationType.label:
            shapes.append(SourceShape("label", label))
        elif annotation.type == AnnotationType.bbox:
            shapes.append(SourceShape("box", label, (annotation.x, annotation.y, annotation.w, annotation.h)))
        elif annotation.type == AnnotationType.polygon:
            shapes.append(SourceShape("polygon", label, tuple(annotation.points)))
        else:
            shapes.append(SourceShape(annotation.type.name, label))
    name = item.id.split(":", 1)[-1] if forced_subset or ":" in item.id else item.id
    if image is not None and not Path(name).suffix:
        name += image.suffix
    return SourceItem(name, subset, image, shapes)


def write_dataset(items: list[ExportItem], labels: list[str], format: str, folder: Path) -> None:
    """Write items in one of our formats into `folder`, keeping their subsets."""
    dm = _datumaro()
    from datumaro.components.annotation import Bbox, Label, Polygon
    from datumaro.components.media import Image

    index = {name: position for position, name in enumerate(labels)}
    taken: set[str] = set()
    converted = []
    for item in items:
        annotations: list[Any] = [Label(index[name]) for name in item.labels]
        annotations += [Bbox(x, y, w, h, label=index[name]) for x, y, w, h, name in item.boxes]
        annotations += [
            Polygon([coordinate for point in points for coordinate in point], label=index[name])
            for points, name in item.polygons
        ]
        converted.append(
            dm.DatasetItem(
                id=_unique_id(item.name, taken),
                subset=SUBSET_TO_EXPORT[item.subset],
                media=Image.from_file(str(item.image), size=item.size),
                annotations=annotations,
            )
        )
    dataset = dm.Dataset.from_iterable(converted, categories=labels)
    dataset.export(str(folder), EXPORT_FORMATS[format], save_media=True)


def _unique_id(name: str, taken: set[str]) -> str:
    stem = Path(name).with_suffix("").as_posix().replace(":", "_").lstrip("/") or "item"
    candidate, counter = stem, 1
    while candidate in taken:
        counter += 1
        candidate = f"{stem}_{counter}"
    taken.add(candidate)
    return candidate
