"""An item's annotation, checked against the project's task, labels and the image's size.

Stored form (JSON on the item), label ids only:
    classification        {"labels": [label_id, ...]}
    detection             {"boxes": [{"x", "y", "width", "height", "label_id"}, ...]}
    instance segmentation {"polygons": [{"points": [[x, y], ...], "label_id"}, ...]}
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from modelyard.datasets.schemas import AnnotationIn, AnnotationRead, BoxRead, LabelRef, PolygonRead
from modelyard.errors import InvalidInput
from modelyard.tasks import TaskType

# Coordinates come from floating-point tools (and from other formats' rounding): allow this much.
EDGE_TOLERANCE = 1e-6
TASK_FIELD = {
    TaskType.MULTICLASS_CLASSIFICATION: "labels",
    TaskType.MULTILABEL_CLASSIFICATION: "labels",
    TaskType.DETECTION: "boxes",
    TaskType.INSTANCE_SEGMENTATION: "polygons",
}


@dataclass(frozen=True)
class LabelBook:
    """A project's labels, found by id or by name."""

    names_by_id: Mapping[str, str]

    @classmethod
    def of(cls, labels: Iterable[Any]) -> LabelBook:
        return cls({label.id: label.name for label in labels})

    def resolve(self, reference: str) -> str:
        if reference in self.names_by_id:
            return reference
        for label_id, name in self.names_by_id.items():
            if name == reference:
                return label_id
        known = ", ".join(repr(name) for name in self.names_by_id.values()) or "none yet"
        raise InvalidInput(
            f"unknown label {reference!r}; the project's labels are {known}: add it first "
            "(`modelyard label add PROJECT NAME`)",
            code="unknown_label",
        )

    def name(self, label_id: str) -> str:
        return self.names_by_id.get(label_id, label_id)


@dataclass(frozen=True)
class CheckedAnnotation:
    stored: dict[str, Any]
    shapes_per_label: dict[str, int]


def check_annotation(
    task: TaskType, labels: LabelBook, annotation: AnnotationIn, width: int, height: int
) -> CheckedAnnotation:
    """Validate `annotation` for the task and the image; raise InvalidInput saying how to fix it."""
    expected = TASK_FIELD[task]
    given = [name for name in ("labels", "boxes", "polygons") if getattr(annotation, name) is not None]
    if given != [expected]:
        raise InvalidInput(
            f"a {task.value} annotation gives `{expected}` only (got {', '.join(given) or 'nothing'}); "
            + _task_hint(task)
        )
    if task in (TaskType.MULTICLASS_CLASSIFICATION, TaskType.MULTILABEL_CLASSIFICATION):
        return _check_labels(task, labels, annotation.labels or [])
    if task == TaskType.DETECTION:
        return _check_boxes(labels, annotation, width, height)
    return _check_polygons(labels, annotation, width, height)


def _task_hint(task: TaskType) -> str:
    return {
        TaskType.MULTICLASS_CLASSIFICATION: 'e.g. {"labels": ["cat"]}',
        TaskType.MULTILABEL_CLASSIFICATION: 'e.g. {"labels": ["cat", "dog"]} or {"labels": []}',
        TaskType.DETECTION: 'e.g. {"boxes": [{"x": 10, "y": 20, "width": 30, "height": 40, "label": "cat"}]}',
        TaskType.INSTANCE_SEGMENTATION: 'e.g. {"polygons": [{"points": [[0, 0], [10, 0], [5, 8]], "label": "cat"}]}',
    }[task]


def _check_labels(task: TaskType, labels: LabelBook, references: list[str]) -> CheckedAnnotation:
    ids = [labels.resolve(reference) for reference in references]
    if task == TaskType.MULTICLASS_CLASSIFICATION and len(ids) != 1:
        raise InvalidInput(f"a multiclass classification annotation has exactly one label, got {len(ids)}")
    duplicated = [labels.name(label_id) for label_id, count in Counter(ids).items() if count > 1]
    if duplicated:
        raise InvalidInput(f"label(s) {', '.join(map(repr, duplicated))} given more than once: list each label once")
    return CheckedAnnotation({"labels": ids}, {label_id: 1 for label_id in ids})


