"""The architecture catalog: shipped manifests plus the user's, and the pretrained-weights cache."""

from __future__ import annotations

import builtins
import os
import shutil
import tempfile
from pathlib import Path

from modelyard.architectures.manifest import (
    SHIPPED_MANIFESTS_DIR,
    ArchitectureManifest,
    HyperparameterError,
    ManifestError,
    load_manifests,
    resolve_hyperparameters,
)
from modelyard.architectures.weights import (
    CachedWeights,
    WeightsIntegrityError,
    WeightsUnavailableError,
    import_weights,
    list_cached,
)
from modelyard.config import Settings
from modelyard.errors import ConfigurationError, InvalidInput, NotFound


def user_manifests_dir(settings: Settings) -> Path:
    return settings.data_dir / "model_manifests"


class ArchitectureCatalog:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def all(self) -> dict[str, ArchitectureManifest]:
        # Read on each call: a manifest dropped into the data directory is picked up without a restart.
        try:
            return load_manifests(SHIPPED_MANIFESTS_DIR, user_manifests_dir(self.settings))
        except ManifestError as error:
            raise ConfigurationError(f"architecture manifest is invalid: {error}", code=error.code) from None

    def list(self, task: str | None = None) -> list[ArchitectureManifest]:
        return [manifest for manifest in self.all().values() if task is None or manifest.supports(task)]

    def get(self, architecture_id: str) -> ArchitectureManifest:
        manifests = self.all()
        if architecture_id not in manifests:
            known = ", ".join(manifests)
            raise NotFound(f"architecture {architecture_id!r} does not exist; known architectures: {known}")
        return manifests[architecture_id]

    def for_task(self, architecture_id: str, task: str) -> ArchitectureManifest:
        manifest = self.get(architecture_id)
        if not manifest.supports(task):
            raise InvalidInput(
                f"architecture {architecture_id!r} is for {', '.join(manifest.tasks)}, not {task}; "
                f"list suitable ones with `modelyard architectures list --task {task}`"
            )
        return manifest

    def resolve(self, manifest: ArchitectureManifest, overrides: dict[str, object]) -> dict[str, object]:
        """The manifest defaults with validated overrides; a 400 names the field and the bound."""
        try:
            return resolve_hyperparameters(manifest, overrides)
        except HyperparameterError as error:
            raise InvalidInput(str(error), code=error.code, field=error.field) from None

    # -- pretrained weights ------------------------------------------------------------------
    def cached_weights(self) -> builtins.list[CachedWeights]:
        return list_cached(self.settings.data_dir)

    def staging_file(self) -> Path:
        """A temporary file in the data directory for an upload on its way into the cache."""
        staging = self.settings.data_dir / ".tmp"
        staging.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=staging, prefix="weights-")
        os.close(handle)
        return Path(name)

    def import_weights(self, architecture_id: str, file: Path) -> CachedWeights:
        """Copy a weights file into the cache once its hash matches the manifest's."""
        manifest = self.get(architecture_id)
        try:
            path = import_weights(manifest, self.settings.data_dir, file)
        except WeightsIntegrityError as error:
            message = str(error).replace(str(file), f"the uploaded weights for {architecture_id}")
            raise InvalidInput(message, code="weights_hash_mismatch") from None
        except WeightsUnavailableError as error:
            raise InvalidInput(str(error), code="weights_unavailable") from None
        return CachedWeights(manifest.family, manifest.id, path, path.stat().st_size)

    def delete_weights(self, architecture_id: str) -> None:
        manifest = self.get(architecture_id)
        folder = self.settings.data_dir / "pretrained_weights" / manifest.family / manifest.id
        if not folder.exists():
            raise NotFound(f"no cached weights for {architecture_id}")
        shutil.rmtree(folder)
