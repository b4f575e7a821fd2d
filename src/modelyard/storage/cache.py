"""Verified local copies of stored content, for libraries that need a file name (OpenVINO, Datumaro, PyTorch).

`CACHE_DIR/<sha[:2]>/<sha>` holds the bytes of one content, written to a partial file, hashed, and renamed
into place only when its sha256 matches. The cache stays under its size bound by removing the copies used
least recently (their access time, set on every use). Several processes may share the folder: a copy
another process evicted is fetched again; a path handed out is never evicted by the call that returns it.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import structlog

from modelyard.errors import IntegrityError
from modelyard.storage.local import SHA256_NAME

log = structlog.get_logger("modelyard.storage")


class VerifiedCache:
    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        # sha256 -> (size, last use); filled by one scan of the folder, then kept up to date by this process.
        self._index: dict[str, tuple[int, float]] | None = None
        # Copies hashed by this process, by (inode, size, mtime): any rewrite changes the signature.
        self._verified: set[tuple[int, int, int]] = set()
        self._names = itertools.count()

    def path_of(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def get(self, sha256: str, size: int, fetch: Callable[[Path], None]) -> Path:
        """A verified local copy of `sha256`; `fetch(path)` writes the bytes to `path` when none is here."""
        path = self.path_of(sha256)
        if self._usable(path, sha256, size):
            self._touch(path, sha256, size)
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{sha256}.partial-{os.getpid()}-{next(self._names)}")
        try:
            fetch(partial)
            actual, actual_size = _hash_file(partial)
            if (actual, actual_size) != (sha256, size):
                raise IntegrityError(
                    f"stored content {sha256[:12]}... arrived as {actual_size} bytes with sha256 {actual[:12]}...: "
                    "the object store holds other bytes than were recorded; restore it or upload it again"
                )
            os.chmod(partial, 0o444)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
        stat = path.stat()
        with self._lock:
            self._verified.add((stat.st_ino, stat.st_size, stat.st_mtime_ns))
        self._touch(path, sha256, size)
        self._evict(keep=sha256)
        return path

    def discard(self, sha256: str) -> None:
        """Forget a copy (its content was removed from the store)."""
        self.path_of(sha256).unlink(missing_ok=True)
        with self._lock:
            if self._index is not None:
                self._index.pop(sha256, None)

    def used_bytes(self) -> int:
        with self._lock:
            return sum(size for size, _ in self._scan().values())

    def _usable(self, path: Path, sha256: str, size: int) -> bool:
        try:
            stat = path.stat()
        except FileNotFoundError:
            return False
        if stat.st_size != size:
            path.unlink(missing_ok=True)
            return False
        signature = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        with self._lock:
            if signature in self._verified:
                return True
        if _hash_file(path)[0] != sha256:  # changed behind our back: fetch it again
            log.warning("storage.cache.damaged_copy_dropped", sha256=sha256)
            path.unlink(missing_ok=True)
            return False
        with self._lock:
            self._verified.add(signature)
        return True

    def _touch(self, path: Path, sha256: str, size: int) -> None:
        now = time.time()
        try:
            os.utime(path, (now, path.stat().st_mtime))  # the access time orders the copies; mtime is kept
        except FileNotFoundError:
            return
        with self._lock:
            self._scan()[sha256] = (size, now)

    def _scan(self) -> dict[str, tuple[int, float]]:
        if self._index is None:
            self._index = {}
            for folder in self.root.iterdir():
                if not folder.is_dir():
                    continue
                for entry in os.scandir(folder):
                    if SHA256_NAME.match(entry.name):
                        stat = entry.stat()
                        self._index[entry.name] = (stat.st_size, stat.st_atime)
        return self._index

    def _evict(self, *, keep: str) -> None:
        with self._lock:
            index = self._scan()
            total = sum(size for size, _ in index.values())
            if total <= self.max_bytes:
                return
            self._index = None  # other processes share the folder: decide on what is really there
            index = self._scan()
            total = sum(size for size, _ in index.values())
            for sha256, (size, _) in sorted(index.items(), key=lambda item: item[1][1]):
                if total <= self.max_bytes:
                    break
                if sha256 == keep:
                    continue
                self.path_of(sha256).unlink(missing_ok=True)
                del index[sha256]
                total -= size
                log.info("storage.cache.evicted", sha256=sha256, size=size)


def _hash_file(path: Path) -> tuple[str, int]:
    with path.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256")
        return digest.hexdigest(), handle.tell()
