"""Dataset import and export jobs, through Datumaro."""

from __future__ import annotations

import re
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from itertools import islice
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from modelyard.datasets.annotations import LabelBook, check_annotation
from modelyard.datasets.archives import extract_zip
from modelyard.datasets.image_pool import MISSING, ImagePool
from modelyard.datasets.image_pool import results as image_results
from modelyard.datasets.images import ThumbnailedImage
from modelyard.datasets.import_subsets import ImportedItem, plan_subsets
from modelyard.datasets.interchange import (
    ExportItem,
    SourceDataset,
    SourceItem,
    read_dataset,
    write_dataset,
)
from modelyard.datasets.parquet import RevisionItem
from modelyard.datasets.repository import ItemRepository
from modelyard.datasets.revisions import DatasetRevisionService
from modelyard.datasets.schemas import (
    AnnotationIn,
    BoxIn,
    ExportParams,
    ImportParams,
    PolygonIn,
    is_import_archive_key,
)
from modelyard.datasets.service import DatasetService, NewItem, archive_limits
from modelyard.datasets.shape_fit import Fitted, fit_box, fit_polygon
from modelyard.datasets.transfer import EXPORT_JOB, IMPORT_JOB
from modelyard.db.engine import transaction
from modelyard.errors import InvalidInput
from modelyard.jobs.context import CleanupContext, JobContext
from modelyard.jobs.registry import JobType
from modelyard.projects.models import Project
from modelyard.projects.repository import ProjectRepository
from modelyard.projects.schemas import LabelCreate, ProjectCreate
from modelyard.projects.service import ProjectService
from modelyard.storage import crash_points
from modelyard.storage.service import FileService
from modelyard.tasks import TaskType

BATCH = 200  # items per transaction: keeps the database's write lock short for other users
LOOKAHEAD = 2  # batches being checked by the workers while one is stored
MAX_REPORTED_SKIPS = 1000


class Skip(Exception):
    """An item that cannot be imported; the message is the reason reported."""


