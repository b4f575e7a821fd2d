"""Reading zip archives safely: nothing may land outside the target folder or fill the disk.

Every member is checked before a byte is written: no absolute path, no `..`, no link, no device;
the total unpacked size, the unpacked/packed ratio and the member count stay under the settings'
limits. Extraction then re-counts the bytes it writes, so a lying header cannot get past the cap.
"""

from __future__ import annotations

import stat
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from modelyard.errors import InvalidInput, PayloadTooLarge
from modelyard.kit.bounds import MAX_NAME_PART_BYTES

# What a damaged archive raises while it is read; each becomes a 400 that names the member, never the
# server's folder (an OSError's text holds the full path it failed on; zipfile raises NotImplementedError for a
# compression method it cannot read).
UNREADABLE = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError)

COPY_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class ArchiveLimits:
    max_bytes: int
    max_ratio: float
    max_members: int


def is_zip(path: Path) -> bool:
    return zipfile.is_zipfile(path)


def extract_zip(archive: Path, target: Path, limits: ArchiveLimits, *, name: str | None = None) -> list[Path]:
    """Unpack `archive` into `target` after checking every member; returns the files written."""
    label = name or archive.name
    try:
        bundle = zipfile.ZipFile(archive)
    except UNREADABLE as error:
        raise InvalidInput(f"{label}: not a readable zip archive ({_reason(error)})", code="unsafe_archive") from None
    with bundle:
        members = [info for info in bundle.infolist() if not info.is_dir()]
        _check_members(label, members, archive.stat().st_size, limits)
        target.mkdir(parents=True, exist_ok=True)
        root = target.resolve()
        written, budget = [], limits.max_bytes
        for info in members:
            destination = (root / _safe_member_path(label, info.filename)).resolve()
            if root not in destination.parents:
                raise InvalidInput(
                    f"{label}: member {info.filename!r} would land outside the target folder", code="unsafe_archive"
                )
            try:
                budget = _copy_member(bundle, info, destination, budget)
            except UNREADABLE as error:
                raise InvalidInput(
                    f"{label}: member {info.filename!r} cannot be unpacked ({_reason(error)})", code="unsafe_archive"
                ) from None
            if budget < 0:
                raise PayloadTooLarge(_too_big(label, limits))
            written.append(destination)
    return written


def _copy_member(bundle: zipfile.ZipFile, info: zipfile.ZipInfo, destination: Path, budget: int) -> int:
    """Write one member; returns the byte budget left (below zero: it stopped at the cap)."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    with bundle.open(info) as source, destination.open("wb") as out:
        while chunk := source.read(COPY_CHUNK):
            budget -= len(chunk)
            if budget < 0:
                return budget
            out.write(chunk)
    return budget


def _reason(error: Exception) -> str:
    """The error without the path it may carry: an OSError's own words, else its text."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error) or type(error).__name__


def _check_members(label: str, members: list[zipfile.ZipInfo], packed_size: int, limits: ArchiveLimits) -> None:
    if len(members) > limits.max_members:
        raise PayloadTooLarge(
            f"{label}: holds {len(members)} files, over the limit of {limits.max_members} "
            "(setting MODELYARD_MAX_ARCHIVE_MEMBERS)"
        )
    total = 0
    for info in members:
        _safe_member_path(label, info.filename)
        mode = info.external_attr >> 16
        if mode and not (stat.S_ISREG(mode) or (mode & 0o170000) == 0):
            kind = "a symbolic link" if stat.S_ISLNK(mode) else "not a regular file"
            raise InvalidInput(
                f"{label}: member {info.filename!r} is {kind}; archives may hold plain files only",
                code="unsafe_archive",
            )
        total += info.file_size
    if total > limits.max_bytes:
        raise PayloadTooLarge(_too_big(label, limits))
    if packed_size and total / packed_size > limits.max_ratio:
        raise PayloadTooLarge(
            f"{label}: unpacks to {total} bytes from {packed_size}, a ratio over {limits.max_ratio:g} "
            "(setting MODELYARD_MAX_ARCHIVE_RATIO); it looks like a zip bomb"
        )


def _safe_member_path(label: str, member: str) -> PurePosixPath:
    normalized = member.replace("\\", "/")
    path = PurePosixPath(normalized)
    if normalized.startswith("/") or (len(normalized) > 1 and normalized[1] == ":") or ".." in path.parts:
        raise InvalidInput(
            f"{label}: member {member!r} has an absolute path or '..'; archives may only hold relative paths "
            "inside their own folder",
            code="unsafe_archive",
        )
    parts = [part for part in path.parts if part not in ("", ".")]
    if not parts:
        raise InvalidInput(f"{label}: member {member!r} has an empty name", code="unsafe_archive")
    if any(not character.isprintable() for character in member):
        raise InvalidInput(f"{label}: member {member!r} has a control character in its name", code="unsafe_archive")
    if any(len(part.encode("utf-8", "surrogateescape")) > MAX_NAME_PART_BYTES for part in parts):
        raise InvalidInput(
            f"{label}: member {member[:60]!r}... has a name part over {MAX_NAME_PART_BYTES} bytes",
            code="unsafe_archive",
        )
    return PurePosixPath(*parts)


def _too_big(label: str, limits: ArchiveLimits) -> str:
    return (
        f"{label}: unpacks to more than {limits.max_bytes} bytes (setting MODELYARD_MAX_ARCHIVE_BYTES); "
        "split it into smaller archives"
    )


# Formats that are compressed already: deflating them again costs time and saves nothing.
COMPRESSED_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".zip", ".gz", ".parquet"}


def zip_folder(folder: Path, archive: Path) -> Path:
    """Zip the contents of `folder` (paths relative to it) into `archive`."""
    archive.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as bundle:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                stored = path.suffix.lower() in COMPRESSED_SUFFIXES
                bundle.write(
                    path,
                    path.relative_to(folder).as_posix(),
                    compress_type=zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED,
                )
    return archive
