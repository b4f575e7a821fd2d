from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ArchitectureRead(BaseModel):
    id: str
    name: str
    tasks: list[str]
    family: str
    description: str
    license: str
    support_status: str
    input: dict[str, Any]
    hyperparameters: dict[str, Any]
    pretrained_weights: dict[str, Any] | None
    stats: dict[str, Any]
    weights_cached: bool

    @classmethod
    def from_manifest(cls, manifest: Any, weights_cached: bool) -> ArchitectureRead:
        data = manifest.model_dump(mode="json")
        return cls(
            id=manifest.id,
            name=manifest.name,
            tasks=list(manifest.tasks),
            family=manifest.family,
            description=manifest.description,
            license=manifest.license,
            support_status=manifest.support_status,
            input=data["input"],
            hyperparameters=data["hyperparameters"],
            pretrained_weights=data["pretrained_weights"],
            stats=data["stats"],
            weights_cached=weights_cached,
        )


class CachedWeightsRead(BaseModel):
    architecture_id: str
    family: str
    path: str
    size_bytes: int
