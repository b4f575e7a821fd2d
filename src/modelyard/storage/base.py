"""The artifact store's interface. Local disk now; an S3 backend implements the same methods."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
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


class ArtifactStore(Protocol):
    """Bytes by key. Writes are atomic and content-addressed; reads verify before serving."""

    def put(self, key: str, source: Source, *, move: bool = False) -> StoredObject:
        """Store `source` under `key` (replacing what was there), streaming; returns its hash and size."""
        ...

    def link(self, key: str, sha256: str) -> StoredObject:
        """Make `key` show content already stored under `sha256`, without storing the bytes again."""
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
