"""`storage.verify`: the data directory (or the bucket: storage/bucket_sweep.py) against the database, both ways.

- every record: its file is there with the recorded size (and sha256), and the blob behind its hard
  link exists with the same bytes;
- every file under the store's folders has a record, and every blob is referred to by one;
- temp folders whose writer is gone (the sweep would remove them).
Nothing is repaired: the report lists counts and the first problems.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from modelyard.db.engine import Database, transaction
from modelyard.storage.base import ArtifactStore
from modelyard.storage.local import LocalArtifactStore
from modelyard.storage.repository import StoredFileRepository
from modelyard.storage.s3 import S3ArtifactStore
from modelyard.storage.sweep import BATCH, batched, blob_files, owner_alive, stored_files, unrecorded, unreferenced

RECORD_PROBLEMS = ("missing", "size", "sha256", "blob_missing", "blob_damaged")


@dataclass
class AuditReport:
    limit: int
    checked: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    problems: list[dict[str, str]] = field(default_factory=list)

    def add(self, kind: str, key: str, problem: str) -> None:
        self.counts[kind] += 1
        if len(self.problems) < self.limit:
            self.problems.append({"kind": kind, "key": key, "problem": problem})

    def as_dict(self) -> dict[str, Any]:
        damaged = [
            {"key": item["key"], "problem": item["problem"]}
            for item in self.problems
            if item["kind"] in RECORD_PROBLEMS
        ]
        return {
            "checked": self.checked,
            "damaged": damaged,
            "counts": {kind: self.counts[kind] for kind in sorted(self.counts)},
            "problem_count": sum(self.counts.values()),
            "problems": self.problems,
        }


def audit(
    db: Database,
    store: ArtifactStore,
    *,
    rehash: bool,
    limit: int,
    progress: Callable[[int, int], None] = lambda checked, total: None,
) -> AuditReport:
    report = AuditReport(limit)
    if isinstance(store, S3ArtifactStore):
        from modelyard.storage.bucket_sweep import audit_bucket

        audit_bucket(db, store, report, rehash, progress)
    elif isinstance(store, LocalArtifactStore):
        _audit_data_dir(db, store, report, rehash, progress)
    return report


def _audit_data_dir(
    db: Database, store: LocalArtifactStore, report: AuditReport, rehash: bool, progress: Callable[[int, int], None]
) -> None:
    _check_records(db, store, report, rehash, progress)
    for paths in batched(stored_files(db, store), BATCH):
        for key, _ in unrecorded(db, store, paths):
            report.add("stray_file", key, f"file {key!r} has no record: left by a crash; `storage.gc` removes it")
    for paths in batched(blob_files(store), BATCH):
        for path in unreferenced(db, paths):
            report.add("orphan_blob", f".blobs/{path.parent.name}/{path.name}", "no record refers to this blob")
    for entry in sorted(store.tmp_root.iterdir()):
        if entry.name != store.owner and owner_alive(db, entry.name) is False:
            report.add("temp_leftover", f".tmp/{entry.name}", "temp folder of a writer that is gone")


def _check_records(
    db: Database, store: LocalArtifactStore, report: AuditReport, rehash: bool, progress: Callable[[int, int], None]
) -> None:
    with transaction(db.read_sessions) as session:
        total = StoredFileRepository(session).count()
    last_key = ""
    while True:
        with transaction(db.read_sessions) as session:
            batch = StoredFileRepository(session).fingerprints_after(last_key, BATCH)
        if not batch:
            return
        for key, sha256, size in batch:
            problem = store.inspect(key, sha256, size, rehash=rehash)
            if problem is not None:
                report.add(problem[0], key, problem[1])
        report.checked += len(batch)
        last_key = batch[-1][0]
        progress(report.checked, total)