# -- import ------------------------------------------------------------------------------------
def import_dataset(context: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Unpack the archive safely, read it with Datumaro, and add its items batch by batch.

    Nothing is stored before the archive and the dataset are found sound. Items that cannot be
    imported (unreadable image, shape outside the image, unknown label refused...) are skipped
    and reported with the reason. Batches already committed stay if the job fails later.
    Images are decoded, hashed and thumbnailed by worker processes while the previous batch is
    stored and committed.
    """
    request = ImportParams.model_validate(params)
    context.progress(1, "unpacking")
    with transaction(context.db.read_sessions) as session:
        files = FileService(session, context.store)
        archive = files.local_path(files.get(request.archive_key))
    source_folder = context.work_dir / "source"
    extract_zip(archive, source_folder, archive_limits(context.settings), name="the import archive")
    context.progress(5, "reading", f"reading the {request.format} dataset")
    try:
        source = read_dataset(source_folder, request.format)
    except ValueError as error:
        raise InvalidInput(str(error)) from None
    project_id, created_labels = _prepare_project(context, request, source)

    tally = _Tally()
    settings = context.settings
    pool = ImagePool(
        context.work_dir / "thumbnails",
        max_bytes=settings.max_image_bytes,
        max_pixels=settings.max_image_pixels,
        longest_side=settings.thumbnail_size,
        images=source.size,
    )
    with pool:
        pending: deque[tuple[list[SourceItem], list[Any]]] = deque()
        for batch in _batches(source.items, BATCH):
            pending.append((batch, pool.check([item.image for item in batch])))
            if len(pending) > LOOKAHEAD:
                _store_batch(context, project_id, *pending.popleft(), tally)
                context.progress(
                    5 + 90 * tally.done / max(source.size, 1), "importing", f"{tally.done}/{source.size} items read"
                )
        while pending:
            _store_batch(context, project_id, *pending.popleft(), tally)
    moved_to_testing = _settle_subsets(context, project_id, request, tally)
    _delete_archive(context.db, context.store, request.archive_key)
    _log_outcome(context, tally)
    return {
        "project_id": project_id,
        "imported": tally.imported,
        "skipped_count": tally.skipped_count,
        "skipped": tally.skipped,
        "labels_created": created_labels,
        "subsets": dict(tally.subsets),
        "subsets_from_source": sorted(s for s in tally.source_subsets if s != "unassigned"),
        "split_to_testing": moved_to_testing,
        "subsets_note": tally.subsets_note,
        "shapes": tally.shapes.report(),
        "annotations_given_to_duplicates": tally.annotations_given_to_duplicates,
        "ignored_shapes": dict(tally.ignored_shapes),
    }


def _settle_subsets(context: JobContext, project_id: str, request: ImportParams, tally: _Tally) -> int:
    """Split a testing subset out of the imported training items when the source has none; how many moved."""
    with transaction(context.db.sessions) as session:
        items = ItemRepository(session)
        plan = plan_subsets(tally.source_subsets, tally.training, request.testing_fraction,
                            items.count_in_subset(project_id, "testing"))  # fmt: skip
        items.move_to_subset(plan.to_testing, "testing")
    moved = len(plan.to_testing)
    if moved:
        tally.subsets["training"] -= moved
        tally.subsets["testing"] += moved
    tally.subsets_note = plan.note
    return moved


def _log_outcome(context: JobContext, tally: _Tally) -> None:
    context.log.info(tally.subsets_note)
    shapes = tally.shapes
    if shapes.clipped or shapes.dropped_count:
        context.log.warning(
            "%d shape(s) clipped to their image (%d reached a pixel or more outside), %d dropped (wholly outside "
            "or no area); %d item(s) kept without annotation as all their shapes were dropped",
            shapes.clipped,
            shapes.clipped_over_a_pixel,
            shapes.dropped_count,
            shapes.left_unannotated,
        )
    if tally.annotations_given_to_duplicates:
        context.log.info(
            "%d duplicate(s) gave their annotation to the unannotated item they duplicate",
            tally.annotations_given_to_duplicates,
        )
    for entry in tally.skipped[:50]:
        context.log.warning("skipped %s: %s", entry["item"], entry["reason"])


@dataclass
class _ShapeTally:
    """Boxes and polygons fitted into their image: how many were clipped, which were dropped."""

    clipped: int = 0
    clipped_over_a_pixel: int = 0
    dropped_count: int = 0
    dropped: list[dict[str, str]] = field(default_factory=list)
    left_unannotated: int = 0

    def count(self, item_name: str, fitted: Fitted) -> None:
        if fitted.clipped:
            self.clipped += 1
            self.clipped_over_a_pixel += fitted.overflow >= 1.0
        if fitted.dropped_because is not None:
            self.dropped_count += 1
            if len(self.dropped) < MAX_REPORTED_SKIPS:
                self.dropped.append({"item": item_name, "reason": fitted.dropped_because})

    def report(self) -> dict[str, Any]:
        return {"clipped": self.clipped, "clipped_over_a_pixel": self.clipped_over_a_pixel,
                "dropped_count": self.dropped_count, "dropped": self.dropped,
                "items_left_unannotated": self.left_unannotated}  # fmt: skip


@dataclass
class _Tally:
    done: int = 0
    imported: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)
    skipped_count: int = 0
    subsets: Counter[str] = field(default_factory=Counter)
    source_subsets: Counter[str] = field(default_factory=Counter)
    ignored_shapes: Counter[str] = field(default_factory=Counter)
    shapes: _ShapeTally = field(default_factory=_ShapeTally)
    annotations_given_to_duplicates: int = 0
    training: list[ImportedItem] = field(default_factory=list)
    subsets_note: str = ""

    def skip(self, name: str, reason: str) -> None:
        self.skipped_count += 1
        if len(self.skipped) < MAX_REPORTED_SKIPS:
            self.skipped.append({"item": name, "reason": reason})


def _batches(items: Iterator[SourceItem], size: int) -> Iterator[list[SourceItem]]:
    while batch := list(islice(items, size)):
        yield batch


def _store_batch(
    context: JobContext, project_id: str, batch: list[SourceItem], checks: list[Any], tally: _Tally
) -> None:
    """Add one batch's items in one transaction: duplicates and bad annotations are skipped (a duplicate
    still gives its annotation to the item it duplicates when that one has none)."""
    checked = image_results(checks)
    with transaction(context.db.sessions) as session:
        service = DatasetService(session, FileService(session, context.store), context.settings, context.actor)
        project = ProjectRepository(session).get(project_id)
        assert project is not None
        task, book = TaskType(project.task_type), LabelBook.of(project.labels)
        known = service.items.by_sha256(project.id, [r.image.sha256 for r in checked if not isinstance(r, str)])
        accepted: dict[str, NewItem] = {}
        for item, result in zip(batch, checked, strict=True):
            tally.source_subsets[item.subset] += 1
            duplicate = None if isinstance(result, str) else known.get(result.image.sha256)
            try:
                new = _new_item(item, result, task, book, tally)
            except Skip as reason:
                tally.skip(item.name, f"duplicate of item {duplicate} (same bytes)" if duplicate else str(reason))
                continue
            if duplicate is not None:
                tally.skip(item.name, _give_to_duplicate(service, project, accepted, duplicate, new, tally))
                continue
            accepted[new.id] = new
            known[new.image.image.sha256] = new.id
        service.add_many(project, list(accepted.values()))
    crash_points.reached("import.batch_committed")
    tally.done += len(batch)
    tally.imported += len(accepted)
    tally.subsets.update(new.subset for new in accepted.values())
    tally.training += [ImportedItem(new.id, new.name, sorted(new.shapes_per_label or {}))
                       for new in accepted.values() if new.subset == "training"]  # fmt: skip


def _give_to_duplicate(
    service: DatasetService,
    project: Project,
    accepted: dict[str, NewItem],
    duplicate_id: str,
    new: NewItem,
    tally: _Tally,
) -> str:
    """Give the duplicate's annotation (and subset) to the item it duplicates when that one has none;
    the reason the duplicate is skipped."""
    reason = f"duplicate of item {duplicate_id} (same bytes)"
    if new.annotation is None:
        return reason
    pending = accepted.get(duplicate_id)
    if pending is not None:  # came earlier in this batch, not stored yet
        if pending.annotation is not None:
            return reason
        subset = new.subset if pending.subset == "unassigned" else pending.subset
        accepted[duplicate_id] = replace(
            pending, annotation=new.annotation, shapes_per_label=new.shapes_per_label, subset=subset
        )
    else:
        existing = service.items.get(project.id, duplicate_id)
        if existing is None or existing.annotation is not None:
            return reason
        service.fill_annotation(existing, new.annotation, new.shapes_per_label or {}, subset=new.subset)
    tally.annotations_given_to_duplicates += 1
    return f"{reason}; its annotation was given to that item, which had none"


def _new_item(
    item: SourceItem, result: ThumbnailedImage | str, task: TaskType, book: LabelBook, tally: _Tally
) -> NewItem:
    if result == MISSING:
        raise Skip(MISSING)
    if isinstance(result, str):
        raise Skip(f"unreadable image: {result}")
    size = (result.image.width, result.image.height)
    annotation = _annotation_of(item, task, size, tally)
    stored, shapes = None, None
    if annotation is not None:
        try:
            checked = check_annotation(task, book, annotation, *size)
        except InvalidInput as error:
            reason = "unknown label" if error.code == "unknown_label" else "invalid annotation"
            raise Skip(f"{reason}: {error.message}") from None
        stored, shapes = checked.stored, checked.shapes_per_label
    return NewItem(item.name, item.subset, result, stored, shapes)


def _prepare_project(context: JobContext, request: ImportParams, source: SourceDataset) -> tuple[str, list[str]]:
    """The target project, with the source's labels it lacks created (unless they are refused)."""
    with transaction(context.db.sessions) as session:
        projects = ProjectService(session, FileService(session, context.store), context.actor)
        if request.new_project is not None:
            project = projects.create(
                ProjectCreate(
                    name=request.new_project.name,
                    task_type=request.new_project.task_type,
                    labels=[_new_label(name) for name in source.labels],
                )
            )
            return project.id, list(source.labels)
        project = projects.get(request.project_id or "")
        existing = {label.name for label in project.labels}
        missing = [name for name in source.labels if name not in existing]
        if request.unknown_labels == "create":
            for name in missing:
                projects.add_label(project, _new_label(name))
            return project.id, missing
        return project.id, []


