"""Built-in storage jobs: check the data directory against the database, and clear what crashes left."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from modelyard.jobs.context import JobContext
from modelyard.jobs.registry import JobType
from modelyard.storage.audit import audit
from modelyard.storage.sweep import sweep

VERIFY_JOB = "storage.verify"
GC_JOB = "storage.gc"


class VerifyParams(BaseModel):
    """Params of `storage.verify`; anything else given is refused rather than ignored."""

    model_config = ConfigDict(extra="forbid")

    quick: bool = Field(
        default=False,
        description="Check sizes, presence and hard links only; hash only files that are not a link to their blob.",
    )
    report_limit: int = Field(default=100, ge=1, le=10_000, description="Problems listed in the result.")


class GcParams(BaseModel):
    """Params of `storage.gc`; anything else given is refused rather than ignored."""

    model_config = ConfigDict(extra="forbid")

    grace_seconds: float | None = Field(
        default=None, ge=0,
        description="Leave files and temp folders changed more recently than this; empty: the setting "
                    "MODELYARD_STORAGE_GRACE_SECONDS.",
    )  # fmt: skip


def verify_files(context: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Every record against its bytes and blob, every file and blob against the records; problems listed."""
    request = VerifyParams.model_validate(params)

    def progress(checked: int, total: int) -> None:
        context.progress(90.0 * checked / max(total, 1), "verifying files", f"{checked}/{total} checked")

    report = audit(context.db, context.store, rehash=not request.quick, limit=request.report_limit, progress=progress)
    for problem in report.problems:
        context.log.error("%s: %s", problem["kind"], problem["problem"])
    return report.as_dict()


def collect_garbage(context: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Remove temp folders of writers that are gone, and files and blobs that no record refers to."""
    request = GcParams.model_validate(params)
    grace = context.settings.storage_grace_seconds if request.grace_seconds is None else request.grace_seconds
    report = sweep(context.db, context.store, grace_seconds=grace)
    context.log.info("storage sweep: %s", report.as_dict())
    return {**report.as_dict(), "removed_contents": report.orphan_blobs_removed}


JOB_TYPES = [
    JobType(
        VERIFY_JOB,
        verify_files,
        "Check every stored file against its record, and every file, blob and "
        "temp folder of the data directory against the records.",
        VerifyParams,
        public=True,
    ),
    JobType(
        GC_JOB,
        collect_garbage,
        "Remove temp folders of writers that are gone, and files and blobs no record "
        "refers to (older than the grace period).",
        GcParams,
        public=True,
    ),
]
