"""Built-in storage jobs: check every stored file against its record, and reclaim orphaned bytes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from modelyard.db.engine import transaction
from modelyard.errors import IntegrityError
from modelyard.jobs.context import JobContext
from modelyard.jobs.registry import JobType
from modelyard.storage.repository import StoredFileRepository
from modelyard.storage.service import FileService

VERIFY_BATCH = 500
VERIFY_JOB = "storage.verify"
GC_JOB = "storage.gc"


class StorageJobParams(BaseModel):
    """Params of `storage.verify` and `storage.gc`: none; anything given is refused rather than ignored."""

    model_config = ConfigDict(extra="forbid")


def verify_files(context: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Re-hash every stored file; list those missing or changed on disk."""
    with transaction(context.db.read_sessions) as session:
        total = StoredFileRepository(session).count()
    checked, damaged = 0, []
    last_key = ""
    while True:
        with transaction(context.db.read_sessions) as session:
            batch = StoredFileRepository(session).fingerprints_after(last_key, VERIFY_BATCH)
        if not batch:
            break
        for key, sha256, size in batch:
            try:
                context.store.verify(key, sha256, size)
            except IntegrityError as error:
                damaged.append({"key": key, "problem": error.message})
                context.log.error("damaged: %s", error.message)
            checked += 1
        last_key = batch[-1][0]
        context.progress(100.0 * checked / max(total, 1), "verifying files", f"{checked}/{total} checked")
    return {"checked": checked, "damaged": damaged}


def collect_garbage(context: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Remove stored bytes that no file record refers to (left by a crash between write and commit)."""
    with transaction(context.db.sessions) as session:
        removed = FileService(session, context.store).collect_garbage()
    context.log.info("removed %d unreferenced contents", removed)
    return {"removed_contents": removed}


JOB_TYPES = [
    JobType(VERIFY_JOB, verify_files, "Check every stored file's sha256 and size against its record.",
            StorageJobParams),
    JobType(GC_JOB, collect_garbage, "Remove stored bytes that no record refers to.", StorageJobParams),
]
