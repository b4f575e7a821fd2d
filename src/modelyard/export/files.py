"""Per-variant files manifest: every file a variant consists of, with its size and sha256."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

FILES_MANIFEST_NAME = "files.json"


@dataclass(frozen=True)
class FileEntry:
    name: str
    """Path relative to the variant folder, with forward slashes."""
    size: int
    sha256: str


def sha256_of(path: Path) -> str:
    with path.open("rb") as source:
        return hashlib.file_digest(source, "sha256").hexdigest()


def describe_files(folder: Path, names: list[str]) -> list[FileEntry]:
    return [FileEntry(name, (folder / name).stat().st_size, sha256_of(folder / name)) for name in sorted(names)]


def write_files_manifest(folder: Path, names: list[str]) -> list[FileEntry]:
    """Describe ``names`` (relative to ``folder``) and write them to ``files.json``, which lists everything else."""
    entries = describe_files(folder, names)
    content = {"files": [asdict(entry) for entry in entries]}
    (folder / FILES_MANIFEST_NAME).write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")
    return entries


def read_files_manifest(folder: Path) -> list[FileEntry]:
    content = json.loads((folder / FILES_MANIFEST_NAME).read_text(encoding="utf-8"))
    return [FileEntry(**entry) for entry in content["files"]]


def verify_files(folder: Path) -> list[str]:
    """Names whose size or sha256 no longer match the manifest (empty when the variant is intact)."""
    return [
        entry.name
        for entry in read_files_manifest(folder)
        if not (folder / entry.name).is_file()
        or (folder / entry.name).stat().st_size != entry.size
        or sha256_of(folder / entry.name) != entry.sha256
    ]
