"""Files of a version: streamed uploads with sha256 and size, verified downloads, atomic replace."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Sequence
from pathlib import PurePosixPath

import structlog

from modelyard.db.base import utcnow
from modelyard.errors import InvalidInput, NotFound
from modelyard.kit.bounds import MAX_NAME_PART_BYTES
from modelyard.kit.limits import count_within_limit, current_limits, over_limit
from modelyard.registry.fields import version_file_key
from modelyard.registry.models import ModelVersion, ModelVersionFile
from modelyard.registry.schemas import VersionCreate
from modelyard.registry.service import RegistryService
from modelyard.storage.base import Source

log = structlog.get_logger("modelyard.registry")
MAX_FILE_NAME = 512


def check_file_name(name: str) -> str:
    """The name as stored, or InvalidInput before any byte is stored."""
    hint = "use a relative path like 'model.pt' or 'openvino/model.xml'"
    if (
        not name
        or len(name) > MAX_FILE_NAME
        or name.startswith("/")
        or "\\" in name
        or any(part in ("", ".", "..") for part in name.split("/"))
    ):
        raise InvalidInput(f"file name {name!r} is not valid: {hint}")
    if any(not character.isprintable() for character in name):  # NUL, control, format and lone surrogates
        raise InvalidInput(f"file name {name!r} holds a control or unprintable character: {hint}")
    if any(part != part.strip() for part in name.split("/")):
        raise InvalidInput(f"file name {name!r} has a part that starts or ends with a space: {hint}")
    if any(len(part.encode("utf-8", "surrogatepass")) > MAX_NAME_PART_BYTES for part in name.split("/")):
        raise InvalidInput(
            f"file name {name[:40]!r}... has a part over {MAX_NAME_PART_BYTES} bytes: use a shorter name",
            code="file_name_too_long",
        )
    return unicodedata.normalize("NFC", str(PurePosixPath(name)))


class VersionFiles:
    def __init__(self, registry: RegistryService) -> None:
        self.registry = registry
        self.session = registry.session
        self.files = registry.files
        self.history = registry.history
        self.actor = registry.actor

    def get(self, version: ModelVersion, name: str) -> ModelVersionFile:
        name = unicodedata.normalize("NFC", name)  # as stored by check_file_name
        for file in version.files:
            if file.name == name:
                return file
        raise NotFound(
            f"version {version.number} of {version.model.name!r} has no file {name!r}: "
            f"list them with `modelyard registry files {version.model.name}/{version.number}`"
        )

    def upload(self, version: ModelVersion, name: str, source: Source, *, force: bool = False) -> ModelVersionFile:
        """Store a file, replacing one of the same name atomically: readers see the old bytes until
        the new ones are stored whole and committed. A version that holds an alias or a serving
        stage changes its files only with `force`."""
        name = check_file_name(name)
        self.registry.ensure_writable(version.model)
        self.registry.ensure_unused_or_forced(version, f"uploading {name!r}", force=force)
        _ensure_no_folder_clash(name, [file.name for file in version.files if file.name != name])
        self._check_room(version, name)
        stored = self.files.save(version_file_key(version.id, name), source, actor=self.actor)
        existing = next((file for file in version.files if file.name == name), None)
        before = {"sha256": existing.sha256, "size": existing.size} if existing else None
        if existing is None:
            existing = ModelVersionFile(name=name, key=stored.key, size=stored.size, sha256=stored.sha256)
            version.files.append(existing)
        existing.size, existing.sha256 = stored.size, stored.sha256
        existing.created_at, existing.created_by = utcnow(), self.actor
        self.registry.touch_version(version)
        self.history.record(
            version.model,
            "file.replaced" if before else "file.uploaded",
            version=version,
            subject=name,
            before=before,
            after={"sha256": stored.sha256, "size": stored.size},
        )
        log.info("registry.file.stored", version=version.id, name=name, size=stored.size)
        return existing

    def _check_room(self, version: ModelVersion, name: str) -> None:
        """Refused before any byte is stored: a new file past the version's limit (a replacement always fits)."""
        if len(version.files) >= current_limits().max_files_per_version and all(
            file.name != name for file in version.files
        ):
            raise InvalidInput(
                over_limit(f"version {version.number} of {version.model.name!r}", len(version.files), "files",
                           "max_files_per_version"),
                code="limit_exceeded",
            )  # fmt: skip

    def delete(self, version: ModelVersion, name: str, *, force: bool = False, comment: str = "") -> None:
        self.registry.ensure_writable(version.model)
        file = self.get(version, name)
        self.registry.ensure_unused_or_forced(version, f"deleting {name!r}", force=force)
        self.files.delete(file.key)
        version.files.remove(file)
        self.registry.touch_version(version)
        self.history.record(
            version.model,
            "file.deleted",
            version=version,
            subject=name,
            before={"sha256": file.sha256, "size": file.size},
            comment=comment,
        )

    def open(self, file: ModelVersionFile) -> Iterator[bytes]:
        """Verify the bytes against the recorded sha256 (IntegrityError if altered), then stream."""
        return self.files.open(self.files.get(file.key))

    def download_url(self, file: ModelVersionFile) -> str | None:
        """A presigned URL of the object store for the file, or None when the server streams it itself."""
        return self.files.download_url(self.files.get(file.key), file_name=file.name.rsplit("/", 1)[-1])


def register_with_files(
    registry: RegistryService, model_name: str, request: VersionCreate, uploads: Sequence[tuple[str, Source]]
) -> ModelVersion:
    """Register a version and store its files in one transaction: when any file is refused or fails
    to store, the request rolls back whole, so no version is left without its files and no number
    is spent (stored bytes are removed by the rollback)."""
    names = [check_file_name(name) for name, _ in uploads]  # every name checked before anything is stored
    count_within_limit(len(names), "the version", "files", "max_files_per_version")
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise InvalidInput(f"file names must differ within a version; given more than once: {duplicates}")
    for index, name in enumerate(names):
        _ensure_no_folder_clash(name, names[:index])
    version = registry.register(model_name, request)
    files = VersionFiles(registry)
    for name, (_, source) in zip(names, uploads, strict=True):
        files.upload(version, name, source)
    return version


def _ensure_no_folder_clash(name: str, others: Sequence[str]) -> None:
    """`openvino` and `openvino/model.xml` cannot both be files: one would have to be a folder."""
    for other in others:
        if other.startswith(f"{name}/") or name.startswith(f"{other}/"):
            raise InvalidInput(
                f"file name {name!r} clashes with {other!r}: a name cannot be both a file and a folder",
                code="file_name_clash",
            )
