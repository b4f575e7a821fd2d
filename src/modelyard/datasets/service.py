"""Dataset items and their annotations: the rules. Flushes only; the request or job commits."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy.orm import Session

from modelyard.config import Settings
from modelyard.datasets.annotations import LabelBook, check_annotation, render_annotation
from modelyard.datasets.archives import ArchiveLimits, extract_zip, is_zip
from modelyard.datasets.images import CheckedImage, ThumbnailedImage, UnreadableImage, check_image, make_thumbnail
from modelyard.datasets.models import DatasetItem
from modelyard.datasets.repository import ItemCriteria, ItemRepository, ItemSort, RevisionRepository
from modelyard.datasets.schemas import (
    AnnotationIn,
    DuplicateFile,
    ItemFilter,
    ItemNeighbours,
    ItemRead,
    ItemUpdate,
    RejectedFile,
    UploadResult,
)
from modelyard.db.base import new_id, utcnow
from modelyard.errors import Conflict, InvalidInput, NotFound
from modelyard.kit.pagination import Order
from modelyard.projects.models import Project
from modelyard.storage.service import FileService
from modelyard.tasks import TaskType

log = structlog.get_logger("modelyard.datasets")
IGNORED_ARCHIVE_NAMES = ("__MACOSX/", ".DS_Store", "Thumbs.db")


def dataset_folder(project_id: str) -> str:
    return f"projects/{project_id}/dataset"


def archive_limits(settings: Settings) -> ArchiveLimits:
    return ArchiveLimits(settings.max_archive_bytes, settings.max_archive_ratio, settings.max_archive_members)


def _as_utc(moment: datetime | None) -> datetime | None:
    """A time without a zone is taken as UTC."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def criteria_of(project: Project, matching: ItemFilter) -> ItemCriteria:
    """The filter as the repository takes it, the label resolved (an unknown one is a 400)."""
    return ItemCriteria(
        annotated=matching.annotated,
        label_id=LabelBook.of(project.labels).resolve(matching.label) if matching.label else None,
        subset=matching.subset,
        user_reviewed=matching.user_reviewed,
        uploaded_after=_as_utc(matching.uploaded_after),
        uploaded_before=_as_utc(matching.uploaded_before),
        name=matching.name or None,
    )


@dataclass(frozen=True)
class IncomingFile:
    name: str
    path: Path


@dataclass(frozen=True)
class NewItem:
    """A checked image (with its thumbnail made) and its checked annotation, ready to be stored."""

    name: str
    subset: str
    image: ThumbnailedImage
    annotation: dict[str, Any] | None
    shapes_per_label: dict[str, int] | None
    id: str = field(default_factory=new_id)


