"""Local-disk artifact store.

Layout: the browsable path `DATA_DIR/<key>` is a hard link to `DATA_DIR/.blobs/<sha[:2]>/<sha>`, so
the same bytes stored under two keys take the space once, and people can browse the data directory.

A write has two steps around the database commit that records it, so a crash at any moment leaves
either what the database says or leftovers that a sweep can tell apart safely:
- `stage` (before the commit): the bytes stream into the writer's own folder `.tmp/<owner>/<unit>/`,
  are fsynced and take their sha256 as name there. Nothing outside `.tmp/` changes.
- `publish` (after the commit): each staged content becomes a blob (if it is new) and each key a hard
  link to its blob, put in place by an atomic rename. The unit is then removed.
A crash before the commit leaves only the unit; a crash during `publish` leaves staged files named by
their content, from which the sweep (storage/sweep.py) finishes what the committed records promise.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
import shutil
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from typing import BinaryIO, TypeVar

import structlog

from modelyard.digests import BackgroundDigest
from modelyard.errors import IntegrityError, InvalidInput, NotFound
from modelyard.storage import crash_points
from modelyard.storage.base import CHUNK_SIZE, Source, StagedContent, StoredObject
from modelyard.storage.owners import process_owner
from modelyard.storage.writeback import WritebackFile

log = structlog.get_logger("modelyard.storage")
VERIFIED_CACHE_SIZE = 4096
# fsync waits on the disk, not the CPU, and the filesystem commits concurrent fsyncs together:
# a batch of files is made durable by this many threads at once, whatever the core count.
SYNC_THREADS = 16
SHA256_NAME = re.compile(r"^[0-9a-f]{64}$")
_Item = TypeVar("_Item")


def check_key(key: str) -> tuple[str, ...]:
    """The parts of a valid storage key; InvalidInput for an absolute path, `..` or a reserved folder."""
    parts = PurePosixPath(key).parts
    if not parts or key.startswith("/") or any(part in ("..", ".", "") for part in parts) or parts[0] in (
        ".blobs",
        ".tmp",
    ):
        raise InvalidInput(f"invalid storage key {key!r}: use a relative path without '..'")
    return parts


class LocalArtifactStore:
    backend = "local"

    def __init__(self, root: Path, *, owner: str | None = None) -> None:
        self.root = root
        self.data_dir = root
        self.blobs = root / ".blobs"
        self.tmp_root = root / ".tmp"
        self.owner = owner or process_owner()
        self._tmp = self.tmp_root / self.owner
        for folder in (self.root, self.blobs, self._tmp):
            folder.mkdir(parents=True, exist_ok=True)
        # Files whose hash was checked, keyed by a stat signature that any write changes (ctime
        # cannot be set back by a user), so repeated reads of large files are not hashed again.
        self._verified: OrderedDict[tuple[int, int, int, int], str] = OrderedDict()
        # Per unit, the contents this process hashed while writing them (sha256 -> inode): once published,
        # their keys count as verified, so the first read after an upload does not hash them again.
        self._written: dict[Path, dict[str, int]] = {}
        self._lock = threading.Lock()
        self._names = itertools.count()

    @property
    def tmp(self) -> Path:
        """This writer's scratch folder, `.tmp/<owner>/` (made again if a sweep removed it while empty)."""
        self._tmp.mkdir(parents=True, exist_ok=True)
        return self._tmp

    def release(self) -> None:
        """Remove this writer's scratch folder if nothing is left in it (at a clean exit)."""
        try:
            self._tmp.rmdir()
        except OSError:
            pass

    # -- paths -------------------------------------------------------------------------------
    def path_of(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key))

    def check_key(self, key: str) -> None:
        check_key(key)

    def blob_path(self, sha256: str) -> Path:
        return self.blobs / sha256[:2] / sha256

    # -- staging (before the commit) ---------------------------------------------------------
    def new_unit(self) -> Path:
        """A fresh folder under this writer's scratch for the files of one transaction."""
        return Path(tempfile.mkdtemp(prefix="unit-", dir=self.tmp))

    def stage(self, unit: Path, source: Source, *, move: bool = False) -> StagedContent:
        """Bring bytes into `unit` as a file named by their sha256, fsynced. `move=True` with a path
        takes the caller's file (renamed when it is on this filesystem)."""
        if isinstance(source, Path) and move:
            sha256, size = _hash_file(source)
            _fsync_file(source)
            self._place(unit, source, sha256)
            _fsync_dir(unit)
            return StagedContent(sha256, size)
        # One pass: each chunk is hashed on a thread of its own while this one writes it, and the disk starts
        # on the first megabytes while the rest arrive (the fsync at the end waits only for the last of them).
        fd, partial = tempfile.mkstemp(dir=unit, prefix="partial-")
        try:
            with BackgroundDigest() as digest:
                try:
                    out = WritebackFile(fd)
                    for chunk in _chunks(source):
                        digest.update(chunk)
                        out.write(chunk)
                        crash_points.reached("files.streaming")
                    out.sync()
                finally:
                    os.close(fd)
                sha256, size = digest.hexdigest(), out.size
            self._place(unit, Path(partial), sha256)
            _fsync_dir(unit)
            with self._lock:
                self._written.setdefault(unit, {})[sha256] = (unit / sha256).stat().st_ino
        finally:
            Path(partial).unlink(missing_ok=True)
        return StagedContent(sha256, size)

    def stage_files(self, unit: Path, entries: Sequence[tuple[Path, str]]) -> list[int]:
        """Move many files the caller owns and has hashed, as (file, sha256), into `unit`; their sizes.

        The same guarantees as `stage`, paid for once per batch: the files are fsynced on several
        threads and the unit's folder once, after all of them.
        """
        sizes = [file.stat().st_size for file, _ in entries]
        with _Workers(len(entries)) as each:
            each(_fsync_file, [file for file, _ in entries])
        for file, sha256 in entries:
            self._place(unit, file, sha256)
        _fsync_dir(unit)
        return sizes

    def pin(self, unit: Path, sha256: str) -> int:
        """Stage content already stored (a hard link to its blob, so it outlives the blob); its size."""
        staged = unit / sha256
        if not staged.exists():
            blob = self.blob_path(sha256)
            try:
                os.link(blob, staged)
            except FileNotFoundError:
                raise NotFound(f"no stored content with sha256 {sha256}") from None
            except OSError:
                shutil.copyfile(blob, staged)
        return staged.stat().st_size

    def discard(self, unit: Path) -> list[str]:
        """Drop the unit; its staged files never became blobs, so no stored content is left to reclaim."""
        with self._lock:
            self._written.pop(unit, None)
        shutil.rmtree(unit, ignore_errors=True)
        return []

    def has_staged(self, unit: Path, sha256: str) -> bool:
        return (unit / sha256).exists()

    def open_staged(self, unit: Path, sha256: str, size: int) -> Iterator[bytes]:
        return read_chunks(unit / sha256)

    def staged_local_path(self, unit: Path, key: str, sha256: str, size: int) -> Path:
        return unit / sha256

    def _place(self, unit: Path, file: Path, sha256: str) -> None:
        target = unit / sha256
        if target.exists():
            file.unlink(missing_ok=True)  # the same content twice in one unit: once is enough
            return
        try:
            os.replace(file, target)
        except OSError:  # another filesystem: copy, then rename inside the unit so the name stays atomic
            partial = unit / f"partial-{next(self._names)}"
            shutil.copyfile(file, partial)
            _fsync_file(partial)
            os.replace(partial, target)
            file.unlink(missing_ok=True)

    # -- publishing (after the commit) -------------------------------------------------------
    def publish(self, unit: Path, entries: Sequence[tuple[str, str]]) -> None:
        """Make each (key, sha256) visible: the staged content becomes a blob, the key a link to it."""
        crash_points.reached("files.publish")
        with self._lock:
            written = self._written.pop(unit, {})
        contents = sorted({sha256 for _, sha256 in entries})
        half = len(entries) // 2
        targets = [(self.path_of(key), unit / sha256) for key, sha256 in entries]
        with _Workers(len(entries)) as each:
            each(lambda sha256: self._ensure_blob(unit / sha256, sha256), contents)
            each(lambda target: self._link_staged(*target), targets[:half])
            crash_points.reached("files.publish.half")
            each(lambda target: self._link_staged(*target), targets[half:])
            # One round of folder syncs for blobs and keys: a key made durable before its blob is mended by
            # the first read, which gives the blob back from the key's bytes.
            folders = {self.blob_path(sha256).parent for sha256 in contents} | {target.parent for target, _ in targets}
            each(_fsync_dir, sorted(folders))
        self.discard(unit)
        self._remember_written(written, entries)

    def _remember_written(self, written: dict[str, int], entries: Sequence[tuple[str, str]]) -> None:
        """Count as verified the keys whose bytes this process hashed as it wrote them (same inode, and a stat
        signature taken after the last link changed: any later change to the file misses the cache)."""
        for key, sha256 in entries:
            if sha256 not in written:
                continue
            try:
                stat = self.path_of(key).stat()
            except FileNotFoundError:
                continue
            if stat.st_ino == written[sha256]:
                self._remember_verified(_signature(stat), sha256)

    def _link_staged(self, target: Path, staged: Path) -> None:
        try:
            self._link_key(target, self.blob_path(staged.name))
        except FileNotFoundError:  # the blob was dropped meanwhile by a delete that did not see the new record
            self._ensure_blob(staged, staged.name)
            self._link_key(target, self.blob_path(staged.name))

    def finish_publication(self, staged: Path, sha256: str, keys: Sequence[str]) -> int:
        """Publish staged content for committed records whose key lacks it (a sweep after a crash).
        Returns how many keys were linked."""
        self._ensure_blob(staged, sha256)
        blob = self.blob_path(sha256)
        linked = 0
        for key in keys:
            if not _same_file(self.path_of(key), blob):
                self._link_key(self.path_of(key), blob)
                linked += 1
        return linked

    def _ensure_blob(self, staged: Path, sha256: str) -> None:
        """Make `staged` (complete content named by its hash) the blob of `sha256` unless one is there."""
        blob = self.blob_path(sha256)
        if blob.exists():
            return
        blob.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(staged, blob)
        except FileExistsError:
            return
        except OSError:
            # No hard links here: copy into scratch first so the rename stays atomic.
            partial = self.tmp / f"adopt-{sha256}-{next(self._names)}"
            shutil.copyfile(staged, partial)
            _fsync_file(partial)
            os.replace(partial, blob)
        os.chmod(blob, 0o444)

    def _link_key(self, target: Path, blob: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        staged = self.tmp / f"link-{threading.get_ident()}-{next(self._names)}"
        staged.unlink(missing_ok=True)
        try:
            os.link(blob, staged)
        except FileNotFoundError:
            raise
        except OSError:  # no hard links on this filesystem
            shutil.copyfile(blob, staged)
        os.replace(staged, target)

    # -- one-step writes (no record waits on them) -------------------------------------------
    def put(self, key: str, source: Source, *, move: bool = False) -> StoredObject:
        """Store `source` under `key` at once: stage and publish."""
        self.path_of(key)
        unit = self.new_unit()
        try:
            staged = self.stage(unit, source, move=move)
            self.publish(unit, [(key, staged.sha256)])
        finally:
            self.discard(unit)
        return StoredObject(key=key, sha256=staged.sha256, size=staged.size)

    def has_content(self, sha256: str) -> bool:
        return self.blob_path(sha256).exists()

    # -- reads -------------------------------------------------------------------------------
    def verify(self, key: str, sha256: str, size: int) -> None:
        """Raise IntegrityError unless `key` holds the recorded bytes. A key that lost its link, or was
        not linked yet by a writer that committed, is linked again from the stored content first."""
        try:
            self._check(key, sha256, size)
        except IntegrityError:
            if not self._relink(key, sha256):
                raise
            log.warning("storage.key.relinked", key=key, sha256=sha256)
            self._check(key, sha256, size)

    def check_present(self, key: str, sha256: str, size: int) -> None:
        try:
            actual = self.path_of(key).stat().st_size
        except FileNotFoundError:
            raise IntegrityError(f"stored file {key!r} is missing from the data directory") from None
        if actual != size:
            raise IntegrityError(f"stored file {key!r} has {actual} bytes on disk, {size} were recorded")

    def _check(self, key: str, sha256: str, size: int) -> None:
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
        signature = _signature(stat)
        if self._is_verified(signature, sha256):
            return
        actual, _ = _hash_file(path)
        if actual != sha256:
            raise IntegrityError(
                f"stored file {key!r} does not match its recorded sha256 ({actual[:12]}... != {sha256[:12]}...): "
                "it was changed outside modelyard; restore it or delete and upload it again"
            )
        self._restore_blob(path, sha256)
        self._remember_verified(signature, sha256)

    def _remember_verified(self, signature: tuple[int, int, int, int], sha256: str) -> None:
        with self._lock:
            self._verified[signature] = sha256
            self._verified.move_to_end(signature)
            while len(self._verified) > VERIFIED_CACHE_SIZE:
                self._verified.popitem(last=False)

    def _is_verified(self, signature: tuple[int, int, int, int], sha256: str) -> bool:
        with self._lock:
            if self._verified.get(signature) != sha256:
                return False
            self._verified.move_to_end(signature)
            return True

    def _relink(self, key: str, sha256: str) -> bool:
        """Link `key` to the content `sha256` (a blob, or staged by a writer that committed it)."""
        path, blob = self.path_of(key), self.blob_path(sha256)
        if _same_file(path, blob):
            return False  # the blob itself was changed: nothing intact to link from
        if not blob.exists():
            staged = next(iter(self.tmp_root.glob(f"*/*/{sha256}")), None)
            try:
                if staged is None:
                    return False
                self._ensure_blob(staged, sha256)
            except FileNotFoundError:  # its writer published it meanwhile, or dropped it
                if not blob.exists():
                    return False
        self._link_key(path, blob)
        return True

    def _restore_blob(self, path: Path, sha256: str) -> None:
        """Give verified bytes their blob back if it was deleted (so copies by content work again)."""
        blob = self.blob_path(sha256)
        if blob.exists():
            return
        log.warning("storage.blob.restored", sha256=sha256, source=str(path))
        self._ensure_blob(path, sha256)

    def restore_content(self, key: str, sha256: str) -> bool:
        """Hash the file under `key` (no cache) and make it the blob of `sha256` if it matches."""
        path = self.path_of(key)
        try:
            actual, _ = _hash_file(path)
        except OSError:
            return False
        if actual != sha256:
            return False
        self._restore_blob(path, sha256)
        return True

    def inspect(self, key: str, sha256: str, size: int, *, rehash: bool) -> tuple[str, str] | None:
        """What is wrong with a record's bytes, as (kind, message), or None; repairs nothing.
        `rehash=False` hashes only files that are not a hard link to their blob."""
        path, blob = self.path_of(key), self.blob_path(sha256)
        try:
            stat = path.stat()
        except FileNotFoundError:
            return "missing", f"stored file {key!r} is missing from the data directory"
        if stat.st_size != size:
            return "size", f"stored file {key!r} has {stat.st_size} bytes on disk, {size} were recorded"
        try:
            blob_stat = blob.stat()
        except FileNotFoundError:
            return "blob_missing", (
                f"the blob behind {key!r} (.blobs/{sha256[:2]}/{sha256}) is gone: the bytes survive only under "
                "the key, and copies by content fail; reading the file once restores the blob"
            )
        linked = (blob_stat.st_dev, blob_stat.st_ino) == (stat.st_dev, stat.st_ino)
        if (rehash or not linked) and _hash_file(path)[0] != sha256:
            return "sha256", f"stored file {key!r} does not match its recorded sha256"
        if not linked and (blob_stat.st_size != size or (rehash and _hash_file(blob)[0] != sha256)):
            return "blob_damaged", f"the blob behind {key!r} (.blobs/{sha256[:2]}/{sha256}) does not hold its bytes"
        return None

    def open(self, key: str, sha256: str, size: int) -> Iterator[bytes]:
        """Stream the bytes of `key`, hashing them on the way (one pass over the file): the last chunk goes out
        only once the whole matched its sha256, so a reader of altered bytes sees a failed transfer, never a
        complete wrong file. A file whose stat signature was verified (or written here) already is not hashed
        again. A missing key or a wrong size is refused (or its key linked again) before the first byte."""
        try:
            self.check_present(key, sha256, size)
        except IntegrityError:
            self.verify(key, sha256, size)
        handle = self.path_of(key).open("rb")
        try:
            signature = _signature(os.fstat(handle.fileno()))
        except BaseException:
            handle.close()
            raise
        if self._is_verified(signature, sha256):
            return _handle_chunks(handle, CHUNK_SIZE)
        return self._hashed_chunks(key, handle, signature, sha256, size)

    def _hashed_chunks(
        self, key: str, handle: BinaryIO, signature: tuple[int, int, int, int], sha256: str, size: int
    ) -> Iterator[bytes]:
        seen, held = 0, b""
        with handle, BackgroundDigest() as digest:  # hashed on a thread of its own while the chunks go out
            while chunk := handle.read(CHUNK_SIZE):
                digest.update(chunk)
                seen += len(chunk)
                if held:
                    yield held
                held = chunk
            actual = digest.hexdigest()
        if (actual, seen) != (sha256, size):
            log.error("storage.read.sha256_mismatch", key=key, sha256=sha256)
            raise IntegrityError(
                f"stored file {key!r} does not match its recorded sha256 ({actual[:12]}... != "
                f"{sha256[:12]}...): it was changed outside modelyard; restore it or delete and upload it again"
            )
        self._remember_verified(signature, sha256)
        path = self.path_of(key)
        if _same_inode(path, signature[0]):  # still the bytes just hashed: they can give the blob back
            self._restore_blob(path, sha256)
        if held:
            yield held

    def local_path(self, key: str, sha256: str, size: int) -> Path:
        self.verify(key, sha256, size)
        return self.path_of(key)

    def presigned_url(self, sha256: str, *, file_name: str, media_type: str) -> str | None:
        """Files on the local disk are served by the server itself: no URL of their own."""
        return None

    # -- removal -----------------------------------------------------------------------------
    def remove_key(self, key: str) -> None:
        path = self.path_of(key)
        path.unlink(missing_ok=True)
        prune_empty_parents(path.parent, self.root)

    def remove_tree(self, prefix: str) -> None:
        shutil.rmtree(self.path_of(prefix), ignore_errors=True)

    def remove_content(self, sha256: str) -> None:
        self.blob_path(sha256).unlink(missing_ok=True)

    def usage(self) -> dict[str, int]:
        total, used, free = shutil.disk_usage(self.root)
        return {"total_bytes": total, "used_bytes": used, "free_bytes": free}


class _Workers:
    """`each(function, items)` runs a function on every item: on threads when a batch is large (fsync and link
    wait on the disk, not the CPU), in line for a few files, where starting threads would cost more."""

    def __init__(self, batch: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=min(SYNC_THREADS, batch)) if batch > 4 else None

    def __enter__(self) -> Callable[[Callable[[_Item], object], Sequence[_Item]], None]:
        return self._each

    def __exit__(self, *_: object) -> None:
        if self._pool is not None:
            self._pool.shutdown()

    def _each(self, function: Callable[[_Item], object], items: Sequence[_Item]) -> None:
        if self._pool is None:
            for item in items:
                function(item)
        else:
            list(self._pool.map(function, items))


def _same_inode(path: Path, inode: int) -> bool:
    try:
        return path.stat().st_ino == inode
    except OSError:
        return False


def _same_file(first: Path, second: Path) -> bool:
    try:
        return os.path.samefile(first, second)
    except OSError:
        return False


def _chunks(source: Source) -> Iterable[bytes]:
    if isinstance(source, Path):
        yield from read_chunks(source)
    elif hasattr(source, "read"):
        reader: BinaryIO = source  # type: ignore[assignment]
        while chunk := reader.read(CHUNK_SIZE):
            yield chunk
    else:
        yield from source


def _handle_chunks(handle: BinaryIO, size: int) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(size):
            yield chunk


def _signature(stat: os.stat_result) -> tuple[int, int, int, int]:
    """What any write to a file changes (ctime cannot be set back by a user)."""
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)


def read_chunks(path: Path) -> Iterator[bytes]:
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


def prune_empty_parents(folder: Path, root: Path) -> None:
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent
