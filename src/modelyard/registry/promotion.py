"""Aliases and stages: which version people deploy. Every move is recorded; `?at=` answers come
from replaying those records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog

from modelyard.db.base import utcnow
from modelyard.errors import Conflict, InvalidInput
from modelyard.registry.models import ModelAlias, ModelVersion, RegisteredModel
from modelyard.registry.references import LATEST
from modelyard.registry.schemas import AliasSet, StageChange
from modelyard.registry.service import RegistryService

log = structlog.get_logger("modelyard.registry")


def label_map_diff(current: dict[str, str], proposed: dict[str, str]) -> dict[str, Any]:
    """What changes for a consumer of the alias: labels added, removed and renamed (by index)."""
    added = {index: name for index, name in proposed.items() if index not in current}
    removed = {index: name for index, name in current.items() if index not in proposed}
    renamed = {
        index: {"from": current[index], "to": proposed[index]}
        for index in current
        if index in proposed and current[index] != proposed[index]
    }
    return {"added": added, "removed": removed, "renamed": renamed}


class PromotionService:
    def __init__(self, registry: RegistryService) -> None:
        self.registry = registry
        self.session = registry.session
        self.versions = registry.versions
        self.history = registry.history
        self.actor = registry.actor

    # -- aliases -----------------------------------------------------------------------------
    def set_alias(self, model: RegisteredModel, alias: str, request: AliasSet) -> ModelVersion:
        if alias == LATEST:
            raise InvalidInput("'latest' is reserved: it always means the newest version; choose another alias")
        self.registry.ensure_writable(model)
        self.registry.models.lock(model)  # alias moves of one model queue here (PostgreSQL)
        version = self.registry.get_version(model, str(request.version))
        current = self.versions.alias(model.id, alias)
        holder = self.versions.get(current.version_id) if current else None
        if "expected_version" in request.model_fields_set:
            held = holder.number if holder else None
            if held != request.expected_version:
                expected = "no version" if request.expected_version is None else f"version {request.expected_version}"
                actual = f"version {held}" if held is not None else "no version"
                raise Conflict(
                    f"alias {alias!r} of {model.name!r} is held by {actual}, not {expected}: "
                    "read it again and retry with the current holder",
                    code="alias_changed",
                    current_version=held,
                )
        if holder is not None and holder.id == version.id:
            return version
        if holder is not None and not request.force:
            diff = label_map_diff(holder.label_map, version.label_map)
            if any(diff.values()):
                raise Conflict(
                    f"version {version.number} labels differ from version {holder.number}, which holds "
                    f"{alias!r} now ({_describe_diff(diff)}): pass force=true (`--force`) to move it anyway",
                    code="label_map_changed",
                    diff=diff,
                    current_version=holder.number,
                )
        if current is None:
            self.versions.add_alias(
                ModelAlias(model_id=model.id, alias=alias, version_id=version.id, updated_by=self.actor)
            )
        else:
            current.version_id, current.updated_at, current.updated_by = version.id, utcnow(), self.actor
            self.session.flush()
        for touched in (holder, version):
            if touched is not None:
                self.session.expire(touched, ["aliases"])
                self.registry.touch_version(touched)
        self.history.record(
            model,
            "alias.set",
            version=version,
            subject=alias,
            before={"version": holder.number} if holder else None,
            after={"version": version.number},
            comment=request.comment,
        )
        log.info("registry.alias.set", model=model.id, alias=alias, version=version.number)
        return version

    def remove_alias(
        self, model: RegisteredModel, alias: str, *, expected_version: int | None = None, comment: str = ""
    ) -> None:
        self.registry.ensure_writable(model)
        self.registry.models.lock(model)
        current = self.versions.alias(model.id, alias)
        if current is None:
            raise Conflict(f"registered model {model.name!r} has no alias {alias!r}", code="alias_changed")
        holder = self.versions.get(current.version_id)
        assert holder is not None
        if expected_version is not None and holder.number != expected_version:
            raise Conflict(
                f"alias {alias!r} of {model.name!r} is held by version {holder.number}, not {expected_version}",
                code="alias_changed",
                current_version=holder.number,
            )
        self.versions.delete_alias(current)
        self.session.expire(holder, ["aliases"])
        self.registry.touch_version(holder)
        self.history.record(
            model, "alias.removed", version=holder, subject=alias, before={"version": holder.number}, comment=comment
        )

    def aliases(self, model: RegisteredModel) -> dict[str, int]:
        numbers = {version.id: version.number for version in self.versions.all_of(model.id)}
        return {alias.alias: numbers[alias.version_id] for alias in self.versions.aliases_of_model(model.id)}

    def alias_at(self, model: RegisteredModel, alias: str, at: datetime) -> int | None:
        return self.history.alias_holder_at(model, alias, at)

    # -- stages ------------------------------------------------------------------------------
    def change_stage(self, version: ModelVersion, request: StageChange) -> ModelVersion:
        model = version.model
        self.registry.ensure_writable(model)
        self.registry.models.lock(model)
        target = request.stage.value
        if request.archive_existing and target not in ("none", "archived"):
            for other in self.versions.in_stage(model.id, target):
                if other.id != version.id:
                    self._move(other, "archived", f"archived: version {version.number} moved to {target}")
        if version.stage != target:
            self._move(version, target, request.comment)
        self.registry._touch(model)
        return version

    def _move(self, version: ModelVersion, stage: str, comment: str) -> None:
        before = version.stage
        version.stage, version.updated_at, version.updated_by = stage, utcnow(), self.actor
        self.session.flush()
        self.history.record(
            version.model,
            "version.stage_changed",
            version=version,
            subject=stage,
            before={"stage": before},
            after={"stage": stage},
            comment=comment,
        )
        log.info("registry.version.stage", model=version.model_id, version=version.number, stage=stage)

    def stage_holders(self, model: RegisteredModel, stage: str, at: datetime | None) -> list[int]:
        if at is None:
            return [version.number for version in self.versions.in_stage(model.id, stage)]
        return self.history.stage_holders_at(model, stage, at)

    # -- the whole picture -------------------------------------------------------------------
    def holders(self, model: RegisteredModel, at: datetime | None) -> tuple[dict[str, int], dict[str, list[int]]]:
        """Who holds every alias and who is in every stage but `none`: now, or at `at` (replayed from the history)."""
        if at is not None:
            stages = self.history.stages_at(model, at)
            stages.pop("none", None)
            return self.history.aliases_at(model, at), stages
        now: dict[str, list[int]] = {}
        for stage, number in self.versions.staged_numbers(model.id):
            now.setdefault(stage, []).append(number)
        return self.aliases(model), dict(sorted(now.items()))


def _describe_diff(diff: dict[str, Any]) -> str:
    parts = []
    if diff["added"]:
        parts.append("added " + ", ".join(f"{index}:{name}" for index, name in diff["added"].items()))
    if diff["removed"]:
        parts.append("removed " + ", ".join(f"{index}:{name}" for index, name in diff["removed"].items()))
    if diff["renamed"]:
        parts.append("renamed " + ", ".join(f"{index}:{c['from']}->{c['to']}" for index, c in diff["renamed"].items()))
    return "; ".join(parts)