class DatasetService:
    def __init__(self, session: Session, files: FileService, settings: Settings, actor: str) -> None:
        self.session = session
        self.files = files
        self.settings = settings
        self.actor = actor
        self.items = ItemRepository(session)
        self.revisions = RevisionRepository(session)

    # -- upload ------------------------------------------------------------------------------
    def upload(self, project: Project, incoming: Sequence[IncomingFile], *, atomic: bool) -> UploadResult:
        """Check every file (zips are unpacked safely first), then store the good ones.

        `atomic=True`: any rejected file fails the upload and nothing is stored. `atomic=False`:
        good files are stored and the rejected ones reported. Bytes the project already has (or
        that come twice) are reported as duplicates and not stored again.
        """
        scratch = Path(tempfile.mkdtemp(prefix="dataset-upload-", dir=self.files.store.tmp))
        try:
            candidates = self._unpack(incoming, scratch)
            if not candidates:
                raise InvalidInput("the upload holds no files: send one or more images, or a zip of images")
            checked, rejected = [], []
            for candidate in candidates:
                try:
                    checked.append((candidate.name, self.check(candidate.path)))
                except UnreadableImage as reason:
                    rejected.append(RejectedFile(name=candidate.name, reason=str(reason)))
            if atomic and rejected:
                raise InvalidInput(
                    "upload refused, nothing was stored: " + "; ".join(f"{r.name}: {r.reason}" for r in rejected),
                    code="images_rejected",
                    rejected=[r.model_dump() for r in rejected],
                )
            result = UploadResult(rejected=rejected)
            known = self.items.by_sha256(project.id, [image.sha256 for _, image in checked])
            book = LabelBook.of(project.labels)
            for name, image in checked:
                if image.sha256 in known:
                    result.duplicates.append(DuplicateFile(name=name, item_id=known[image.sha256]))
                    continue
                item = self.add_image(project, name, image)
                known[image.sha256] = item.id
                result.created.append(self.read(item, book))
            log.info(
                "datasets.upload",
                project=project.id,
                created=len(result.created),
                duplicates=len(result.duplicates),
                rejected=len(result.rejected),
            )
            return result
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def _unpack(self, incoming: Sequence[IncomingFile], scratch: Path) -> list[IncomingFile]:
        candidates: list[IncomingFile] = []
        for index, file in enumerate(incoming):
            if not is_zip(file.path):
                candidates.append(file)
                continue
            folder = scratch / f"zip-{index}"
            for path in extract_zip(file.path, folder, archive_limits(self.settings), name=file.name):
                member = path.relative_to(folder.resolve()).as_posix()
                if member.startswith(IGNORED_ARCHIVE_NAMES) or path.name.startswith("."):
                    continue
                candidates.append(IncomingFile(f"{file.name}/{member}", path))
        return candidates

    def check(self, path: Path) -> CheckedImage:
        return check_image(path, max_bytes=self.settings.max_image_bytes, max_pixels=self.settings.max_image_pixels)

    def add_image(
        self,
        project: Project,
        name: str,
        image: CheckedImage,
        *,
        annotation: dict | None = None,
        shapes_per_label: dict[str, int] | None = None,
        subset: str = "unassigned",
    ) -> DatasetItem:
        """Store a checked image (moving its file) as a new item, with its thumbnail."""
        item_id = new_id()
        image_key = f"{dataset_folder(project.id)}/{item_id}.{image.extension}"
        thumbnail_key = f"{dataset_folder(project.id)}/{item_id}.thumb.jpg"
        thumbnail = make_thumbnail(image.path, self.settings.thumbnail_size)
        self.files.save(image_key, image.path, actor=self.actor, move=True)
        self.files.save(thumbnail_key, [thumbnail], actor=self.actor, media_type="image/jpeg")
        item = self.items.add(
            DatasetItem(
                id=item_id,
                project_id=project.id,
                name=name[-512:],
                image_key=image_key,
                thumbnail_key=thumbnail_key,
                sha256=image.sha256,
                size=image.size,
                width=image.width,
                height=image.height,
                format=image.format,
                subset=subset,
                annotation=annotation,
                annotated=annotation is not None,
                uploaded_by=self.actor,
            )
        )
        if shapes_per_label:
            self.items.set_labels(item.id, shapes_per_label)
        return item

    def add_many(self, project: Project, new_items: Sequence[NewItem]) -> None:
        """Store checked images (moving their files and thumbnails) as new items, in bulk."""
        folder = dataset_folder(project.id)
        files: list[tuple[str, Path, str]] = []
        rows, labels = [], []
        for new in new_items:
            item_id = new.id
            image, thumbnail_key = new.image.image, f"{folder}/{item_id}.thumb.jpg"
            image_key = f"{folder}/{item_id}.{image.extension}"
            files += [
                (image_key, image.path, image.sha256),
                (thumbnail_key, new.image.thumbnail, new.image.thumbnail_sha256),
            ]
            now = utcnow()  # one per item: listings by upload time keep the order they came in
            rows.append({
                "id": item_id, "project_id": project.id, "name": new.name[-512:], "image_key": image_key,
                "thumbnail_key": thumbnail_key, "sha256": image.sha256, "size": image.size, "width": image.width,
                "height": image.height, "format": image.format, "subset": new.subset, "in_revision": False,
                "annotation": new.annotation, "annotated": new.annotation is not None, "user_reviewed": False,
                "uploaded_at": now, "uploaded_by": self.actor, "updated_at": now,
            })  # fmt: skip
            labels += [
                {"item_id": item_id, "label_id": label_id, "shapes": count}
                for label_id, count in (new.shapes_per_label or {}).items()
            ]
        self.files.save_new_files(files, actor=self.actor)
        self.items.add_many(rows, labels)

    # -- items -------------------------------------------------------------------------------
    def get(self, project: Project, item_id: str) -> DatasetItem:
        """An item of the project by its id or a unique prefix of it (6 characters or more)."""
        item = self.items.get(project.id, item_id) or self.items.by_id_prefix(project.id, item_id)
        if item is None:
            raise NotFound(
                f"project {project.name!r} has no dataset item {item_id!r}: list them with `modelyard dataset items`"
            )
        return item

    def page(
        self, project: Project, matching: ItemFilter, *, sort: ItemSort, order: Order, limit: int, cursor: str | None
    ) -> list[DatasetItem]:
        return list(
            self.items.page(
                project.id, criteria_of(project, matching), sort=sort, order=order, limit=limit, cursor=cursor
            )
        )

    def neighbours(self, project: Project, item: DatasetItem, matching: ItemFilter) -> ItemNeighbours:
        """The items before and after `item` among those the filter keeps, in upload order, and its place there."""
        previous, following, before, total, matches = self.items.neighbours(item, criteria_of(project, matching))
        return ItemNeighbours(previous=previous, next=following, position=before + 1 if matches else None, total=total)

    def read(self, item: DatasetItem, book: LabelBook) -> ItemRead:
        return ItemRead(
            id=item.id,
            project_id=item.project_id,
            name=item.name,
            sha256=item.sha256,
            size=item.size,
            width=item.width,
            height=item.height,
            format=item.format,
            subset=item.subset,
            in_revision=item.in_revision,
            annotated=item.annotated,
            annotation=render_annotation(item.annotation, book),
            annotation_version=item.annotation_version,
            user_reviewed=item.user_reviewed,
            uploaded_at=item.uploaded_at,
            uploaded_by=item.uploaded_by,
            updated_at=item.updated_at,
        )

    def update(self, project: Project, item: DatasetItem, request: ItemUpdate) -> DatasetItem:
        if request.user_reviewed is not None:
            item.user_reviewed = request.user_reviewed
        if request.subset is not None and request.subset != item.subset:
            if item.in_revision:
                raise Conflict(
                    f"item {item.id} is in subset {item.subset!r} since a dataset revision included it; "
                    "subsets never change after that, so nothing leaks from training into testing"
                )
            item.subset = request.subset
        item.updated_at = utcnow()
        self.session.flush()
        return item

    def delete_items(self, project: Project, item_ids: Sequence[str]) -> int:
        """Delete items; an image stays on disk while a dataset revision still references it."""
        found = {item.id: item for item in self.items.many(project.id, item_ids)}
        missing = set()
        for reference in set(item_ids) - found.keys():  # not full ids: perhaps prefixes
            item = self.items.by_id_prefix(project.id, reference)
            if item is None:
                missing.add(reference)
            else:
                found[item.id] = item
        items = list(found.values())
        if missing:
            raise NotFound(f"project {project.name!r} has no dataset item(s) {', '.join(sorted(missing))}")
        kept = self.revisions.keys_kept_by_revisions([item.image_key for item in items])
        for item in items:
            if item.thumbnail_key:
                self.files.delete(item.thumbnail_key)
            if item.image_key not in kept:
                self.files.delete(item.image_key)
            self.items.delete(item)
        log.info("datasets.items.deleted", project=project.id, count=len(items), images_kept=len(kept))
        return len(items)

    def image_file(self, item: DatasetItem, *, thumbnail: bool = False) -> Path:
        key = item.thumbnail_key if thumbnail and item.thumbnail_key else item.image_key
        return self.files.local_path(self.files.get(key))

    # -- annotations -------------------------------------------------------------------------
    def set_annotation(
        self, project: Project, item: DatasetItem, request: AnnotationIn, *, expected_version: int | None = None
    ) -> DatasetItem:
        """Replace the item's annotation; with `expected_version`, only while the stored one is still that
        version (else 409 `annotation_changed`, naming the version stored now)."""
        checked = check_annotation(
            TaskType(project.task_type), LabelBook.of(project.labels), request, item.width, item.height
        )
        self._advance_version(item, expected_version)
        item.annotation = checked.stored
        item.annotated = True
        if request.user_reviewed is not None:
            item.user_reviewed = request.user_reviewed
        item.updated_at = utcnow()
        self.items.set_labels(item.id, checked.shapes_per_label)
        self.session.flush()
        return item

    def fill_annotation(
        self, item: DatasetItem, stored: dict[str, Any], shapes_per_label: dict[str, int], *, subset: str
    ) -> None:
        """Give an unannotated item an annotation checked elsewhere (an import's duplicate of it), and its
        subset too while the item has none and no revision has frozen it."""
        self._advance_version(item, None)
        item.annotation, item.annotated = stored, True
        if item.subset == "unassigned" and not item.in_revision:
            item.subset = subset
        item.updated_at = utcnow()
        self.items.set_labels(item.id, shapes_per_label)
        self.session.flush()

    def delete_annotation(self, item: DatasetItem, *, expected_version: int | None = None) -> DatasetItem:
        self._advance_version(item, expected_version)
        item.annotation = None
        item.annotated = False
        item.updated_at = utcnow()
        self.items.set_labels(item.id, {})
        self.session.flush()
        return item

    def _advance_version(self, item: DatasetItem, expected: int | None) -> None:
        if self.items.advance_annotation_version(item, expected):
            return
        current = self.items.current_annotation_version(item.id)
        raise AnnotationChanged(
            f"the annotation of item {item.name!r} changed since version {expected} (it is version {current} now): "
            "someone else saved it meanwhile; reload the item and apply your change again",
            current_version=current,
        )


class AnnotationChanged(Conflict):
    """A save named an annotation version that is no longer the stored one."""

    code = "annotation_changed"