def _new_label(name: str) -> LabelCreate:
    """A label named as in the source, or InvalidInput saying why the name cannot be a label's."""
    try:
        return LabelCreate(name=name)
    except ValidationError as error:
        reason = error.errors()[0]["msg"].removeprefix("Value error, ")
        raise InvalidInput(f"the dataset's label {name!r} cannot be a label name: {reason}") from None


def _annotation_of(item: SourceItem, task: TaskType, size: tuple[int, int], tally: _Tally) -> AnnotationIn | None:
    """The item's annotation for the task, or None when the source has none for it (or every shape it
    had lay outside the image). Boxes and polygons are fitted into the image first (`shape_fit`)."""
    wanted = {
        TaskType.MULTICLASS_CLASSIFICATION: "label",
        TaskType.MULTILABEL_CLASSIFICATION: "label",
        TaskType.DETECTION: "box",
        TaskType.INSTANCE_SEGMENTATION: "polygon",
    }[task]
    shapes = []
    for shape in item.shapes:
        if shape.kind == wanted and shape.label is not None:
            shapes.append(shape)
        else:
            tally.ignored_shapes[shape.kind] += 1
    if wanted == "label":
        if not shapes:
            return None
        if task == TaskType.MULTICLASS_CLASSIFICATION and len(shapes) > 1:
            raise Skip(f"{len(shapes)} labels on an item of a multiclass project, which takes exactly one")
        return AnnotationIn(labels=[shape.label for shape in shapes])
    width, height = size
    boxes, polygons = [], []
    for shape in shapes:
        if wanted == "box":
            fitted = fit_box((shape.values[0], shape.values[1], shape.values[2], shape.values[3]), width, height)
        else:
            fitted = fit_polygon(list(zip(shape.values[0::2], shape.values[1::2], strict=True)), width, height)
        tally.shapes.count(item.name, fitted)
        if isinstance(fitted.shape, tuple):
            x, y, box_width, box_height = fitted.shape
            boxes.append(BoxIn(x=x, y=y, width=box_width, height=box_height, label=shape.label))
        elif fitted.shape is not None:
            polygons.append(PolygonIn(points=fitted.shape, label=shape.label))
    if shapes and not (boxes or polygons):
        tally.shapes.left_unannotated += 1
        return None  # not an image with nothing on it: its objects were there, only misdrawn
    return AnnotationIn(boxes=boxes) if wanted == "box" else AnnotationIn(polygons=polygons)


