"""HTTP for stored files: browse by folder, download with the integrity check done as the bytes stream."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from modelyard.api.deps import Context, Files, VisibleFiles
from modelyard.api.transfers import stored_body
from modelyard.auth.dependencies import Requires
from modelyard.kit.page import Page
from modelyard.kit.pagination import split_page
from modelyard.storage.schemas import StorageUsage, StoredFileRead

router = APIRouter(prefix="/files", tags=["files"])


@router.get(":usage", response_model=StorageUsage, dependencies=[Requires.admin])
def storage_usage(files: Files) -> StorageUsage:
    """What the stored files take, by top folder and by project, and the disk's free space (admin: it names
    every project)."""
    return files.usage()


@router.get("", response_model=Page[StoredFileRead], dependencies=[Requires.read])
def list_files(
    files: Files,
    visible: VisibleFiles,
    prefix: Annotated[str, Query(description="Folder-like key prefix, e.g. 'projects/<id>/'.")] = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: str | None = None,
) -> Page[StoredFileRead]:
    rows = files.page(prefix, limit=limit, cursor=cursor, where=visible.visible())
    items, next_cursor = split_page(rows, limit, "key")
    return Page[StoredFileRead](items=[StoredFileRead.model_validate(row) for row in items], next_cursor=next_cursor)


RedirectAllowed = Annotated[
    bool,
    Query(
        description="Answer a large file (MODELYARD_REDIRECT_MIN_BYTES) on an object store with a 307 redirect to a "
        "presigned URL of the store; the client checks the bytes against the `x-content-sha256` header.",
    ),
]


@router.get("/{key:path}", dependencies=[Requires.read])
def download_file(
    key: str, files: Files, visible: VisibleFiles, context: Context, redirect: RedirectAllowed = False
) -> Response:
    """The file's bytes; refused with `integrity_error` if they no longer match the recorded sha256."""
    visible.ensure_visible(key)
    record = files.get(key)
    headers = {
        "etag": f'"{record.sha256}"',
        "x-content-sha256": record.sha256,
        "content-disposition": f'attachment; filename="{key.rsplit("/", 1)[-1]}"',
    }
    if redirect and record.size >= context.settings.redirect_min_bytes:
        url = files.download_url(record, file_name=key.rsplit("/", 1)[-1])
        if url is not None:
            return RedirectResponse(url, status_code=status.HTTP_307_TEMPORARY_REDIRECT, headers=headers)
    # Hashed as it streams: altered bytes end the transfer before its last chunk (a small file: before any byte).
    body = stored_body(files.open(record))
    headers["content-length"] = str(record.size)
    return StreamingResponse(body, media_type=record.media_type, headers=headers)
