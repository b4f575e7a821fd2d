"""Clearing what a crash left behind, without touching what live writers are doing.

Three kinds of leftovers, each told apart from live work:
- temp folders `.tmp/<owner>/` whose owner is gone (a job no longer active, a process no longer alive),
  or idle for the grace period: the staged files in them are first published for the records that
  were committed (a crash between a commit and its publication), then the folder is removed;
- files under the store's folders that no record names (a crash between the commit that deleted a
  record and the removal of its file), once unchanged for the grace period;
- blobs that no record refers to, likewise.
On S3 (storage/bucket_sweep.py) keys are records only: the leftovers there are pins of writers that are
gone and contents no record refers to.
Runs at start-up of the server (in a background thread) and as the `storage.gc` job.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TypeVar

import structlog

from modelyard.db.engine import Database, transaction
from modelyard.jobs.repository import JobRepository
from modelyard.jobs.states import ACTIVE_STATUSES
from modelyard.storage.base import ArtifactStore
from modelyard.storage.local import SHA256_NAME, LocalArtifactStore, prune_empty_parents
from modelyard.storage.owners import parse_owner, process_alive
from modelyard.storage.repository import StoredFileRepository
from modelyard.storage.s3 import S3ArtifactStore

log = structlog.get_logger("modelyard.storage")
_Item = TypeVar("_Item")
BATCH = 500
# Top-level folders of the data directory that hold stored files even before any record is under them;
# any other folder is swept only if some record's key starts with it (a folder of the user's stays untouched).
KEY_ROOTS = ("projects", "registry", "dataset_imports")
# A unit of a live process is being written while anything in it changes; idle this long, it was left behind.
LIVE_UNIT_IDLE_SECONDS = 600.0
# Folders of the data directory that hold no stored files: `jobs` keeps the log files of jobs that ran before
# logs were database rows (still served), so the sweep leaves them alone.
NOT_STORED = frozenset({"jobs", "pretrained_weights", "model_manifests", "cache"})


@dataclass
class SweepReport:
    temp_removed: int = 0
    keys_published: int = 0
    stray_files_removed: int = 0
    orphan_blobs_removed: int = 0
    pins_removed: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def sweep(
    db: Database, store: ArtifactStore, *, grace_seconds: float, stop: threading.Event | None = None
) -> SweepReport:
    """Remove every kind of leftover (see the module's docstring); `stop` ends it between batches."""
    stop = stop or threading.Event()
    report = SweepReport()
    sweep_temp(db, store, grace_seconds, report)
    cutoff = time.time() - grace_seconds
    if isinstance(store, S3ArtifactStore):
        from modelyard.storage.bucket_sweep import sweep_bucket

        sweep_bucket(db, store, cutoff, report, stop)
    elif isinstance(store, LocalArtifactStore):
        _sweep_data_dir(db, store, cutoff, report, stop)
    return report


def _sweep_data_dir(
    db: Database, store: LocalArtifactStore, cutoff: float, report: SweepReport, stop: threading.Event
) -> None:
    for paths in batched(stored_files(db, store), BATCH):
        if stop.is_set():
            return
        _remove_unrecorded_files(db, store, paths, cutoff, report)
    for paths in batched(blob_files(store), BATCH):
        if stop.is_set():
            return
        _remove_unreferenced_blobs(db, store, paths, cutoff, report)


# -- temp folders ------------------------------------------------------------------------------
def owner_alive(db: Database, name: str) -> bool | None:
    """Whether the writer of `.tmp/<name>/` lives: True, False, or None when this host cannot tell."""
    owner = parse_owner(name)
    if owner.job_id is not None:
        with transaction(db.read_sessions) as session:
            job = JobRepository(session).get(owner.job_id)
            return job is not None and job.status in ACTIVE_STATUSES
    return process_alive(owner)


def sweep_temp(db: Database, store: ArtifactStore, grace_seconds: float, report: SweepReport) -> None:
    """Finish and remove the temp folders of writers that are gone, or idle for the grace period."""
    now = time.time()
    for entry in sorted(store.tmp_root.iterdir()):
        alive = owner_alive(db, entry.name)
        if alive is False or (alive is None and now - newest_change(entry) > grace_seconds):
            _finish_and_remove(db, store, entry, report)
        elif alive and parse_owner(entry.name).job_id is None and entry.is_dir():
            # A live process: only its units idle for the grace period (a publication that failed), and
            # never sooner than LIVE_UNIT_IDLE_SECONDS, whatever grace a caller asks for.
            for unit in entry.iterdir():
                if unit.is_dir() and now - newest_change(unit) > max(grace_seconds, LIVE_UNIT_IDLE_SECONDS):
                    _finish_and_remove(db, store, unit, report)


def _finish_and_remove(db: Database, store: ArtifactStore, entry: Path, report: SweepReport) -> None:
    if entry.is_dir() and not entry.is_symlink():
        for folder in [entry, *(child for child in entry.iterdir() if child.is_dir() and not child.is_symlink())]:
            report.keys_published += finish_unit(db, store, folder)
        shutil.rmtree(entry, ignore_errors=True)
    else:
        entry.unlink(missing_ok=True)
    report.temp_removed += 1
    log.info("storage.sweep.temp_removed", entry=entry.name)


def finish_unit(db: Database, store: ArtifactStore, unit: Path) -> int:
    """Publish the staged files of `unit` for the records that hold them (committed before a crash)."""
    staged = [path for path in unit.iterdir() if SHA256_NAME.match(path.name) and path.is_file()]
    if not staged:
        return 0
    with transaction(db.read_sessions) as session:
        keys = StoredFileRepository(session).keys_by_content([path.name for path in staged])
    return sum(store.finish_publication(path, path.name, keys[path.name]) for path in staged if path.name in keys)


def newest_change(entry: Path) -> float:
    """The latest modification time of `entry` or anything inside it."""
    try:
        newest = entry.lstat().st_mtime
    except FileNotFoundError:
        return 0.0
    if entry.is_dir() and not entry.is_symlink():
        for folder, dirs, files in os.walk(entry):
            for name in (*dirs, *files):
                try:
                    newest = max(newest, os.lstat(os.path.join(folder, name)).st_mtime)
                except FileNotFoundError:
                    continue
    return newest


# -- files and blobs without a record ----------------------------------------------------------
def stored_files(db: Database, store: LocalArtifactStore) -> Iterator[Path]:
    """Every file under the folders of the data directory that hold stored files."""
    for top in sorted(store.root.iterdir()):
        if top.name.startswith(".") or top.name in NOT_STORED or not top.is_dir() or top.is_symlink():
            continue
        if top.name not in KEY_ROOTS:
            with transaction(db.read_sessions) as session:
                if not StoredFileRepository(session).any_under(top.name + "/"):
                    continue
        for folder, _, files in os.walk(top):
            for name in sorted(files):
                yield Path(folder, name)


def blob_files(store: LocalArtifactStore) -> Iterator[Path]:
    for folder in sorted(store.blobs.iterdir()):
        if folder.is_dir():
            yield from sorted(folder.iterdir())


def batched(paths: Iterator[_Item], size: int) -> Iterator[list[_Item]]:
    batch: list[_Item] = []
    for path in paths:
        batch.append(path)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def unrecorded(db: Database, store: LocalArtifactStore, paths: Sequence[Path]) -> list[tuple[str, Path]]:
    """(key, path) of those of `paths` that no record names."""
    keys = {path.relative_to(store.root).as_posix(): path for path in paths}
    with transaction(db.read_sessions) as session:
        known = StoredFileRepository(session).existing_keys(list(keys))
    return [(key, path) for key, path in keys.items() if key not in known]


def unreferenced(db: Database, paths: Sequence[Path]) -> list[Path]:
    """Those of the blob files `paths` that no record refers to."""
    with transaction(db.read_sessions) as session:
        known = StoredFileRepository(session).existing_contents([path.name for path in paths])
    return [path for path in paths if path.name not in known and SHA256_NAME.match(path.name)]


def _unchanged_since(path: Path, cutoff: float) -> bool:
    # ctime, not mtime: adding or removing a hard link to the file moves it, and no user can set it back.
    try:
        return path.lstat().st_ctime <= cutoff
    except FileNotFoundError:
        return False


def _remove_unrecorded_files(
    db: Database, store: LocalArtifactStore, paths: Sequence[Path], cutoff: float, report: SweepReport
) -> None:
    for key, path in unrecorded(db, store, paths):
        if not _unchanged_since(path, cutoff):
            continue
        with transaction(db.read_sessions) as session:
            if StoredFileRepository(session).get(key) is not None:  # recorded meanwhile
                continue
        path.unlink(missing_ok=True)
        prune_empty_parents(path.parent, store.root)
        report.stray_files_removed += 1
        log.info("storage.sweep.stray_file_removed", key=key)


def _remove_unreferenced_blobs(
    db: Database, store: LocalArtifactStore, paths: Sequence[Path], cutoff: float, report: SweepReport
) -> None:
    for path in unreferenced(db, paths):
        if not _unchanged_since(path, cutoff):
            continue
        with transaction(db.read_sessions) as session:
            if StoredFileRepository(session).count_with_content(path.name):
                continue
        path.unlink(missing_ok=True)
        report.orphan_blobs_removed += 1


class BackgroundSweep(threading.Thread):
    """The start-up sweep, off the serving path: the server answers while it runs."""

    def __init__(self, db: Database, store: ArtifactStore, grace_seconds: float) -> None:
        super().__init__(name="storage-sweep", daemon=True)
        self.db, self.store, self.grace_seconds = db, store, grace_seconds
        self.halt = threading.Event()
        self.report: SweepReport | None = None

    def run(self) -> None:
        try:
            self.report = sweep(self.db, self.store, grace_seconds=self.grace_seconds, stop=self.halt)
        except Exception:  # a failed sweep is logged and the server keeps serving; `storage.gc` can run it again
            log.exception("storage.sweep.failed")
            return
        log.info("storage.sweep.done", **self.report.as_dict())

    def stop(self, timeout: float = 10.0) -> None:
        self.halt.set()
        self.join(timeout)