def _delete_archive(db: Any, store: Any, key: str) -> None:
    with transaction(db.sessions) as session:
        files = FileService(session, store)
        if files.files.get(key) is not None:
            files.delete(key)


def cleanup_import(context: CleanupContext) -> None:
    """Remove the uploaded archive the import owns; any other key (a job recorded before imports were limited
    to their own uploads) is left alone, since another record may hold it."""
    key = context.params.get("archive_key")
    if isinstance(key, str) and is_import_archive_key(key):
        _delete_archive(context.db, context.store, key)


# -- export ------------------------------------------------------------------------------------
def export_dataset(context: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Write the current dataset, or a revision, in a format, zip it and store the zip."""
    from modelyard.datasets.archives import zip_folder

    request = ExportParams.model_validate(params)
    context.progress(1, "collecting items")
    with transaction(context.db.read_sessions) as session:
        files = FileService(session, context.store)
        project = ProjectRepository(session).get(request.project_id)
        if project is None:
            raise InvalidInput(f"project {request.project_id} no longer exists")
        labels = [label.name for label in project.labels]
        project_name, task = project.name, TaskType(project.task_type)
        if request.revision_id:
            revisions = DatasetRevisionService(session, files, context.actor)
            revision = revisions.get(project, request.revision_id)
            suffix = f"-r{revision.number}"
            items = _revision_export_items(session, revisions.read_items(revision))
        else:
            suffix = ""
            items = _current_export_items(session, files, project)
    classification = task in (TaskType.MULTICLASS_CLASSIFICATION, TaskType.MULTILABEL_CLASSIFICATION)
    if classification and request.format == "imagenet":
        items = [item for item in items if item.labels]  # a folder per class: unlabelled images have no place
    context.progress(20, "writing", f"{len(items)} items as {request.format}")
    output = context.work_dir / "export"
    write_dataset(items, labels, request.format, output)
    context.progress(80, "zipping")
    file_name = f"{_safe_name(project_name)}{suffix}-{request.format}.zip"
    archive = zip_folder(output, context.work_dir / file_name)
    with transaction(context.db.sessions) as session:
        record = FileService(session, context.store).save(
            f"projects/{request.project_id}/exports/{context.job_id}/{file_name}",
            archive,
            actor=context.actor,
            media_type="application/zip",
            move=True,
        )
        result = {"file_key": record.key, "file_name": file_name, "size": record.size, "sha256": record.sha256}
    return {**result, "items": len(items), "format": request.format, "revision_id": request.revision_id}


def _current_export_items(session: Any, files: FileService, project: Project) -> list[ExportItem]:
    book = LabelBook.of(project.labels)
    rows = ItemRepository(session).all_rows(project.id)
    paths = files.local_paths([row.image_key for row in rows])
    return [
        _export_item(row.name, row.subset, path, row.annotation or {}, book, (row.height, row.width))
        for row, path in zip(rows, paths, strict=True)
    ]


def _revision_export_items(session: Any, rows: list[RevisionItem]) -> list[ExportItem]:
    names = ItemRepository(session).names([row.item_id for row in rows])
    return [
        ExportItem(
            name=names.get(row.item_id, row.item_id) + ("" if row.item_id in names else row.image_path.suffix),
            subset=row.subset,
            image=row.image_path,
            size=(row.height, row.width),
            labels=list(row.label_names) if not (row.boxes or row.polygons) else [],
            boxes=[(box.x, box.y, box.width, box.height, box.label_name) for box in row.boxes],
            polygons=[(polygon.points, polygon.label_name) for polygon in row.polygons],
        )
        for row in rows
    ]


def _export_item(
    name: str, subset: str, path: Path, stored: dict[str, Any], book: LabelBook, size: tuple[int, int]
) -> ExportItem:
    return ExportItem(
        name=name,
        subset=subset,
        image=path,
        size=size,
        labels=[book.name(label_id) for label_id in stored.get("labels", [])],
        boxes=[(b["x"], b["y"], b["width"], b["height"], book.name(b["label_id"])) for b in stored.get("boxes", [])],
        polygons=[
            ([tuple(p) for p in poly["points"]], book.name(poly["label_id"])) for poly in stored.get("polygons", [])
        ],
    )


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "dataset"


JOB_TYPES = [
    JobType(
        IMPORT_JOB,
        import_dataset,
        "Import a dataset archive (COCO, VOC, YOLO, ImageNet, Datumaro).",
        params_model=ImportParams,
        cleanup=cleanup_import,
        started_by="POST /api/v1/dataset-imports (modelyard dataset import)",
    ),
    JobType(
        EXPORT_JOB,
        export_dataset,
        "Export a dataset or a dataset revision as a zip in a format.",
        params_model=ExportParams,
        started_by="POST /api/v1/projects/{project}/dataset/exports (modelyard dataset export)",
    ),
]

__all__ = ["JOB_TYPES", "export_dataset", "import_dataset"]