def _check_boxes(labels: LabelBook, annotation: AnnotationIn, width: int, height: int) -> CheckedAnnotation:
    boxes, counts = [], Counter[str]()
    for index, box in enumerate(annotation.boxes or []):
        label_id = labels.resolve(box.label)
        if box.width <= 0 or box.height <= 0:
            raise InvalidInput(
                f"box {index} has no area ({box.width:g} x {box.height:g}): width and height must be > 0"
            )
        if (
            box.x < -EDGE_TOLERANCE
            or box.y < -EDGE_TOLERANCE
            or box.x + box.width > width + EDGE_TOLERANCE
            or box.y + box.height > height + EDGE_TOLERANCE
        ):
            raise InvalidInput(
                f"box {index} ({box.x:g}, {box.y:g}, {box.width:g} x {box.height:g}) is outside the "
                f"{width} x {height} image: keep 0 <= x, 0 <= y, x + width <= {width}, y + height <= {height}",
                code="shape_outside_image",
            )
        boxes.append({"x": box.x, "y": box.y, "width": box.width, "height": box.height, "label_id": label_id})
        counts[label_id] += 1
    return CheckedAnnotation({"boxes": boxes}, dict(counts))


def _check_polygons(labels: LabelBook, annotation: AnnotationIn, width: int, height: int) -> CheckedAnnotation:
    polygons, counts = [], Counter[str]()
    for index, polygon in enumerate(annotation.polygons or []):
        label_id = labels.resolve(polygon.label)
        if len(polygon.points) < 3:
            raise InvalidInput(f"polygon {index} has {len(polygon.points)} point(s): give 3 or more")
        for x, y in polygon.points:
            if not (-EDGE_TOLERANCE <= x <= width + EDGE_TOLERANCE and -EDGE_TOLERANCE <= y <= height + EDGE_TOLERANCE):
                raise InvalidInput(
                    f"polygon {index} has point ({x:g}, {y:g}) outside the {width} x {height} image",
                    code="shape_outside_image",
                )
        if polygon_area(polygon.points) <= EDGE_TOLERANCE:
            raise InvalidInput(f"polygon {index} is degenerate (zero area): its points must not all lie on one line")
        polygons.append({"points": [[x, y] for x, y in polygon.points], "label_id": label_id})
        counts[label_id] += 1
    return CheckedAnnotation({"polygons": polygons}, dict(counts))


def polygon_area(points: list[tuple[float, float]]) -> float:
    """Shoelace formula."""
    total = 0.0
    for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1], strict=True):
        total += x1 * y2 - x2 * y1
    return abs(total) / 2.0


def shapes_per_label(stored: Mapping[str, Any]) -> dict[str, int]:
    """How many shapes of each label a stored annotation has (1 per label for classification)."""
    if "labels" in stored:
        return {label_id: 1 for label_id in stored["labels"]}
    counts = Counter[str]()
    for shape in stored.get("boxes", []) + stored.get("polygons", []):
        counts[shape["label_id"]] += 1
    return dict(counts)


def without_label(stored: Mapping[str, Any], label_id: str) -> dict[str, Any]:
    """The stored annotation with every use of `label_id` removed."""
    if "labels" in stored:
        return {"labels": [other for other in stored["labels"] if other != label_id]}
    key = "boxes" if "boxes" in stored else "polygons"
    return {key: [shape for shape in stored.get(key, []) if shape["label_id"] != label_id]}


def render_annotation(stored: Mapping[str, Any] | None, labels: LabelBook) -> AnnotationRead | None:
    if stored is None:
        return None
    return AnnotationRead(
        labels=[LabelRef(id=label_id, name=labels.name(label_id)) for label_id in stored.get("labels", [])],
        boxes=[
            BoxRead(
                **{k: box[k] for k in ("x", "y", "width", "height", "label_id")},
                label_name=labels.name(box["label_id"]),
            )
            for box in stored.get("boxes", [])
        ],
        polygons=[
            PolygonRead(
                points=[(x, y) for x, y in polygon["points"]],
                label_id=polygon["label_id"],
                label_name=labels.name(polygon["label_id"]),
            )
            for polygon in stored.get("polygons", [])
        ],
    )
