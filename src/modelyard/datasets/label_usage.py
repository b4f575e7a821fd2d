"""How many annotations use a label, and removing a label from them (when a label is deleted by force)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from modelyard.datasets.annotations import shapes_per_label, without_label
from modelyard.datasets.models import DatasetItem
from modelyard.datasets.repository import ItemRepository
from modelyard.db.base import utcnow
from modelyard.tasks import TaskType


def label_usage(session: Session, label_id: str) -> tuple[int, int]:
    """(annotated items that use the label, shapes or classification labels of it)."""
    return ItemRepository(session).label_usage(label_id)


def usage_by_label(session: Session, project_id: str) -> dict[str, tuple[int, int]]:
    """label id -> (annotated items that use it, its shapes or classification labels); unused labels are absent."""
    return ItemRepository(session).usage_by_label(project_id)


def annotated_counts(session: Session, project_id: str) -> tuple[int, int]:
    """(items, annotated items) of a project."""
    return ItemRepository(session).annotated_counts(project_id)


def remove_label_from_annotations(session: Session, task: TaskType, label_id: str) -> int:
    """Remove every shape (or classification label) of `label_id`; returns the items changed.

    A multiclass item loses its only label and becomes unannotated; other items keep the rest of
    their annotation (a multilabel item may end with the explicit empty set).
    """
    items = ItemRepository(session)
    changed = items.with_label(label_id)
    for item in changed:
        remaining = without_label(item.annotation or {}, label_id)
        if task == TaskType.MULTICLASS_CLASSIFICATION:
            item.annotation, item.annotated = None, False
            remaining = {}
        else:
            item.annotation = remaining
        item.updated_at = utcnow()
        # In SQL, not from the value loaded here: a concurrent save of the same version then fails its check.
        item.annotation_version = DatasetItem.annotation_version + 1
        items.set_labels(item.id, shapes_per_label(remaining) if remaining else {})
    session.flush()
    return len(changed)
