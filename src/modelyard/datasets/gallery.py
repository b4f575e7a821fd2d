"""The gallery's view of a dataset: pages reachable directly, counts per subset and label, and actions on
many items at once (one request, one transaction). Flushes only; the request commits."""

from __future__ import annotations

from typing import Any, get_args

import structlog

from modelyard.datasets.annotations import LabelBook
from modelyard.datasets.repository import ItemSort
from modelyard.datasets.schemas import (
    DatasetCounts,
    ItemFilter,
    ItemPages,
    ItemsBulk,
    ItemsBulkResult,
    LabelItemCount,
    Subset,
    SubsetCount,
)
from modelyard.datasets.service import DatasetService, criteria_of
from modelyard.errors import Conflict, InvalidInput, NotFound
from modelyard.kit.pagination import Order, encode_cursor
from modelyard.projects.models import Project
from modelyard.tasks import TaskType

log = structlog.get_logger("modelyard.datasets")
CLASSIFICATION = (TaskType.MULTICLASS_CLASSIFICATION, TaskType.MULTILABEL_CLASSIFICATION)
SHOWN_IDS = 5  # ids named in an error message; the count says the rest


def _some(ids: list[str]) -> str:
    shown = ", ".join(sorted(ids)[:SHOWN_IDS])
    return shown + (f" and {len(ids) - SHOWN_IDS} more" if len(ids) > SHOWN_IDS else "")


class GalleryService:
    def __init__(self, datasets: DatasetService) -> None:
        self.datasets = datasets
        self.items = datasets.items

    def pages(
        self, project: Project, matching: ItemFilter, *, sort: ItemSort, order: Order, page_size: int
    ) -> ItemPages:
        criteria = criteria_of(project, matching)
        total = self.items.count(project.id, criteria)
        ends = self.items.page_ends(project.id, criteria, sort=sort, order=order, page_size=page_size)
        # The end of the last page starts nothing when the total is a whole number of pages.
        cursors: list[str | None] = [None] + [encode_cursor(value, item_id) for value, item_id in ends]
        return ItemPages(total=total, page_size=page_size, cursors=cursors[: max(1, -(-total // page_size))])

    def counts(self, project: Project, matching: ItemFilter) -> DatasetCounts:
        criteria = criteria_of(project, matching)
        per_subset = {subset: (n, annotated, reviewed) for subset, n, annotated, reviewed in
                      self.items.subset_counts(project.id, criteria)}  # fmt: skip
        per_label = self.items.label_counts(project.id, criteria, [label.id for label in project.labels])
        subsets = [
            SubsetCount(subset=subset, items=n, annotated=annotated, user_reviewed=reviewed)
            for subset in get_args(Subset)
            for n, annotated, reviewed in [per_subset.get(subset, (0, 0, 0))]
        ]
        return DatasetCounts(
            total=sum(count.items for count in subsets),
            annotated=sum(count.annotated for count in subsets),
            user_reviewed=sum(count.user_reviewed for count in subsets),
            subsets=subsets,
            labels=[
                LabelItemCount(
                    label_id=label.id, label_name=label.name, color=label.color, items=per_label.get(label.id, 0)
                )
                for label in project.labels
            ],  # fmt: skip
        )

    # -- bulk --------------------------------------------------------------------------------
    def selected_ids(self, project: Project, request: ItemsBulk) -> list[str]:
        """The ids the request selects; every id it names must be an item of the project."""
        if request.ids is not None:
            wanted = list(dict.fromkeys(request.ids))
            missing = set(wanted) - self.items.known_ids(project.id, wanted)
            if missing:
                raise NotFound(
                    f"project {project.name!r} has no dataset item(s) {_some(list(missing))}: nothing was changed"
                )
        else:
            wanted = self.items.matching_ids(project.id, criteria_of(project, request.filter or ItemFilter()))
        excluded = set(request.exclude)
        return [item_id for item_id in wanted if item_id not in excluded]

    def bulk(self, project: Project, request: ItemsBulk) -> ItemsBulkResult:
        ids = self.selected_ids(project, request)
        if request.action == "delete":
            changed = self.datasets.delete_items(project, ids) if ids else 0
        elif request.action == "move_to_subset":
            changed = self._move(project, ids, request.subset or "unassigned")
        else:
            changed = self._assign_label(project, ids, request.label or "")
        log.info("datasets.items.bulk", project=project.id, action=request.action, selected=len(ids), changed=changed)
        return ItemsBulkResult(action=request.action, selected=len(ids), changed=changed)

    def _move(self, project: Project, ids: list[str], subset: str) -> int:
        frozen = self.items.frozen_elsewhere(ids, subset)
        if frozen:
            raise Conflict(
                f"{len(frozen)} of the selected items ({_some(frozen)}) have their subset since a dataset revision "
                "included them; subsets never change after that, so nothing leaks from training into testing: "
                "leave them out of the selection (filter on a subset, or on items not yet in a revision)",
                frozen=len(frozen),
            )
        changed = self.items.count_not_in_subset(ids, subset)
        self.items.move_to_subset(ids, subset)
        return changed

    def _assign_label(self, project: Project, ids: list[str], label: str) -> int:
        task = TaskType(project.task_type)
        if task not in CLASSIFICATION:
            raise InvalidInput(
                f"a label is assigned to whole images in classification projects only; project {project.name!r} "
                f"is {task.value}: draw its shapes in the annotation editor"
            )
        label_id = LabelBook.of(project.labels).resolve(label)
        changed: dict[str, dict[str, Any]] = {}
        for item_id, stored in self.items.annotations_of(ids):
            labels = list((stored or {}).get("labels", []))
            if task == TaskType.MULTICLASS_CLASSIFICATION:
                new_labels = [label_id]
            else:
                new_labels = labels if label_id in labels else [*labels, label_id]
            if stored is None or new_labels != labels:
                changed[item_id] = {"labels": new_labels}
        self.items.set_annotations(changed, reviewed=True)
        return len(changed)
