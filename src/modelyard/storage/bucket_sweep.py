"""Sweep and audit of an S3 store: the bucket against the database.

Keys are records only, so what a crash can leave in a bucket is of two kinds: pins (`pins/<sha>/<owner>/<unit>`)
of writers that are gone, and contents (`blobs/...`) that no record refers to (uploaded by a transaction that
rolled back or died, or left by a delete that did not finish). A content goes only when no record refers to
it, no pin holds it, and it was last written before the grace period.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import structlog

from modelyard.db.engine import Database, transaction
from modelyard.storage.audit import AuditReport
from modelyard.storage.repository import StoredFileRepository
from modelyard.storage.s3 import ListedObject, S3ArtifactStore
from modelyard.storage.sweep import BATCH, SweepReport, batched, owner_alive

log = structlog.get_logger("modelyard.storage")


def sweep_bucket(
    db: Database, store: S3ArtifactStore, cutoff: float, report: SweepReport, stop: threading.Event
) -> None:
    """Drop the pins of writers that are gone, then the contents no record refers to (older than `cutoff`)."""
    for pins in batched(store.list_pins(), BATCH):
        if stop.is_set():
            return
        for pin in pins:
            if _pin_is_stale(db, store, pin, cutoff):
                store.delete_object(pin.name)
                report.pins_removed += 1
                log.info("storage.sweep.pin_removed", pin=pin.name)
    for blobs in batched(store.list_blobs(), BATCH):
        if stop.is_set():
            return
        for blob in _unreferenced(db, blobs):
            if blob.modified.timestamp() > cutoff:
                continue
            sha256 = blob.name.rsplit("/", 1)[-1]
            with transaction(db.read_sessions) as session:
                if StoredFileRepository(session).count_with_content(sha256):  # recorded meanwhile
                    continue
            if store.pins_of(sha256):
                continue
            store.delete_blob(sha256)
            report.orphan_blobs_removed += 1
            log.info("storage.sweep.orphan_content_removed", sha256=sha256)


def audit_bucket(
    db: Database,
    store: S3ArtifactStore,
    report: AuditReport,
    rehash: bool,
    progress: Callable[[int, int], None],
) -> None:
    """Every record against the bucket's listing (and its bytes with `rehash`), every content against the records,
    and the pins of writers that are gone."""
    sizes = {blob.name.rsplit("/", 1)[-1]: blob.size for blob in store.list_blobs()}
    with transaction(db.read_sessions) as session:
        total = StoredFileRepository(session).count()
    last_key = ""
    referenced: set[str] = set()
    while True:
        with transaction(db.read_sessions) as session:
            batch = StoredFileRepository(session).fingerprints_after(last_key, BATCH)
        if not batch:
            break
        for key, sha256, size in batch:
            referenced.add(sha256)
            problem = _inspect(store, sizes, key, sha256, size, rehash=rehash)
            if problem is not None:
                report.add(problem[0], key, problem[1])
        report.checked += len(batch)
        last_key = batch[-1][0]
        progress(report.checked, total)
    for sha256 in sorted(set(sizes) - referenced):
        report.add("orphan_blob", store.blob_name(sha256), "no record refers to this content")
    for pin in store.list_pins():
        parsed = store.parse_pin(pin.name)
        if parsed is not None and parsed[1] != store.owner and owner_alive(db, parsed[1]) is False:
            report.add("temp_leftover", pin.name, "pin of a writer that is gone")


def _inspect(
    store: S3ArtifactStore, sizes: dict[str, int], key: str, sha256: str, size: int, *, rehash: bool
) -> tuple[str, str] | None:
    if sha256 not in sizes:
        return "missing", f"stored file {key!r}: its content {sha256[:12]}... is missing from the bucket"
    if sizes[sha256] != size:
        return "size", f"stored file {key!r} has {sizes[sha256]} bytes in the bucket, {size} were recorded"
    if rehash and store.hash_content(sha256) != (sha256, size):
        return "sha256", f"stored file {key!r} does not match its recorded sha256"
    return None


def _pin_is_stale(db: Database, store: S3ArtifactStore, pin: ListedObject, cutoff: float) -> bool:
    parsed = store.parse_pin(pin.name)
    if parsed is None:
        return pin.modified.timestamp() <= cutoff
    _, owner, unit = parsed
    if owner == store.owner:
        return False
    alive = owner_alive(db, owner)
    if alive is False:
        return True
    # A live writer's pin stays while its unit is on this host's disk; one this host cannot check waits the grace.
    unit_here = (store.tmp_root / owner / unit).is_dir()
    return not unit_here and pin.modified.timestamp() <= cutoff


def _unreferenced(db: Database, blobs: list[ListedObject]) -> list[ListedObject]:
    names = {blob.name.rsplit("/", 1)[-1]: blob for blob in blobs}
    with transaction(db.read_sessions) as session:
        known = StoredFileRepository(session).existing_contents(list(names))
    return [blob for sha256, blob in names.items() if sha256 not in known]
