"""HTTP for datasets: items (upload, list, images, annotations), revisions, import and export jobs."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile, status
from fastapi.responses import FileResponse, JSONResponse

from modelyard.api.deps import Context, DatasetItems, DatasetRevisions, DatasetTransfers, Projects
from modelyard.api.problems import problem
from modelyard.auth.dependencies import Requires
from modelyard.datasets.analysis import DatasetAnalysis
from modelyard.datasets.annotations import LabelBook
from modelyard.datasets.import_subsets import DEFAULT_TESTING_FRACTION
from modelyard.datasets.schemas import (
    AnnotationIn,
    AnnotationRead,
    DatasetFormat,
    ExportRequest,
    ItemRead,
    ItemsDelete,
    ItemsDeleted,
    ItemUpdate,
    RevisionCreate,
    RevisionItemRead,
    RevisionRead,
    Subset,
    UploadResult,
)
from modelyard.datasets.service import IncomingFile
from modelyard.errors import PayloadTooLarge
from modelyard.jobs.schemas import JobRead
from modelyard.kit.bounds import UtcDatetime, fits_int64
from modelyard.kit.page import Page
from modelyard.kit.pagination import Order, invalid_cursor, split_page
from modelyard.tasks import TaskType

router = APIRouter(tags=["datasets"])


ITEMS = "/projects/{project}/dataset/items"
REVISIONS = "/projects/{project}/dataset/revisions"


@contextmanager
def _received(uploads: list[UploadFile], context: Context) -> Iterator[list[IncomingFile]]:
    """The request's files as local files next to the store (so storing them is a rename)."""
    scratch = Path(tempfile.mkdtemp(prefix="received-", dir=context.store.tmp))
    try:
        incoming, total = [], 0
        for index, upload in enumerate(uploads):
            path = scratch / str(index)
            with path.open("wb") as out:
                while chunk := upload.file.read(1024 * 1024):
                    total += len(chunk)
                    if total > context.settings.max_upload_bytes:
                        raise PayloadTooLarge(
                            f"the upload is over {context.settings.max_upload_bytes} bytes "
                            "(setting MODELYARD_MAX_UPLOAD_BYTES): send it in several parts"
                        )
                    out.write(chunk)
            # A name like "." or "/" has no last part: never fall back on the scratch file's own name.
            incoming.append(IncomingFile(Path(upload.filename or "").name or f"file-{index}", path))
        yield incoming
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


# -- items -------------------------------------------------------------------------------------
@router.post(
    ITEMS,
    status_code=status.HTTP_201_CREATED,
    response_model=UploadResult,
    responses={400: {"description": "Some files were rejected (problem document with created/duplicates/rejected)."}},
    dependencies=[Requires.write],
)
def upload_items(
    project: str,
    request: Request,
    context: Context,
    projects: Projects,
    datasets: DatasetItems,
    files: Annotated[list[UploadFile], File(description="Images (JPEG, PNG, BMP, TIFF, WebP) and/or zips of them.")],
    atomic: Annotated[
        bool, Query(description="true: any rejected file fails the whole upload and nothing is stored.")
    ] = False,
) -> UploadResult | JSONResponse:
    """Upload images. Each file is decoded to check it. With `atomic=false` (default) the good files
    are stored even when others are rejected: the answer is then 400 `images_rejected`, naming each
    rejected file and why, and listing what was stored. Duplicate bytes are reported, not stored."""
    found = projects.get(project)
    with _received(files, context) as incoming:
        result = datasets.upload(found, incoming, atomic=atomic)
    if result.rejected:
        detail = "; ".join(f"{r.name}: {r.reason}" for r in result.rejected)
        return problem(
            request,
            400,
            "images_rejected",
            "Some files were rejected",
            f"{len(result.rejected)} file(s) rejected, {len(result.created)} stored: {detail}",
            **result.model_dump(mode="json"),
        )
    return result


@router.get(ITEMS, response_model=Page[ItemRead], dependencies=[Requires.read])
def list_items(
    project: str,
    projects: Projects,
    datasets: DatasetItems,
    annotated: bool | None = None,
    label: Annotated[str | None, Query(description="Label id or name used by the annotation.")] = None,
    subset: Subset | None = None,
    user_reviewed: bool | None = None,
    uploaded_after: UtcDatetime | None = None,
    uploaded_before: UtcDatetime | None = None,
    order: Order = "asc",
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    cursor: str | None = None,
) -> Page[ItemRead]:
    found = projects.get(project)
    rows = datasets.page(
        found, annotated=annotated, label=label, subset=subset, user_reviewed=user_reviewed,
        uploaded_after=uploaded_after, uploaded_before=uploaded_before, order=order, limit=limit, cursor=cursor,
    )  # fmt: skip
    items, next_cursor = split_page(rows, limit, "uploaded_at")
    book = LabelBook.of(found.labels)
    return Page[ItemRead](items=[datasets.read(item, book) for item in items], next_cursor=next_cursor)


