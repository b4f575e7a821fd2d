"""The artifact store a configuration asks for: the data directory, or an S3 bucket."""

from __future__ import annotations

from modelyard.config import Settings
from modelyard.storage.base import ArtifactStore
from modelyard.storage.local import LocalArtifactStore


def open_store(settings: Settings, *, owner: str | None = None) -> ArtifactStore:
    """The store of `settings` (MODELYARD_STORAGE_URL), writing as `owner` (a job, or this process)."""
    if settings.storage_url:
        from modelyard.storage.s3 import S3ArtifactStore

        return S3ArtifactStore(settings, owner=owner)
    return LocalArtifactStore(settings.data_dir, owner=owner)
