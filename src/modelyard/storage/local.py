"""Local-disk artifact store.

Layout: the browsable path `DATA_DIR/<key>` is a hard link to `DATA_DIR/.blobs/<sha[:2]>/<sha>`, so
the same bytes stored under two keys take the space once, and people can browse the data directory.
Writes stream into `.tmp/`, are fsynced and renamed into place: a crash never leaves a half file
under a real name.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from modelyard.errors import IntegrityError, InvalidInput, NotFound
from modelyard.storage.base import CHUNK_SIZE, Source, StoredObject

VERIFIED_CACHE_SIZE = 4096
# fsync waits on the disk, not the CPU, and the filesystem commits concurrent fsyncs together:
# a batch of files is made durable by this many threads at once, whatever the core count.
SYNC_THREADS = 16


class LocalArtifactStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.blobs = root / ".blobs"
        self.tmp = root / ".tmp"
        for folder in (self.root, self.blobs, self.tmp):
            folder.mkdir(parents=True, exist_ok=True)
        # Files whose hash was checked, keyed by a stat signature that any write changes (ctime
        # cannot be set back by a user), so repeated reads of large files are not hashed again.
        self._verified: OrderedDict[tuple[int, int, int, int], str] = OrderedDict()
        self._lock = threading.Lock()

    # -- paths -------------------------------------------------------------------------------
    def path_of(self, key: str) -> Path:
        parts = PurePosixPath(key).parts
        if not parts or key.startswith("/") or any(part in ("..", ".", "") for part in parts) or parts[0] in (
            ".blobs",
            ".tmp",
        ):
            raise InvalidInput(f"invalid storage key {key!r}: use a relative path without '..'")
        return self.root.joinpath(*parts)

    def _blob_path(self, sha256: str) -> Path:
        return self.blobs / sha256[:2] / sha256

    # -- writes ------------------------------------------------------------------------------
    def put(self, key: str, source: Source, *, move: bool = False) -> StoredObject:
        target = self.path_of(key)
        if isinstance(source, Path) and move:
            sha256, size = _hash_file(source)
            self._adopt(source, sha256)
        else:
            sha256, size = self._stream_to_blob(source)
        self._link_key(target, self._blob_path(sha256))
        return StoredObject(key=key, sha256=sha256, size=size)

    def link(self, key: str, sha256: str) -> StoredObject:
        blob = self._blob_path(sha256)
        if not blob.exists():
            raise NotFound(f"no stored content with sha256 {sha256}")
        self._link_key(self.path_of(key), blob)
        return StoredObject(key=key, sha256=sha256, size=blob.stat().st_size)

    def has_content(self, sha256: str) -> bool:
        return self._blob_path(sha256).exists()

    def _stream_to_blob(self, source: Source) -> tuple[str, int]:
        digest = hashlib.sha256()
        size = 0
        fd, tmp_name = tempfile.mkstemp(dir=self.tmp, prefix="upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in _chunks(source):
                    digest.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            self._adopt(Path(tmp_name), digest.hexdigest())
        finally:
            Path(tmp_name).unlink(missing_ok=True)
        return digest.hexdigest(), size

    def put_files(self, entries: Sequence[tuple[str, Path, str]]) -> list[StoredObject]:
        """Store many files the caller owns and has hashed, as (key, file, sha256), moving them in.

        The same guarantees as `put`, paid for once per batch: each file's bytes reach the disk
        before it gets a real name (a crash leaves no half file under one), and every folder a name
        was added to is synced once, after all of them, before this returns.
        """
        sizes = [file.stat().st_size for _, file, _ in entries]
        firsts = list({sha256: file for _, file, sha256 in reversed(entries)}.items())  # one file per content
        targets = [(self.path_of(key), self._blob_path(sha256)) for key, _, sha256 in entries]
        with ThreadPoolExecutor(max_workers=SYNC_THREADS) as pool:
            list(pool.map(_fsync_file, [file for _, file in firsts]))
            list(pool.map(lambda first: self._adopt(first[1], first[0], sync=False), firsts))
            list(pool.map(lambda target: self._link_key(*target, sync=False), targets))
            folders = {blob.parent for _, blob in targets} | {target.parent for target, _ in targets}
            list(pool.map(_fsync_dir, sorted(folders)))
        return [
            StoredObject(key=key, sha256=sha256, size=size)
            for (key, _, sha256), size in zip(entries, sizes, strict=True)
        ]

    def _adopt(self, file: Path, sha256: str, *, sync: bool = True) -> None:
        """Move a complete file into the blob area, or drop it if that content is already there."""
        blob = self._blob_path(sha256)
        if blob.exists():
            return
        blob.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(file, blob)
        except OSError:
            # Another filesystem: copy into .tmp first so the rename stays atomic.
            staged = self.tmp / f"adopt-{sha256}-{threading.get_ident()}"
            shutil.copyfile(file, staged)
            _fsync_file(staged)
            os.replace(staged, blob)
        os.chmod(blob, 0o444)
        if sync:
            _fsync_dir(blob.parent)

    def _link_key(self, target: Path, blob: Path, *, sync: bool = True) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        staged = self.tmp / f"link-{os.getpid()}-{threading.get_ident()}-{target.name}"
        staged.unlink(missing_ok=True)
        try:
            os.link(blob, staged)
        except OSError:
            shutil.copyfile(blob, staged)
        os.replace(staged, target)
        if sync:
            _fsync_dir(target.parent)

    # -- reads -------------------------------------------------------------------------------
    def verify(self, key: str, sha256: str, size: int) -> None:
        path = self.path_of(key)
        try:
            stat = path.stat()
        except FileNotFoundError:
            raise IntegrityError(f"stored file {key!r} is missing from the data directory") from None
        if stat.st_size != size:
            raise IntegrityError(
                f"stored file {key!r} has {stat.st_size} bytes on disk, {size} were recorded: "
                "it was changed outside modelyard"
            )
        signature = (stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
        with self._lock:
            if self._verified.get(signature) == sha256:
                self._verified.move_to_end(signature)
                return
        actual, _ = _hash_file(path)
        if actual != sha256:
            raise IntegrityError(
                f"stored file {key!r} does not match its recorded sha256 ({actual[:12]}... != {sha256[:12]}...): "
                "it was changed outside modelyard; restore it or delete and upload it again"
            )
        with self._lock:
            self._verified[signature] = sha256
            while len(self._verified) > VERIFIED_CACHE_SIZE:
                self._verified.popitem(last=False)

    def open(self, key: str, sha256: str, size: int) -> Iterator[bytes]:
        self.verify(key, sha256, size)
        return _read_chunks(self.path_of(key))

    def local_path(self, key: str, sha256: str, size: int) -> Path:
        self.verify(key, sha256, size)
        return self.path_of(key)

    # -- removal -----------------------------------------------------------------------------
    def remove_key(self, key: str) -> None:
        path = self.path_of(key)
        path.unlink(missing_ok=True)
        _prune_empty_parents(path.parent, self.root)

    def remove_tree(self, prefix: str) -> None:
        shutil.rmtree(self.path_of(prefix), ignore_errors=True)

    def remove_content(self, sha256: str) -> None:
        self._blob_path(sha256).unlink(missing_ok=True)

    def unreferenced_blobs(self, referenced: set[str]) -> list[str]:
        return [
            blob.name
            for blob in self.blobs.glob("*/*")
            if blob.name not in referenced
        ]

    def usage(self) -> dict[str, int]:
        total, used, free = shutil.disk_usage(self.root)
        return {"total_bytes": total, "used_bytes": used, "free_bytes": free}


def _chunks(source: Source) -> Iterable[bytes]:
    if isinstance(source, Path):
        yield from _read_chunks(source)
    elif hasattr(source, "read"):
        reader: BinaryIO = source  # type: ignore[assignment]
        while chunk := reader.read(CHUNK_SIZE):
            yield chunk
    else:
        yield from source


def _read_chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_SIZE):
            yield chunk


def _hash_file(path: Path) -> tuple[str, int]:
    with path.open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256")
        # The size of what was hashed: the descriptor's position after the read, not a second stat of the path.
        return digest.hexdigest(), handle.tell()


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _prune_empty_parents(folder: Path, root: Path) -> None:
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent
