"""Artifact store: streaming, atomic, sha256-verified files, each distinct content stored once."""

from modelyard.storage.base import ArtifactStore, StoredObject
from modelyard.storage.local import LocalArtifactStore

__all__ = ["ArtifactStore", "LocalArtifactStore", "StoredObject"]
