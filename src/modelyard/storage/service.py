"""Stored files with their records: every file's key, sha256 and size are in the database.

Files change on disk only around commits: new bytes are linked in before the commit (and unlinked
again if it rolls back); removals happen after the commit, so a rolled-back request loses nothing.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy.orm import Session

from modelyard.db.base import new_id, utcnow
from modelyard.db.engine import run_after_commit, run_after_rollback
from modelyard.errors import NotFound
from modelyard.storage.base import Source
from modelyard.storage.local import LocalArtifactStore
from modelyard.storage.models import StoredFile
from modelyard.storage.repository import StoredFileRepository

VERIFY_THREADS = 4


class FileService:
    def __init__(self, session: Session, store: LocalArtifactStore) -> None:
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
        """Store bytes under `key`, replacing an earlier file there atomically."""
        previous = self.files.get(key)
        stored = self.store.put(key, source, move=move)
        self._undo_on_rollback(key, previous.sha256 if previous else None)
        return self._record(key, stored.sha256, stored.size, actor, media_type, previous)

    def save_new_files(self, entries: Sequence[tuple[str, Path, str]], *, actor: str) -> None:
        """Store many files under keys that hold nothing yet, as (key, file, sha256): the files are
        moved in (the caller owns them and hashed them) and recorded with one bulk insert."""
        if not entries:
            return
        keys = [key for key, _, _ in entries]
        taken = self.files.existing_keys(keys)
        if taken:
            raise ValueError(f"save_new_files is for new keys only; already stored: {sorted(taken)[:3]}")

        def undo() -> None:
            for key in keys:
                self.store.remove_key(key)

        run_after_rollback(self.session, undo)
        stored = self.store.put_files(entries)
        now = utcnow()
        self.files.add_many(
            [
                {"id": new_id(), "key": item.key, "sha256": item.sha256, "size": item.size, "created_at": now,
                 "media_type": mimetypes.guess_type(item.key)[0] or "application/octet-stream", "created_by": actor}
                for item in stored
            ]
        )

    def save_same_content(self, key: str, sha256: str, *, actor: str, media_type: str | None = None) -> StoredFile:
        """Give `key` the bytes already stored as `sha256` (no second copy)."""
        previous = self.files.get(key)
        stored = self.store.link(key, sha256)
        self._undo_on_rollback(key, previous.sha256 if previous else None)
        return self._record(key, stored.sha256, stored.size, actor, media_type, previous)

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

    def _undo_on_rollback(self, key: str, previous_sha256: str | None) -> None:
        def undo() -> None:
            if previous_sha256 and self.store.has_content(previous_sha256):
                self.store.link(key, previous_sha256)
            else:
                self.store.remove_key(key)

        run_after_rollback(self.session, undo)

    def get(self, key: str) -> StoredFile:
        record = self.files.get(key)
        if record is None:
            raise NotFound(f"no stored file {key!r}")
        return record

    def page(self, prefix: str, *, limit: int, cursor: str | None) -> Sequence[StoredFile]:
        """Records under a key prefix in key order: a keyset page plus one row that says whether more follow."""
        return self.files.page(prefix, limit=limit, cursor=cursor)

    def open(self, record: StoredFile) -> Iterator[bytes]:
        return self.store.open(record.key, record.sha256, record.size)

    def local_path(self, record: StoredFile) -> Path:
        return self.store.local_path(record.key, record.sha256, record.size)

    def local_paths(self, keys: Sequence[str]) -> list[Path]:
        """Verified local paths of many files, in the order of `keys` (one query; hashes checked on
        several threads, as hashing and reading release the GIL)."""
        records = self.files.many(keys)
        missing = [key for key in keys if key not in records]
        if missing:
            raise NotFound(
                f"no stored file {missing[0]!r}" + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
            )
        wanted = [(records[key].key, records[key].sha256, records[key].size) for key in keys]
        with ThreadPoolExecutor(max_workers=VERIFY_THREADS) as pool:
            return list(pool.map(lambda entry: self.store.local_path(*entry), wanted))

    def delete(self, key: str) -> None:
        record = self.get(key)
        self.files.delete(record)
        sha256 = record.sha256
        run_after_commit(self.session, lambda: self._remove(key, sha256))

    def delete_tree(self, prefix: str) -> None:
        """Delete every file under a folder-like prefix (a project, a revision), after commit."""
        prefix = prefix.rstrip("/") + "/"
        contents = set(self.files.delete_under(prefix))

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

    def collect_garbage(self) -> int:
        """Remove stored contents that no record refers to (left by a crash between write and commit)."""
        orphans = self.store.unreferenced_blobs(self.files.all_contents())
        for sha256 in orphans:
            self.store.remove_content(sha256)
        return len(orphans)
