"""Verified local copies of stored files, for libraries that need a file name (OpenVINO, Datumaro, PyTorch).

`CACHE_DIR/<key>` holds a copy of the file stored under `key`, laid out as the keys are: a variant's
`model.xml` sits next to its `model.bin`, an image keeps its extension. A copy is written to a partial file,
hashed, and renamed into place only when its sha256 matches the record; a copy found in place is hashed again
(once per process) before it is handed out, so a key whose content changed, or a copy changed by hand, is
fetched anew. The cache stays near its size bound by removing the copies used least recently (their access
time, set on every use); copies used in the last `PROTECT_SECONDS` stay, so a file handed out a moment ago
is not removed under its user. Several processes may share the folder.
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
from modelyard.storage.local import check_key

log = structlog.get_logger("modelyard.storage")
PROTECT_SECONDS = 300.0
PARTIAL_MARK = ".partial-"


class VerifiedCache:
    def __init__(self, root: Path, max_bytes: int, *, protect_seconds: float = PROTECT_SECONDS) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.protect_seconds = protect_seconds
        self.root.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        # relative name -> (size, last use); filled by one walk of the folder, then kept up to date here.
        self._index: dict[str, tuple[int, float]] | None = None
        # Copies hashed by this process: (inode, size, mtime) -> sha256; a rewrite changes the signature.
        self._verified: dict[tuple[int, int, int], str] = {}
        self._names = itertools.count()

    def path_of(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key))

    def get(self, key: str, sha256: str, size: int, fetch: Callable[[Path], None]) -> Path:
        """A verified local copy of the file `key` holding `sha256`; `fetch(path)` writes the bytes to `path`."""
        path = self.path_of(key)
        if self._usable(path, sha256, size):
            self._touch(key, path, size)
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}{PARTIAL_MARK}{os.getpid()}-{next(self._names)}")
        try:
            fetch(partial)
            actual, actual_size = _hash_file(partial)
            if (actual, actual_size) != (sha256, size):
                raise IntegrityError(
                    f"stored file {key!r} arrived as {actual_size} bytes with sha256 {actual[:12]}..., "
                    f"{size} bytes with {sha256[:12]}... were recorded: the object store holds other bytes; "
                    "restore them or upload the file again"
                )
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
        stat = path.stat()
        with self._lock:
            self._verified[(stat.st_ino, stat.st_size, stat.st_mtime_ns)] = sha256
        self._touch(key, path, size)
        self._evict(keep=key)
        return path

    def forget(self, key: str) -> None:
        """Drop the copy of `key` (it is fetched again on its next use)."""
        self.path_of(key).unlink(missing_ok=True)
        with self._lock:
            if self._index is not None:
                self._index.pop(key, None)

    def used_bytes(self) -> int:
        with self._lock:
            return sum(size for size, _ in self._scan().values())

    def _usable(self, path: Path, sha256: str, size: int) -> bool:
        try:
            stat = path.stat()
        except FileNotFoundError:
            return False
        if stat.st_size != size:
            return False
        signature = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        with self._lock:
            known = self._verified.get(signature)
        if known is not None:
            return known == sha256
        actual, _ = _hash_file(path)
        with self._lock:
            self._verified[signature] = actual
        return actual == sha256

    def _touch(self, key: str, path: Path, size: int) -> None:
        now = time.time()
        try:
            os.utime(path, (now, path.stat().st_mtime))  # the access time orders the copies; mtime is kept
        except FileNotFoundError:
            return
        with self._lock:
            self._scan()[key] = (size, now)

    def _scan(self) -> dict[str, tuple[int, float]]:
        if self._index is None:
            self._index = {}
            for folder, _, files in os.walk(self.root):
                for name in files:
                    if PARTIAL_MARK in name:
                        continue
                    path = Path(folder, name)
                    try:
                        stat = path.stat()
                    except FileNotFoundError:
                        continue
                    self._index[path.relative_to(self.root).as_posix()] = (stat.st_size, stat.st_atime)
        return self._index

    def _evict(self, *, keep: str) -> None:
        with self._lock:
            if sum(size for size, _ in self._scan().values()) <= self.max_bytes:
                return
            self._index = None  # other processes share the folder: decide on what is really there
            index = self._scan()
            total = sum(size for size, _ in index.values())
            protected_after = time.time() - self.protect_seconds
            for key, (size, used) in sorted(index.items(), key=lambda item: item[1][1]):
                if total <= self.max_bytes:
                    break
                if key == keep or used > protected_after:
                    continue
                self.path_of(key).unlink(missing_ok=True)
                del index[key]
                total -= size
                log.info("storage.cache.evicted", key=key, size=size)


def _hash_file(path: Path) -> tuple[str, int]:
    with path.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256")
        return digest.hexdigest(), handle.tell()
