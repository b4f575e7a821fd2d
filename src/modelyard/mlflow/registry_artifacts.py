"""The files of registered versions behind MLflow's artifact proxy, at `registry/versions/<version id>[/path]`:
the folder `get-download-uri` names, so `models:/name@alias` downloads read a version's own verified files.

The proxy hands paths under `registry/versions/` here (`is_version_path`); files are read back checked against
their recorded sha256, and a token limited to projects sees only its projects' versions.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from modelyard.errors import NotFound
from modelyard.mlflow.registry_views import REGISTRY_ARTIFACT_ROOT
from modelyard.registry.files import VersionFiles
from modelyard.registry.models import ModelVersion, ModelVersionFile
from modelyard.registry.service import RegistryService


def is_version_path(path: str | None) -> bool:
    return (path or "").strip("/").startswith(f"{REGISTRY_ARTIFACT_ROOT}/")


class VersionArtifacts:
    def __init__(self, registry: RegistryService) -> None:
        self.registry = registry

    def _locate(self, path: str) -> tuple[ModelVersion, str]:
        rest = path.strip("/")[len(REGISTRY_ARTIFACT_ROOT) + 1 :]
        version_id, _, inner = rest.partition("/")
        version = self.registry.versions.get(version_id)
        if version is None or not self.registry.access.allows(version.model.project_id):
            raise NotFound(f"no registered version has the artifact folder {path!r}")
        return version, inner.strip("/")

    def listing(self, path: str) -> list[dict[str, Any]]:
        """The entries directly inside `path`, as the proxy lists them; none when `path` names a file."""
        version, inner = self._locate(path)
        prefix = f"{inner}/" if inner else ""
        entries: dict[str, dict[str, Any]] = {}
        for file in version.files:
            if file.name == inner:
                return []
            if not file.name.startswith(prefix):
                continue
            head, slash, _ = file.name[len(prefix) :].partition("/")
            entries[head] = {"path": head, "is_dir": True} if slash else {
                "path": head, "is_dir": False, "file_size": file.size
            }  # fmt: skip
        if not entries and inner:
            raise NotFound(f"version {version.number} of {version.model.name!r} has no file or folder {inner!r}")
        return [entries[name] for name in sorted(entries)]

    def open(self, path: str) -> tuple[ModelVersionFile, Iterator[bytes]]:
        """The file at `path` and its bytes, checked against the recorded sha256 as they are read."""
        version, inner = self._locate(path)
        files = VersionFiles(self.registry)
        file = files.get(version, inner)
        return file, files.open(file)
