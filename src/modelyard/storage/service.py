"""Stored files with their records: every file's key, sha256 and size are in the database.

Files change in the store only around commits. New bytes are staged by the writer (under its
`.tmp/<owner>/` on the local disk; uploaded and pinned on S3) before the commit and published after it;
a rollback drops them.
Removals happen after the commit, so a rolled-back request loses nothing. Within its own
transaction a service reads what it staged from the staged file.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import structlog
from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from modelyard.db.base import new_id, utcnow
from modelyard.db.engine import run_after_commit, run_after_rollback
from modelyard.errors import NotFound
from modelyard.storage import crash_points
from modelyard.storage.base import ArtifactStore, Source
from modelyard.storage.models import StoredFile
from modelyard.storage.repository import StoredFileRepository
from modelyard.storage.schemas import FolderUsage, ProjectUsage, StorageUsage

log = structlog.get_logger("modelyard.storage")
# Each project keeps its files under projects/<project id>/ (projects.service.project_folder).
PROJECTS_FOLDER = "projects"
VERIFY_THREADS = 4
RESTORE_CANDIDATES = 10
STAGING_INFO = "modelyard_file_staging"


@dataclass
class _Staging:
    """Files staged by one transaction: the unit that holds them, and key -> sha256 to publish after the commit."""

    unit: Path
    pending: dict[str, str] = field(default_factory=dict)


class FileService:
    def __init__(self, session: Session, store: ArtifactStore) -> None:
        self.session = session
        self.store = store
        self.files = StoredFileRepository(session)

    def save(
        self,
        key: str,
        source: Source,
        *,
        actor: str,
        media_type: str | None = None,
        move: bool = False,
    ) -> StoredFile:
        """Store bytes under `key`, replacing an earlier file there atomically once committed."""
        self.store.check_key(key)  # a bad key is refused before any byte is read
        previous = self.files.get(key)
        staging = self._staging()
        staged = self.store.stage(staging.unit, source, move=move)
        staging.pending[key] = staged.sha256
        crash_points.reached("files.staged")
        return self._record(key, staged.sha256, staged.size, actor, media_type, previous)

    def save_new_files(self, entries: Sequence[tuple[str, Path, str]], *, actor: str) -> None:
        """Store many files under keys that hold nothing yet, as (key, file, sha256): the files are
        moved in (the caller owns them and hashed them) and recorded with one bulk insert."""
        if not entries:
            return
        keys = [key for key, _, _ in entries]
        for key in keys:
            self.store.check_key(key)
        taken = self.files.existing_keys(keys)
        if taken:
            raise ValueError(f"save_new_files is for new keys only; already stored: {sorted(taken)[:3]}")
        staging = self._staging()
        sizes = self.store.stage_files(staging.unit, [(file, sha256) for _, file, sha256 in entries])
        staging.pending.update((key, sha256) for key, _, sha256 in entries)
        crash_points.reached("files.staged")
        now = utcnow()
        self.files.add_many(
            [
                {
                    "id": new_id(),
                    "key": key,
                    "sha256": sha256,
                    "size": size,
                    "created_at": now,
                    "media_type": mimetypes.guess_type(key)[0] or "application/octet-stream",
                    "created_by": actor,
                }
                for (key, _, sha256), size in zip(entries, sizes, strict=True)
            ]
        )

    def save_same_content(self, key: str, sha256: str, *, actor: str, media_type: str | None = None) -> StoredFile:
        """Give `key` the bytes already stored as `sha256` (no second copy)."""
        self.store.check_key(key)
        previous = self.files.get(key)
        staging = self._staging()
        if not self.store.has_staged(staging.unit, sha256) and not self.store.has_content(sha256):
            self._restore_content(sha256)
        size = self.store.pin(staging.unit, sha256)
        staging.pending[key] = sha256
        return self._record(key, sha256, size, actor, media_type, previous)

    def _restore_content(self, sha256: str) -> None:
        """Bring back a deleted blob from a key that still holds its bytes (hard links keep them)."""
        for key in self.files.keys_with_content(sha256, RESTORE_CANDIDATES):
            if self.store.restore_content(key, sha256):
                return

    def _staging(self) -> _Staging:
        """The transaction's staging, shared by every service on this session (so each reads what another staged)."""
        staging = self.session.info.get(STAGING_INFO)
        if staging is None:
            staging = self.session.info[STAGING_INFO] = _Staging(self.store.new_unit())
            run_after_commit(self.session, self._publish)
            run_after_rollback(self.session, self._discard)
        return staging

    def _publish(self) -> None:
        staging = self.session.info.pop(STAGING_INFO, None)
        if staging is None:
            return
        try:
            self.store.publish(staging.unit, list(staging.pending.items()))
        except OSError:
            # Committed already: the staged files stay, readers link a key from them when they miss it,
            # and the sweep finishes the publication once the unit is idle for the grace period.
            log.exception("storage.publish_failed", unit=str(staging.unit), files=len(staging.pending))

    def _discard(self) -> None:
        staging = self.session.info.pop(STAGING_INFO, None)
        if staging is not None:
            for sha256 in self.store.discard(staging.unit):
                self._drop_content_if_unused(sha256)

    def _pending(self) -> dict[str, str]:
        staging = self.session.info.get(STAGING_INFO)
        return staging.pending if staging is not None else {}

    def _staged_unit(self, record: StoredFile) -> Path | None:
        """The unit of this transaction that staged `record`'s bytes, if it did (not visible under its key yet)."""
        staging = self.session.info.get(STAGING_INFO)
        if staging is not None and staging.pending.get(record.key) == record.sha256:
            return staging.unit
        return None

    def _record(
        self,
        key: str,
        sha256: str,
        size: int,
        actor: str,
        media_type: str | None,
        previous: StoredFile | None,
    ) -> StoredFile:
        media_type = media_type or mimetypes.guess_type(key)[0] or "application/octet-stream"
        if previous is None:
            return self.files.add(
                StoredFile(key=key, sha256=sha256, size=size, media_type=media_type, created_by=actor)
            )
        old_sha256 = previous.sha256
        previous.sha256, previous.size, previous.media_type, previous.created_by = sha256, size, media_type, actor
        self.session.flush()
        if old_sha256 != sha256:
            run_after_commit(self.session, lambda: self._drop_content_if_unused(old_sha256))
        return previous

    def usage(self) -> StorageUsage:
        """Files and bytes in all, by top folder and by project, and the disk's free space."""
        files, size, stored = self.files.totals()
        by_project = self.files.usage_by_folder(f"{PROJECTS_FOLDER}/")
        names = self.files.project_names([project_id for project_id, _, _ in by_project])
        disk = self.store.usage()
        return StorageUsage(
            files=files,
            bytes=size,
            stored_bytes=stored,
            folders=[FolderUsage(folder=name, files=count, bytes=total)
                     for name, count, total in self.files.usage_by_folder()],
            projects=[ProjectUsage(project_id=project_id, project_name=names.get(project_id), files=count, bytes=total)
                      for project_id, count, total in by_project],
            free_bytes=disk["free_bytes"],
            total_bytes=disk["total_bytes"],
        )  # fmt: skip

    def get(self, key: str) -> StoredFile:
        record = self.files.get(key)
        if record is None:
            raise NotFound(f"no stored file {key!r}")
        return record

    def page(
        self, prefix: str, *, limit: int, cursor: str | None, where: ColumnElement[bool] | None = None
    ) -> Sequence[StoredFile]:
        """Records under a key prefix in key order: a keyset page plus one row that says whether more follow."""
        return self.files.page(prefix, limit=limit, cursor=cursor, where=where)

    def open(self, record: StoredFile) -> Iterator[bytes]:
        unit = self._staged_unit(record)
        if unit is not None:
            return self.store.open_staged(unit, record.sha256, record.size)
        return self.store.open(record.key, record.sha256, record.size)

    def local_path(self, record: StoredFile) -> Path:
        unit = self._staged_unit(record)
        if unit is not None:
            return self.store.staged_local_path(unit, record.key, record.sha256, record.size)
        return self.store.local_path(record.key, record.sha256, record.size)

    def download_url(self, record: StoredFile, *, file_name: str) -> str | None:
        """A presigned URL of the object store for `record` (None on the local disk); the content is checked
        to be there with its size first, and the client checks the sha256 it is given with the URL."""
        url = self.store.presigned_url(record.sha256, file_name=file_name, media_type=record.media_type)
        if url is not None:
            self.store.check_present(record.key, record.sha256, record.size)
        return url

    def local_paths(self, keys: Sequence[str]) -> list[Path]:
        """Verified local paths of many files, in the order of `keys` (one query; hashes checked on
        several threads, as hashing and reading release the GIL)."""
        records = self.files.many(keys)
        missing = [key for key in keys if key not in records]
        if missing:
            raise NotFound(
                f"no stored file {missing[0]!r}" + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
            )
        with ThreadPoolExecutor(max_workers=VERIFY_THREADS) as pool:
            return list(pool.map(self.local_path, [records[key] for key in keys]))

    def delete(self, key: str) -> None:
        record = self.get(key)
        self._pending().pop(key, None)
        self.files.delete(record)
        sha256 = record.sha256
        run_after_commit(self.session, lambda: self._remove(key, sha256))

    def delete_tree(self, prefix: str) -> None:
        """Delete every file under a folder-like prefix (a project, a revision), after commit."""
        prefix = prefix.rstrip("/") + "/"
        contents = set(self.files.delete_under(prefix))
        pending = self._pending()
        for key in [key for key in pending if key.startswith(prefix)]:
            del pending[key]

        def remove() -> None:
            self.store.remove_tree(prefix.rstrip("/"))
            for sha256 in contents:
                self._drop_content_if_unused(sha256)

        run_after_commit(self.session, remove)

    def _remove(self, key: str, sha256: str) -> None:
        self.store.remove_key(key)
        self._drop_content_if_unused(sha256)

    def _drop_content_if_unused(self, sha256: str) -> None:
        # Runs after commit, in a fresh transaction of the same session's bind.
        with Session(bind=self.session.get_bind()) as check:
            if StoredFileRepository(check).count_with_content(sha256) == 0:
                self.store.remove_content(sha256)
