"""The registry's event log: append-only records of every change, and questions about the past
("which version held `production` at 12:00?") answered by replaying it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from modelyard.db.base import utcnow
from modelyard.kit.pagination import Order
from modelyard.registry.models import ModelVersion, RegisteredModel, RegistryEvent
from modelyard.registry.repository import EventRepository

ALIAS_ACTIONS = ("alias.set", "alias.removed")
# Events that put a version into a stage, or take it out of the model.
STAGE_ACTIONS = (
    "version.registered",
    "version.stage_changed",
    "version.deleted",
    "version.transferred_in",
    "version.transferred_out",
    "version.copied_in",
    "model.deleted",
)


class EventLog:
    def __init__(self, session: Session, actor: str) -> None:
        self.events = EventRepository(session)
        self.actor = actor

    def record(
        self,
        model: RegisteredModel,
        action: str,
        *,
        version: ModelVersion | None = None,
        number: int | None = None,
        subject: str | None = None,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        comment: str = "",
    ) -> None:
        self.events.add(
            RegistryEvent(
                model_id=model.id,
                model_name=model.name,
                version_id=version.id if version is not None else None,
                version_number=number if number is not None else (version.number if version is not None else None),
                action=action,
                subject=subject,
                actor=self.actor,
                at=utcnow(),
                before=before,
                after=after,
                comment=comment,
            )
        )

    def page(
        self,
        *,
        model_id: str | None = None,
        model_name: str | None = None,
        action: str | None = None,
        version_number: int | None = None,
        order: Order = "asc",
        limit: int = 100,
        cursor: str | None = None,
        project_ids: frozenset[str] | None = None,
    ) -> Sequence[RegistryEvent]:
        return self.events.page(
            model_id=model_id,
            model_name=model_name,
            action=action,
            version_number=version_number,
            order=order,
            limit=limit,
            cursor=cursor,
            project_ids=project_ids,
        )

    def alias_holder_at(self, model: RegisteredModel, alias: str, at: datetime) -> int | None:
        """The number of the version that held `alias` at `at`, or None."""
        return self.aliases_at(model, at).get(alias)

    def aliases_at(self, model: RegisteredModel, at: datetime) -> dict[str, int]:
        """Every alias held at `at`, with the number of the version that held it."""
        holders: dict[str, int] = {}
        for event in self.events.until(model.id, ALIAS_ACTIONS, at):
            if event.subject is None:
                continue
            if event.action == "alias.set" and event.version_number is not None:
                holders[event.subject] = event.version_number
            else:
                holders.pop(event.subject, None)
        return holders

    def stage_holders_at(self, model: RegisteredModel, stage: str, at: datetime) -> list[int]:
        """The numbers of the versions that were in `stage` at `at`."""
        return self.stages_at(model, at).get(stage, [])

    def stages_at(self, model: RegisteredModel, at: datetime) -> dict[str, list[int]]:
        """Each stage that held a version at `at`, with the numbers of its versions in order."""
        stages: dict[str, tuple[str, int]] = {}
        for event in self.events.until(model.id, STAGE_ACTIONS, at):
            if event.action == "model.deleted":
                stages.clear()
            elif event.version_id is None or event.version_number is None:
                continue
            elif event.action in ("version.deleted", "version.transferred_out"):
                stages.pop(event.version_id, None)
            else:
                new_stage = (event.after or {}).get("stage", "none")
                stages[event.version_id] = (new_stage, event.version_number)
        by_stage: dict[str, list[int]] = {}
        for held, number in stages.values():
            by_stage.setdefault(held, []).append(number)
        return {held: sorted(numbers) for held, numbers in sorted(by_stage.items())}
