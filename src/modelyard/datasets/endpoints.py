"""HTTP for datasets: items (upload, list, images, annotations), revisions, import and export jobs."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, File, Form, Header, Query, Request, Response, UploadFile, status
from fastapi.responses import FileResponse, JSONResponse

from modelyard.api.deps import (
    Context,
    DatasetGallery,
    DatasetItems,
    DatasetRevisions,
    DatasetTransfers,
    Projects,
    Runtime,
)
from modelyard.api.problems import problem
from modelyard.auth.access import ProjectAccess
from modelyard.auth.dependencies import Access, Requires
from modelyard.context import AppContext
from modelyard.datasets.analysis import DatasetAnalysis
from modelyard.datasets.annotations import LabelBook
from modelyard.datasets.import_subsets import DEFAULT_TESTING_FRACTION
from modelyard.datasets.proposals import propose
from modelyard.datasets.repository import ItemSort
from modelyard.datasets.schemas import (
    AnnotationIn,
    AnnotationRead,
    DatasetCounts,
    DatasetFormat,
    ExportRequest,
    ItemFilter,
    ItemNeighbours,
    ItemPages,
    ItemProposal,
    ItemRead,
    ItemsBulk,
    ItemsBulkResult,
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
from modelyard.errors import InvalidInput, PayloadTooLarge
from modelyard.jobs.schemas import JobRead
from modelyard.kit.bounds import UtcDatetime, fits_int64
from modelyard.kit.page import Page
from modelyard.kit.pagination import Order, invalid_cursor, split_page
from modelyard.pipelines.runtime import PipelineRuntime
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


def item_filter(
    annotated: bool | None = None,
    label: Annotated[str | None, Query(description="Label id or name used by the annotation.")] = None,
    subset: Subset | None = None,
    user_reviewed: bool | None = None,
    uploaded_after: Annotated[UtcDatetime | None, Query(description="Uploaded at or after this time.")] = None,
    uploaded_before: Annotated[UtcDatetime | None, Query(description="Uploaded before this time.")] = None,
    name: Annotated[str | None, Query(max_length=512, description="Part of the file name, in any case.")] = None,
) -> ItemFilter:
    return ItemFilter(
        annotated=annotated, label=label, subset=subset, user_reviewed=user_reviewed,
        uploaded_after=uploaded_after, uploaded_before=uploaded_before, name=name,
    )  # fmt: skip


Filter = Annotated[ItemFilter, Depends(item_filter)]
SortBy = Annotated[ItemSort, Query(description="uploaded_at (default) or name; ties go by id.")]


@router.get(ITEMS, response_model=Page[ItemRead], dependencies=[Requires.read])
def list_items(
    project: str,
    projects: Projects,
    datasets: DatasetItems,
    matching: Filter,
    sort: SortBy = "uploaded_at",
    order: Order = "asc",
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    cursor: str | None = None,
) -> Page[ItemRead]:
    found = projects.get(project)
    rows = datasets.page(found, matching, sort=sort, order=order, limit=limit, cursor=cursor)
    items, next_cursor = split_page(rows, limit, sort)
    book = LabelBook.of(found.labels)
    return Page[ItemRead](items=[datasets.read(item, book) for item in items], next_cursor=next_cursor)


@router.get(f"{ITEMS}:pages", response_model=ItemPages, dependencies=[Requires.read])
def item_pages(
    project: str,
    projects: Projects,
    gallery: DatasetGallery,
    matching: Filter,
    sort: SortBy = "uploaded_at",
    order: Order = "asc",
    page_size: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ItemPages:
    """The cursor of every page of the listing with these filters and sort (one request, whatever the
    number of pages), so that a scrolled view reads the pages it shows and no others."""
    return gallery.pages(projects.get(project), matching, sort=sort, order=order, page_size=page_size)


@router.get("/projects/{project}/dataset/counts", response_model=DatasetCounts, dependencies=[Requires.read])
def dataset_counts(project: str, projects: Projects, gallery: DatasetGallery, matching: Filter) -> DatasetCounts:
    """How many items match the filters (every item without one): in all, per subset, per label."""
    return gallery.counts(projects.get(project), matching)


@router.post(f"{ITEMS}:bulk", response_model=ItemsBulkResult, dependencies=[Requires.write])
def bulk_items(project: str, body: ItemsBulk, projects: Projects, gallery: DatasetGallery) -> ItemsBulkResult:
    """Assign a label (classification), delete, or move to a subset many items at once: all of them or
    none (one transaction). Moving refuses (409) items whose subset a revision froze, as for one item."""
    return gallery.bulk(projects.get(project), body)


@router.post(f"{ITEMS}:delete", response_model=ItemsDeleted, dependencies=[Requires.write])
def delete_items(project: str, body: ItemsDelete, projects: Projects, datasets: DatasetItems) -> ItemsDeleted:
    """Delete several items at once (all or none)."""
    return ItemsDeleted(deleted=datasets.delete_items(projects.get(project), body.ids))


@router.get(ITEMS + "/{item}", response_model=ItemRead, dependencies=[Requires.read])
def get_item(project: str, item: str, response: Response, projects: Projects, datasets: DatasetItems) -> ItemRead:
    """An item; its ETag is its annotation version (`"3"`), for the If-Match of a save."""
    found = projects.get(project)
    return _with_etag(response, datasets.read(datasets.get(found, item), LabelBook.of(found.labels)))


@router.get(ITEMS + "/{item}/neighbours", response_model=ItemNeighbours, dependencies=[Requires.read])
def item_neighbours(
    project: str, item: str, projects: Projects, datasets: DatasetItems, matching: Filter
) -> ItemNeighbours:
    """The items before and after this one in upload order, among those the filter keeps (as the list's)."""
    found = projects.get(project)
    return datasets.neighbours(found, datasets.get(found, item), matching)


@router.post(ITEMS + "/{item}:propose", response_model=ItemProposal, dependencies=[Requires.write])
async def propose_annotation(project: str, item: str, context: Context, runtime: Runtime, access: Access) -> Response:
    """The project's enabled pipeline run on the item: its predictions as an annotation to accept, edit or reject
    (409 `pipeline_disabled` while no model is enabled). Nothing is stored."""
    body = await anyio.to_thread.run_sync(_proposal_json, context, runtime, project, item, access)
    return Response(body, media_type="application/json")


def _proposal_json(context: AppContext, runtime: PipelineRuntime, project: str, item: str,
                   access: ProjectAccess) -> bytes:  # fmt: skip
    return propose(context, runtime, project, item, access).model_dump_json().encode()


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
def get_annotation(
    project: str, item: str, response: Response, projects: Projects, datasets: DatasetItems
) -> AnnotationRead | None:
    """The item's annotation; null when it has none. Its ETag is the annotation version."""
    found = projects.get(project)
    read = _with_etag(response, datasets.read(datasets.get(found, item), LabelBook.of(found.labels)))
    return read.annotation


IfMatch = Annotated[
    str | None,
    Header(description='The annotation version the change was made from (the ETag, `"3"`): when it is no longer '
           "the stored one, the change is refused with 409 `annotation_changed`. Left out: no check."),
]  # fmt: skip


@router.put(
    ITEMS + "/{item}/annotation",
    response_model=ItemRead,
    responses={409: {"description": "If-Match named an older annotation version (`annotation_changed`)."}},
    dependencies=[Requires.write],
)
def set_annotation(
    project: str,
    item: str,
    body: AnnotationIn,
    response: Response,
    projects: Projects,
    datasets: DatasetItems,
    if_match: IfMatch = None,
) -> ItemRead:
    """Set or replace the item's annotation, checked against the task, the labels and the image size."""
    found = projects.get(project)
    updated = datasets.set_annotation(found, datasets.get(found, item), body, expected_version=_version(if_match))
    return _with_etag(response, datasets.read(updated, LabelBook.of(found.labels)))


@router.delete(ITEMS + "/{item}/annotation", response_model=ItemRead, dependencies=[Requires.write])
def delete_annotation(
    project: str, item: str, response: Response, projects: Projects, datasets: DatasetItems, if_match: IfMatch = None
) -> ItemRead:
    found = projects.get(project)
    updated = datasets.delete_annotation(datasets.get(found, item), expected_version=_version(if_match))
    return _with_etag(response, datasets.read(updated, LabelBook.of(found.labels)))


def _with_etag(response: Response, item: ItemRead) -> ItemRead:
    response.headers["ETag"] = f'"{item.annotation_version}"'
    return item


def _version(if_match: str | None) -> int | None:
    """The version an If-Match names: `"3"`, `W/"3"` or `3`; `*` (or no header) names none."""
    if if_match is None or if_match.strip() == "*":
        return None
    text = if_match.strip().removeprefix("W/").strip('"')
    if not (text.isascii() and text.isdigit()) or not fits_int64(int(text)):
        raise InvalidInput(f'If-Match {if_match!r} is not an annotation version: send the item\'s ETag, e.g. "3"')
    return int(text)


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
