"""The artifact store's interface, implemented on the local disk (storage/local.py) and on S3 (storage/s3.py)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

CHUNK_SIZE = 1024 * 1024

Source = BinaryIO | Iterable[bytes] | Path


@dataclass(frozen=True)
class StoredObject:
    key: str
    sha256: str
    size: int


@dataclass(frozen=True)
class StagedContent:
    """Bytes staged for a transaction: durable, named by their hash, not yet visible under any key."""

    sha256: str
    size: int


class ArtifactStore(Protocol):
    """Bytes by key. Writes are staged before the commit that records them and published after it;
    reads are checked against the recorded sha256 and size (streams as they go, local copies before use)."""

    backend: str
    owner: str
    data_dir: Path  # the local data directory (on S3 it still holds scratch space, logs and caches)
    tmp_root: Path

    @property
    def tmp(self) -> Path:
        """This writer's local scratch folder (for files being received or built)."""
        ...

    def release(self) -> None:
        """Remove this writer's scratch folder if nothing is left in it (at a clean exit)."""
        ...

    def check_key(self, key: str) -> None:
        """Raise InvalidInput unless `key` is a valid storage key."""
        ...

    def put(self, key: str, source: Source, *, move: bool = False) -> StoredObject:
        """Store `source` under `key` at once (stage and publish), streaming; returns its hash and size."""
        ...

    def new_unit(self) -> Path:
        """A fresh scratch folder of this writer for the files of one transaction."""
        ...

    def stage(self, unit: Path, source: Source, *, move: bool = False) -> StagedContent:
        """Bring bytes into `unit`, durable but invisible; returns their sha256 and size."""
        ...

    def pin(self, unit: Path, sha256: str) -> int:
        """Stage content already stored, so it stays until published; returns its size."""
        ...

    def publish(self, unit: Path, entries: Sequence[tuple[str, str]]) -> None:
        """After the commit: make each (key, sha256) of `unit` visible, then drop the unit."""
        ...

    def stage_files(self, unit: Path, entries: Sequence[tuple[Path, str]]) -> list[int]:
        """Move many files the caller owns and has hashed, as (file, sha256), into `unit`; their sizes."""
        ...

    def discard(self, unit: Path) -> list[str]:
        """After a rollback: drop the unit and what it staged; returns contents that may now be unused."""
        ...

    def has_staged(self, unit: Path, sha256: str) -> bool: ...

    def open_staged(self, unit: Path, sha256: str, size: int) -> Iterator[bytes]:
        """Stream content `unit` staged (not visible under its key until published)."""
        ...

    def staged_local_path(self, unit: Path, key: str, sha256: str, size: int) -> Path:
        """A local path to the bytes `unit` staged for `key`."""
        ...

    def finish_publication(self, staged: Path, sha256: str, keys: Sequence[str]) -> int:
        """Publish staged content for committed records whose key lacks it (a sweep after a crash)."""
        ...

    def restore_content(self, key: str, sha256: str) -> bool:
        """Make the bytes under `key` the stored content of `sha256` again, if they match; whether it did."""
        ...

    def has_content(self, sha256: str) -> bool: ...

    def check_present(self, key: str, sha256: str, size: int) -> None:
        """Raise IntegrityError unless the bytes of `key` are there with this size (reads none of them)."""
        ...

    def verify(self, key: str, sha256: str, size: int) -> None:
        """Raise IntegrityError unless the bytes under `key` have this sha256 and size."""
        ...

    def open(self, key: str, sha256: str, size: int) -> Iterator[bytes]:
        """Stream the bytes under `key` in chunks, hashing them: a mismatch raises IntegrityError before the last
        chunk (so a reader never sees a complete wrong file); a missing key or a wrong size before the first."""
        ...

    def local_path(self, key: str, sha256: str, size: int) -> Path:
        """A verified local path to the bytes (for libraries that need a file name)."""
        ...

    def presigned_url(self, sha256: str, *, file_name: str, media_type: str) -> str | None:
        """A time-limited URL that serves the content without this server, or None where there is none."""
        ...

    def remove_key(self, key: str) -> None: ...

    def remove_tree(self, prefix: str) -> None: ...

    def remove_content(self, sha256: str) -> None:
        """Drop the bytes of `sha256`; callers make sure no key still refers to it."""
        ...

    def usage(self) -> dict[str, int]: ...