@router.post(f"{ITEMS}:delete", response_model=ItemsDeleted, dependencies=[Requires.write])
def delete_items(project: str, body: ItemsDelete, projects: Projects, datasets: DatasetItems) -> ItemsDeleted:
    """Delete several items at once (all or none)."""
    return ItemsDeleted(deleted=datasets.delete_items(projects.get(project), body.ids))


@router.get(ITEMS + "/{item}", response_model=ItemRead, dependencies=[Requires.read])
def get_item(project: str, item: str, projects: Projects, datasets: DatasetItems) -> ItemRead:
    found = projects.get(project)
    return datasets.read(datasets.get(found, item), LabelBook.of(found.labels))


@router.patch(ITEMS + "/{item}", response_model=ItemRead, dependencies=[Requires.write])
def update_item(project: str, item: str, body: ItemUpdate, projects: Projects, datasets: DatasetItems) -> ItemRead:
    """Set `user_reviewed`, or the subset by hand (only before the item's first revision: else 409)."""
    found = projects.get(project)
    updated = datasets.update(found, datasets.get(found, item), body)
    return datasets.read(updated, LabelBook.of(found.labels))


@router.delete(ITEMS + "/{item}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[Requires.write])
def delete_item(project: str, item: str, projects: Projects, datasets: DatasetItems) -> Response:
    datasets.delete_items(projects.get(project), [item])
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(ITEMS + "/{item}/image", response_class=FileResponse, dependencies=[Requires.read])
def get_image(project: str, item: str, projects: Projects, datasets: DatasetItems) -> FileResponse:
    found = datasets.get(projects.get(project), item)
    return FileResponse(datasets.image_file(found), filename=found.name)


@router.get(ITEMS + "/{item}/thumbnail", response_class=FileResponse, dependencies=[Requires.read])
def get_thumbnail(project: str, item: str, projects: Projects, datasets: DatasetItems) -> FileResponse:
    found = datasets.get(projects.get(project), item)
    return FileResponse(datasets.image_file(found, thumbnail=True), media_type="image/jpeg")


@router.get(ITEMS + "/{item}/annotation", response_model=AnnotationRead | None, dependencies=[Requires.read])
def get_annotation(project: str, item: str, projects: Projects, datasets: DatasetItems) -> AnnotationRead | None:
    """The item's annotation; null when it has none."""
    found = projects.get(project)
    return datasets.read(datasets.get(found, item), LabelBook.of(found.labels)).annotation


@router.put(ITEMS + "/{item}/annotation", response_model=ItemRead, dependencies=[Requires.write])
def set_annotation(project: str, item: str, body: AnnotationIn, projects: Projects, datasets: DatasetItems) -> ItemRead:
    """Set or replace the item's annotation, checked against the task, the labels and the image size."""
    found = projects.get(project)
    updated = datasets.set_annotation(found, datasets.get(found, item), body)
    return datasets.read(updated, LabelBook.of(found.labels))


@router.delete(ITEMS + "/{item}/annotation", response_model=ItemRead, dependencies=[Requires.write])
def delete_annotation(project: str, item: str, projects: Projects, datasets: DatasetItems) -> ItemRead:
    found = projects.get(project)
    return datasets.read(datasets.delete_annotation(datasets.get(found, item)), LabelBook.of(found.labels))


# -- revisions ---------------------------------------------------------------------------------
def _revision_read(revision, reused: bool = False) -> RevisionRead:  # noqa: ANN001
    read = RevisionRead.model_validate(revision)
    read.reused = reused
    return read


@router.post(REVISIONS, status_code=status.HTTP_201_CREATED, response_model=RevisionRead, dependencies=[Requires.write])
def create_revision(
    project: str,
    projects: Projects,
    revisions: DatasetRevisions,
    response: Response,
    body: RevisionCreate | None = None,
) -> RevisionRead:
    """Freeze the annotated items into a new revision (201), or return the latest one when nothing
    changed since (200, `reused: true`). New items get their subset here, once and for all."""
    revision, reused = revisions.create(projects.get(project), body or RevisionCreate())
    if reused:
        response.status_code = status.HTTP_200_OK
    return _revision_read(revision, reused)


@router.get(REVISIONS, response_model=list[RevisionRead], dependencies=[Requires.read])
def list_revisions(project: str, projects: Projects, revisions: DatasetRevisions) -> list[RevisionRead]:
    """Every revision of the project, newest first."""
    return [_revision_read(revision) for revision in revisions.all(projects.get(project))]


@router.get(REVISIONS + "/{revision}", response_model=RevisionRead, dependencies=[Requires.read])
def get_revision(project: str, revision: str, projects: Projects, revisions: DatasetRevisions) -> RevisionRead:
    """A revision by id, number or `latest`."""
    return _revision_read(revisions.get(projects.get(project), revision))


@router.get(REVISIONS + "/{revision}/analysis", response_model=DatasetAnalysis, dependencies=[Requires.read])
def revision_analysis(project: str, revision: str, projects: Projects, revisions: DatasetRevisions) -> DatasetAnalysis:
    """What the revision holds in figures: image and object sizes, objects per image, label counts and
    imbalance, annotation density (computed from its data.parquet when the revision was made)."""
    found = projects.get(project)
    return revisions.analysis(found, revisions.get(found, revision))


def _row_offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    if not (cursor.isascii() and cursor.isdigit()) or not fits_int64(int(cursor)):
        raise invalid_cursor("a revision's cursor is a row offset")
    return int(cursor)


@router.get(REVISIONS + "/{revision}/items", response_model=Page[RevisionItemRead], dependencies=[Requires.read])
def browse_revision(
    project: str,
    revision: str,
    projects: Projects,
    revisions: DatasetRevisions,
    subset: Annotated[str | None, Query(pattern="^(training|validation|testing)$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page.")] = None,
) -> Page[RevisionItemRead]:
    """The items of a revision as its data.parquet has them (cursor: a row offset; the file never changes)."""
    offset = _row_offset(cursor)
    found = revisions.get(projects.get(project), revision)
    items, next_offset = revisions.browse(found, subset=subset, offset=offset, limit=limit)
    return Page[RevisionItemRead](items=items, next_cursor=str(next_offset) if next_offset is not None else None)


@router.get(REVISIONS + "/{revision}/data.parquet", response_class=FileResponse, dependencies=[Requires.read])
def download_revision(project: str, revision: str, projects: Projects, revisions: DatasetRevisions) -> FileResponse:
    found = revisions.get(projects.get(project), revision)
    return FileResponse(
        revisions.parquet_path(found), media_type="application/vnd.apache.parquet", filename="data.parquet"
    )


@router.delete(REVISIONS + "/{revision}/files", response_model=RevisionRead, dependencies=[Requires.admin])
def delete_revision_files(
    project: str,
    revision: str,
    projects: Projects,
    revisions: DatasetRevisions,
    force: Annotated[bool, Query(description="Delete even while kept model revisions need it.")] = False,
) -> RevisionRead:
    """Delete a revision's data.parquet and the images only it keeps; its record stays. Refused
    (409) while a kept model revision needs it to be retrained or re-evaluated, unless `force`."""
    found = projects.get(project)
    return _revision_read(revisions.delete_files(found, revisions.get(found, revision), force=force))


# -- import and export -------------------------------------------------------------------------
@router.post(
    "/dataset-imports", status_code=status.HTTP_202_ACCEPTED, response_model=JobRead, dependencies=[Requires.write]
)
def import_dataset(
    context: Context,
    projects: Projects,
    transfers: DatasetTransfers,
    file: Annotated[UploadFile, File(description="A zip of the dataset folder.")],
    format: Annotated[DatasetFormat, Form()],
    project: Annotated[str | None, Form(description="Import into this existing project.")] = None,
    new_project: Annotated[str | None, Form(description="Or create a project with this name...")] = None,
    task_type: Annotated[TaskType | None, Form(description="...and this task.")] = None,
    unknown_labels: Annotated[str, Form(pattern="^(create|refuse)$")] = "create",
    testing_fraction: Annotated[
        float, Form(ge=0, lt=1, description="Share of training split to testing when the source has no testing.")
    ] = DEFAULT_TESTING_FRACTION,
) -> JobRead:
    """Start a `dataset.import` job over an uploaded zip (COCO, VOC, YOLO, ImageNet, Datumaro)."""
    target = projects.get(project) if project else None
    if new_project is not None:
        projects.ensure_may_create()
    with _received([file], context) as incoming:
        job = transfers.submit_import(
            incoming[0], format, project=target, new_project=new_project, task_type=task_type,
            unknown_labels=unknown_labels, testing_fraction=testing_fraction,
        )  # fmt: skip
    return JobRead.model_validate(job)


@router.post(
    "/projects/{project}/dataset/exports",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobRead,
    dependencies=[Requires.write],
)
def export_dataset(
    project: str, body: ExportRequest, projects: Projects, revisions: DatasetRevisions, transfers: DatasetTransfers
) -> JobRead:
    """Start a `dataset.export` job: the current dataset, or a revision, as a zip in a format."""
    found = projects.get(project)
    revision = revisions.get(found, body.revision) if body.revision else None
    return JobRead.model_validate(transfers.submit_export(found, body.format, revision))


@router.get(
    "/projects/{project}/dataset/exports/{job_id}/download", response_class=FileResponse, dependencies=[Requires.read]
)
def download_export(project: str, job_id: str, projects: Projects, transfers: DatasetTransfers) -> FileResponse:
    path, name = transfers.export_file(projects.get(project), job_id)
    return FileResponse(path, media_type="application/zip", filename=name)
