"""Dataset import and export jobs, through Datumaro."""

from __future__ import annotations

import re
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from modelyard.datasets.annotations import LabelBook, check_annotation
from modelyard.datasets.archives import extract_zip
from modelyard.datasets.image_pool import MISSING, ImagePool
from modelyard.datasets.image_pool import results as image_results
from modelyard.datasets.images import ThumbnailedImage
from modelyard.datasets.interchange import (
    ExportItem,
    SourceDataset,
    SourceItem,
    read_dataset,
    write_dataset,
)
from modelyard.datasets.parquet import read_revision
from modelyard.datasets.repository import ItemRepository
from modelyard.datasets.revisions import DatasetRevisionService
from modelyard.datasets.schemas import AnnotationIn, BoxIn, ExportParams, ImportParams, PolygonIn
from modelyard.datasets.service import DatasetService, NewItem, archive_limits
from modelyard.datasets.transfer import EXPORT_JOB, IMPORT_JOB
from modelyard.db.engine import transaction
from modelyard.errors import InvalidInput
from modelyard.jobs.context import CleanupContext, JobContext
from modelyard.jobs.registry import JobType
from modelyard.projects.models import Project
from modelyard.projects.repository import ProjectRepository
from modelyard.projects.schemas import LabelCreate, ProjectCreate
from modelyard.projects.service import ProjectService
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
    pool = ImagePool(context.work_dir / "thumbnails", max_bytes=settings.max_image_bytes,
                     max_pixels=settings.max_image_pixels, longest_side=settings.thumbnail_size, images=source.size)
    with pool:
        pending: deque[tuple[list[SourceItem], list[Any]]] = deque()
        for batch in _batches(source.items, BATCH):
            pending.append((batch, pool.check([item.image for item in batch])))
            if len(pending) > LOOKAHEAD:
                _store_batch(context, project_id, *pending.popleft(), tally)
                context.progress(5 + 90 * tally.done / max(source.size, 1), "importing",
                                 f"{tally.done}/{source.size} items read")
        while pending:
            _store_batch(context, project_id, *pending.popleft(), tally)
    _delete_archive(context.db, context.store, request.archive_key)
    for entry in tally.skipped[:50]:
        context.log.warning("skipped %s: %s", entry["item"], entry["reason"])
    return {
        "project_id": project_id,
        "imported": tally.imported,
        "skipped_count": len(tally.skipped),
        "skipped": tally.skipped[:MAX_REPORTED_SKIPS],
        "labels_created": created_labels,
        "subsets": dict(tally.subsets),
        "ignored_shapes": dict(tally.ignored_shapes),
    }


@dataclass
class _Tally:
    done: int = 0
    imported: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)
    subsets: Counter[str] = field(default_factory=Counter)
    ignored_shapes: Counter[str] = field(default_factory=Counter)


def _batches(items: Iterator[SourceItem], size: int) -> Iterator[list[SourceItem]]:
    while batch := list(islice(items, size)):
        yield batch


def _store_batch(
    context: JobContext, project_id: str, batch: list[SourceItem], checks: list[Any], tally: _Tally
) -> None:
    """Add one batch's items in one transaction: duplicates and bad annotations are skipped."""
    checked = image_results(checks)
    with transaction(context.db.sessions) as session:
        service = DatasetService(session, FileService(session, context.store), context.settings, context.actor)
        project = ProjectRepository(session).get(project_id)
        assert project is not None
        task, book = TaskType(project.task_type), LabelBook.of(project.labels)
        known = service.items.by_sha256(project.id, [r.image.sha256 for r in checked if not isinstance(r, str)])
        accepted: list[NewItem] = []
        for item, result in zip(batch, checked, strict=True):
            try:
                accepted.append(_new_item(item, result, known, task, book, tally.ignored_shapes))
            except Skip as reason:
                tally.skipped.append({"item": item.name, "reason": str(reason)})
                continue
            known[accepted[-1].image.image.sha256] = accepted[-1].id
        service.add_many(project, accepted)
    tally.done += len(batch)
    tally.imported += len(accepted)
    tally.subsets.update(new.subset for new in accepted)


def _new_item(
    item: SourceItem,
    result: ThumbnailedImage | str,
    known: dict[str, str],
    task: TaskType,
    book: LabelBook,
    ignored_shapes: Counter[str],
) -> NewItem:
    if result == MISSING:
        raise Skip(MISSING)
    if isinstance(result, str):
        raise Skip(f"unreadable image: {result}")
    duplicate = known.get(result.image.sha256)
    if duplicate:
        raise Skip(f"duplicate of item {duplicate} (same bytes)")
    annotation = _annotation_of(item, task, ignored_shapes)
    stored, shapes = None, None
    if annotation is not None:
        try:
            checked = check_annotation(task, book, annotation, result.image.width, result.image.height)
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
                ProjectCreate(name=request.new_project.name, task_type=request.new_project.task_type,
                              labels=list(source.labels))
            )
            return project.id, list(source.labels)
        project = projects.get(request.project_id or "")
        existing = {label.name for label in project.labels}
        missing = [name for name in source.labels if name not in existing]
        if request.unknown_labels == "create":
            for name in missing:
                projects.add_label(project, LabelCreate(name=name))
            return project.id, missing
        return project.id, []


def _annotation_of(item: SourceItem, task: TaskType, ignored: Counter[str]) -> AnnotationIn | None:
    """The item's annotation for the task, or None when the source has none for it."""
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
            ignored[shape.kind] += 1
    if wanted == "label":
        if not shapes:
            return None
        if task == TaskType.MULTICLASS_CLASSIFICATION and len(shapes) > 1:
            raise Skip(f"{len(shapes)} labels on an item of a multiclass project, which takes exactly one")
        return AnnotationIn(labels=[shape.label for shape in shapes])
    if wanted == "box":
        return AnnotationIn(
            boxes=[BoxIn(x=s.values[0], y=s.values[1], width=s.values[2], height=s.values[3], label=s.label)
                   for s in shapes]
        )
    return AnnotationIn(
        polygons=[
            PolygonIn(points=list(zip(s.values[0::2], s.values[1::2], strict=True)), label=s.label)
            for s in shapes
        ]
    )


def _delete_archive(db: Any, store: Any, key: str) -> None:
    with transaction(db.sessions) as session:
        files = FileService(session, store)
        if files.files.get(key) is not None:
            files.delete(key)


def cleanup_import(context: CleanupContext) -> None:
    key = context.params.get("archive_key")
    if key:
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
            items = _revision_export_items(session, revisions.parquet_path(revision))
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


def _revision_export_items(session: Any, parquet: Path) -> list[ExportItem]:
    rows = read_revision(parquet)
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
    JobType(IMPORT_JOB, import_dataset, "Import a dataset archive (COCO, VOC, YOLO, ImageNet, Datumaro).",
            params_model=ImportParams, cleanup=cleanup_import),
    JobType(EXPORT_JOB, export_dataset, "Export a dataset or a dataset revision as a zip in a format.",
            params_model=ExportParams),
]

__all__ = ["JOB_TYPES", "export_dataset", "import_dataset"]
