"""What MLflow shows of registered models and versions, as plain rows: searches read them with Core queries
(no ORM objects, the costliest part of a page of a hundred models and their latest versions), single lookups
take them from the registry's own objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from modelyard.registry.models import ModelVersion, RegisteredModel


@dataclass(frozen=True)
class ModelRow:
    id: str
    name: str
    description: str
    created_at: datetime
    updated_at: datetime
    updated_by: str
    tags: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, model: RegisteredModel) -> ModelRow:
        return cls(model.id, model.name, model.description, model.created_at, model.updated_at, model.updated_by,
                   {tag.key: tag.value for tag in model.tags})  # fmt: skip


@dataclass(frozen=True)
class VersionRow:
    id: str
    model_id: str
    model_name: str
    number: int
    description: str
    stage: str
    source: dict[str, Any]
    source_revision_id: str | None
    created_at: datetime
    updated_at: datetime
    updated_by: str
    tags: dict[str, str] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, version: ModelVersion) -> VersionRow:
        return cls(
            version.id, version.model_id, version.model.name, version.number, version.description, version.stage,
            version.source or {}, version.source_revision_id, version.created_at, version.updated_at,
            version.updated_by, {tag.key: tag.value for tag in version.tags},
            sorted(alias.alias for alias in version.aliases),
        )  # fmt: skip
