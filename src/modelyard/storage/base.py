"""The artifact store's interface. Local disk now; an S3 backend implements the same methods."""

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
    reads verify before serving."""

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

    def discard(self, unit: Path) -> None:
        """After a rollback: drop the unit and what it staged."""
        ...

    def has_content(self, sha256: str) -> bool: ...

    def verify(self, key: str, sha256: str, size: int) -> None:
        """Raise IntegrityError unless the bytes under `key` have this sha256 and size."""
        ...

    def open(self, key: str, sha256: str, size: int) -> Iterator[bytes]:
        """Verify, then stream the bytes under `key` in chunks."""
        ...

    def local_path(self, key: str, sha256: str, size: int) -> Path:
        """A verified local path to the bytes (for libraries that need a file name)."""
        ...

    def remove_key(self, key: str) -> None: ...

    def remove_content(self, sha256: str) -> None:
        """Drop the bytes of `sha256`; callers make sure no key still refers to it."""
        ...

    def usage(self) -> dict[str, int]: ...
