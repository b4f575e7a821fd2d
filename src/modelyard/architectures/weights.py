"""Pretrained-weights cache: ``DATA_DIR/pretrained_weights/<family>/<architecture>/weights.pt``.

Weights are downloaded once (or imported by hand on machines without internet), checked against the manifest's
sha256, and written through a temporary file that is renamed into place, so a crash or a bad download never
leaves a file under the real name. Where no digest is published (``digest_recorded_at_download``), the first
stored file's sha256 is written beside it as ``weights.pt.sha256`` and the cached file is checked against that.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from modelyard.architectures.manifest import ArchitectureManifest, PretrainedWeights

CHUNK_BYTES = 1024 * 1024
DownloadProgress = Callable[[int, int | None], None]
"""Called with (bytes received so far, total bytes when the server says)."""


class WeightsUnavailableError(RuntimeError):
    """The weights are not cached and cannot be fetched; the message says how to import them offline."""

    code = "weights_unavailable"


class WeightsIntegrityError(ValueError):
    """A file's sha256 does not match the manifest; nothing was stored."""

    code = "weights_hash_mismatch"


@dataclass(frozen=True)
class CachedWeights:
    family: str
    architecture_id: str
    path: Path
    size_bytes: int


def weights_path(manifest: ArchitectureManifest, data_dir: Path) -> Path:
    return data_dir / "pretrained_weights" / manifest.family / manifest.id / "weights.pt"


def recorded_digest_path(target: Path) -> Path:
    """Where the sha256 of weights without a published digest is recorded when they are stored."""
    return target.with_name(target.name + ".sha256")


def _cache_is_intact(target: Path, published: PretrainedWeights) -> bool:
    digest = file_sha256(target)
    if not published.digest_recorded_at_download:
        return published.matches(digest)
    record = recorded_digest_path(target)
    return record.is_file() and record.read_text(encoding="utf-8").strip() == digest


def ensure_weights(
    manifest: ArchitectureManifest,
    data_dir: Path,
    allow_download: bool = True,
    timeout_seconds: float = 60.0,
    progress: DownloadProgress | None = None,
) -> Path:
    """Path of verified pretrained weights, downloading them on first use."""
    published = _published_weights(manifest)
    target = weights_path(manifest, data_dir)
    if target.is_file():
        if _cache_is_intact(target, published):
            return target
        # A cached file that no longer matches (disk fault, manual edit) is worse than none: drop it and refetch.
        target.unlink()
    if not allow_download:
        raise WeightsUnavailableError(_offline_instructions(manifest, target, "downloads are disabled"))
    try:
        with urllib.request.urlopen(published.url, timeout=timeout_seconds) as response:
            total = _content_length(response)
            _store_verified(response, target, published, source_name=published.url, total=total, progress=progress)
    except (urllib.error.URLError, OSError) as error:
        raise WeightsUnavailableError(_offline_instructions(manifest, target, f"download failed: {error}")) from error
    return target


def import_weights(manifest: ArchitectureManifest, data_dir: Path, file: Path) -> Path:
    """Copy a weights file obtained elsewhere into the cache after checking its hash."""
    published = _published_weights(manifest)
    target = weights_path(manifest, data_dir)
    with file.open("rb") as source:
        _store_verified(source, target, published, source_name=str(file), total=file.stat().st_size, progress=None)
    return target


def list_cached(data_dir: Path) -> list[CachedWeights]:
    root = data_dir / "pretrained_weights"
    return [
        CachedWeights(
            family=path.parent.parent.name, architecture_id=path.parent.name, path=path, size_bytes=path.stat().st_size
        )
        for path in sorted(root.glob("*/*/weights.pt"))
    ]


def file_sha256(path: Path) -> str:
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def _published_weights(manifest: ArchitectureManifest) -> PretrainedWeights:
    if manifest.pretrained_weights is None:
        raise WeightsUnavailableError(
            f"architecture {manifest.id} publishes no pretrained weights; train it from scratch instead"
        )
    return manifest.pretrained_weights


def _offline_instructions(manifest: ArchitectureManifest, target: Path, reason: str) -> str:
    url = manifest.pretrained_weights.url if manifest.pretrained_weights else "(none)"
    return (
        f"pretrained weights for {manifest.id} are not cached ({reason}). On a machine with internet access "
        f"download {url}, then run `modelyard weights import {manifest.id} FILE`, "
        f"or copy the file to {target}"
    )


def _content_length(response: object) -> int | None:
    length = getattr(response, "headers", {}).get("Content-Length")
    return int(length) if length and length.isdigit() else None


def _store_verified(
    source: BinaryIO,
    target: Path,
    published: PretrainedWeights,
    source_name: str,
    total: int | None,
    progress: DownloadProgress | None,
) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary_name = tempfile.mkstemp(prefix=".weights-", suffix=".part", dir=target.parent)
    temporary = Path(temporary_name)
    try:
        with os.fdopen(descriptor, "wb") as sink:
            digest = _copy_hashing(source, sink, total, progress)
            sink.flush()
            os.fsync(sink.fileno())
        if not published.matches(digest):
            raise WeightsIntegrityError(
                f"{source_name} has sha256 {digest} but the manifest expects {published.expected}; nothing was stored"
            )
        record = recorded_digest_path(target)
        if published.digest_recorded_at_download:
            # The record goes first: a crash between the two renames leaves a record without weights (refetched),
            # never weights whose record is missing or stale.
            _write_atomically(record, f"{digest}\n".encode())
        os.replace(temporary, target)
        _fsync_directory(target.parent)
    finally:
        temporary.unlink(missing_ok=True)


def _write_atomically(path: Path, content: bytes) -> None:
    descriptor, temporary_name = tempfile.mkstemp(prefix=".record-", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as sink:
            sink.write(content)
            sink.flush()
            os.fsync(sink.fileno())
        os.replace(temporary_name, path)
    finally:
        Path(temporary_name).unlink(missing_ok=True)


def _copy_hashing(source: BinaryIO, sink: BinaryIO, total: int | None, progress: DownloadProgress | None) -> str:
    digest = hashlib.sha256()
    received = 0
    while chunk := source.read(CHUNK_BYTES):
        digest.update(chunk)
        sink.write(chunk)
        received += len(chunk)
        if progress is not None:
            progress(received, total)
    return digest.hexdigest()


def _fsync_directory(directory: Path) -> None:
    # The rename is durable only once the directory entry itself reaches the disk.
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


__all__ = [
    "CachedWeights",
    "WeightsIntegrityError",
    "WeightsUnavailableError",
    "ensure_weights",
    "file_sha256",
    "import_weights",
    "list_cached",
    "recorded_digest_path",
    "weights_path",
]
