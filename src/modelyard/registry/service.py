"""Registered models and their versions: the rules. Flushes only; the request or job commits.

Aliases and stages live in `promotion.py`, version files in `files.py`; all three record every
change in the event log (`history.py`).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import sqlalchemy.exc
import structlog
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from modelyard.auth.access import EVERY_PROJECT, ProjectAccess
from modelyard.db.base import utcnow
from modelyard.errors import Conflict, Forbidden, InvalidInput, NotFound
from modelyard.kit.limits import merged_within_limits
from modelyard.kit.pagination import Order
from modelyard.projects.repository import ProjectRepository
from modelyard.registry.fields import change_tags, label_map_to_json, merged_document, version_file_key, version_folder
from modelyard.registry.history import EventLog
from modelyard.registry.models import (
    ModelVersion,
    ModelVersionFile,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelLabel,
    RegisteredModelTag,
    new_ordered_id,
)
from modelyard.registry.references import parse_selector
from modelyard.registry.repository import ModelRepository, VersionRepository
from modelyard.registry.schemas import MetricFilter, ModelCreate, ModelUpdate, VersionCreate, VersionUpdate
from modelyard.registry.sources import EvaluationSource, RevisionSource, lookup_revision_source
from modelyard.revisions.states import RevisionStatus
from modelyard.storage.service import FileService

log = structlog.get_logger("modelyard.registry")
UPLOADED_SOURCE = {"kind": "uploaded"}
# Stages whose versions people deploy: changing what such a version serves needs `force`.
SERVING_STAGES = ("staging", "production")


class RegistryService:
    def __init__(self, session: Session, files: FileService, actor: str, access: ProjectAccess = EVERY_PROJECT) -> None:
        self.session = session
        self.files = files
        self.actor = actor
        self.access = access
        self.models = ModelRepository(session)
        self.versions = VersionRepository(session)
        self.history = EventLog(session, actor)

    # -- registered models -------------------------------------------------------------------
    def get_model(self, name: str) -> RegisteredModel:
        model = self.models.get_by_name(name)
        if model is None or not self.access.allows(model.project_id):
            raise NotFound(
                f"registered model {name!r} does not exist: list them with `modelyard registry list`, "
                "or create it with `modelyard registry create NAME`"
            )
        return model

    def create_model(self, request: ModelCreate, *, comment: str = "") -> RegisteredModel:
        if self.models.name_taken(request.name):
            raise Conflict(f"a registered model named {request.name!r} already exists: choose another name")
        model = self._insert_model(request, self._owning_project(request.project))
        if model is None:
            raise Conflict(f"a registered model named {request.name!r} already exists: choose another name")
        self.history.record(model, "model.created", after=self._model_fields(model), comment=comment)
        log.info("registry.model.created", model=model.id, name=model.name)
        return model

    def _owning_project(self, reference: str | None) -> str | None:
        """The id of the project a new model belongs to; a token limited to projects must name one of them."""
        if reference is None:
            if self.access.limited:
                raise Forbidden(
                    "this token is limited to projects: a registered model it creates must belong to one of them "
                    "(give `project`)"
                )
            return None
        projects = ProjectRepository(self.session)
        project = projects.get(reference) or projects.get_by_name(reference)
        if project is None or not self.access.allows(project.id):
            raise NotFound(f"project {reference!r} does not exist: list projects with `modelyard project list`")
        return project.id

    def _insert_model(self, request: ModelCreate, project_id: str | None) -> RegisteredModel | None:
        """Insert in a savepoint; None when a concurrent request created the name first."""
        model = RegisteredModel(
            name=request.name,
            project_id=project_id,
            description=request.description,
            model_metadata=dict(request.metadata),
            created_by=self.actor,
            updated_by=self.actor,
            tags=[RegisteredModelTag(key=key, value=value) for key, value in request.tags.items()],
            labels=[RegisteredModelLabel(label=label) for label in dict.fromkeys(request.labels)],
        )
        try:
            with self.session.begin_nested():
                self.models.add(model)
        except sqlalchemy.exc.IntegrityError:
            return None
        return model

    def model_for_registration(self, name: str, *, create: bool, project_id: str | None = None) -> RegisteredModel:
        """The model to register into (its row locked for numbering), created only when asked, then owned
        by `project_id` (the project the registered revision comes from)."""
        model = self.models.get_by_name(name, lock=True)
        if model is not None and not self.access.allows(model.project_id):
            model = None
            create = False  # the name is taken by a model this caller may not see: never reveal it
        if model is None and create:
            if project_id is None:
                self._owning_project(None)  # refuses a global model to a token limited to projects
            model = self._insert_model(ModelCreate(name=name), project_id)
            if model is None:
                model = self.get_model(name)
            else:
                self.history.record(model, "model.created", after=self._model_fields(model))
        if model is None:
            raise NotFound(
                f"registered model {name!r} does not exist: create it first (`modelyard registry create {name}`) "
                "or pass create_model=true (`--create-model`)"
            )
        return model

    def page_models(
        self,
        *,
        name_contains: str | None = None,
        description_contains: str | None = None,
        tags: dict[str, str | None] | None = None,
        labels: list[str] | None = None,
        archived: bool | None = None,
        sort: str = "name",
        order: Order = "asc",
        limit: int = 50,
        cursor: str | None = None,
    ) -> Sequence[RegisteredModel]:
        return self.models.page(
            name_contains=name_contains,
            description_contains=description_contains,
            tags=tags or {},
            labels=labels or [],
            archived=archived,
            sort=sort,
            order=order,
            limit=limit,
            cursor=cursor,
            project_ids=self.access.project_ids,
        )

    def labels_in_use(self) -> list[tuple[str, int]]:
        return self.models.labels_in_use(self.access.project_ids)

    def update_model(self, model: RegisteredModel, request: ModelUpdate) -> RegisteredModel:
        if model.archived and request.archived is not False and request.model_fields_set - {"archived", "comment"}:
            self.ensure_writable(model)  # an archived model only changes by being unarchived
        before = self._model_fields(model)
        if request.name is not None and request.name != model.name:
            if self.models.name_taken(request.name, excluding=model.id):
                raise Conflict(f"a registered model named {request.name!r} already exists: choose another name")
            model.name = request.name
        if request.description is not None:
            model.description = request.description
        if request.add_metadata or request.remove_metadata:
            metadata = copy.deepcopy(model.model_metadata)
            metadata.update(copy.deepcopy(request.add_metadata or {}))
            for key in request.remove_metadata or []:
                metadata.pop(key, None)
            model.model_metadata = merged_within_limits(metadata, "metadata")
        self._change_model_tags(model, request.set_tags or {}, request.remove_tags or [])
        self._change_model_labels(model, request.add_labels or [], request.remove_labels or [])
        if request.archived is not None:
            model.archived = request.archived
        after = self._model_fields(model)
        changed = [key for key in after if after[key] != before[key]]
        if changed:
            self._touch(model)
            action = "model.updated"
            if changed == ["archived"]:
                action = "model.archived" if model.archived else "model.unarchived"
            self.history.record(
                model,
                action,
                before={key: before[key] for key in changed},
                after={key: after[key] for key in changed},
                comment=request.comment,
            )
            log.info("registry.model.updated", model=model.id, fields=changed)
        return model

    def _change_model_tags(self, model: RegisteredModel, set_tags: dict[str, str], remove: list[str]) -> None:
        change_tags(model.tags, RegisteredModelTag, set_tags, remove)
        self.session.flush()

    def _change_model_labels(self, model: RegisteredModel, add: list[str], remove: list[str]) -> None:
        existing = {label.label: label for label in model.labels}
        for label in remove:
            if label in existing:
                model.labels.remove(existing.pop(label))
        for label in add:
            if label not in existing:
                existing[label] = RegisteredModelLabel(label=label)
                model.labels.append(existing[label])
        self.session.flush()

    def delete_model(self, model: RegisteredModel, *, comment: str = "") -> None:
        """Delete the model, its versions and their files (bytes still used elsewhere stay)."""
        versions = self.versions.all_of(model.id)
        for version in versions:
            self.files.delete_tree(version_folder(version.id))
        self.history.record(
            model,
            "model.deleted",
            before={**self._model_fields(model), "versions": [version.number for version in versions]},
            comment=comment,
        )
        self.models.delete(model)
        log.info("registry.model.deleted", model=model.id, name=model.name, versions=len(versions))

    def ensure_writable(self, model: RegisteredModel) -> None:
        if model.archived:
            raise Conflict(
                f"registered model {model.name!r} is archived: unarchive it first "
                f"(`modelyard registry archive {model.name} --undo`)"
            )

    def _touch(self, model: RegisteredModel) -> None:
        model.updated_at = utcnow()
        model.updated_by = self.actor
        self.session.flush()

    def touch_version(self, version: ModelVersion) -> None:
        """Mark a change of the version, and so of its model: `updated_at` follows every change."""
        version.updated_at, version.updated_by = utcnow(), self.actor
        self._touch(version.model)

    def ensure_unused_or_forced(self, version: ModelVersion, change: str, *, force: bool) -> None:
        """Refuse `change` (e.g. "changing its label map") of a version that holds an alias or is in
        staging or production, unless forced: the people deploying it would get different behaviour."""
        if force:
            return
        aliases = [alias.alias for alias in self.versions.aliases_of_version(version.id)]
        stage = version.stage if version.stage in SERVING_STAGES else None
        if not aliases and stage is None:
            return
        holds = []
        if aliases:
            holds.append("alias " + ", ".join(f"@{alias}" for alias in aliases))
        if stage is not None:
            holds.append(f"stage {stage}")
        raise Conflict(
            f"version {version.number} of {version.model.name!r} holds {' and '.join(holds)}: {change} changes "
            "what they serve; pass force=true (`--force`) to do it anyway, or register a new version",
            code="version_in_use",
            aliases=aliases,
            stage=stage,
        )

    @staticmethod
    def _model_fields(model: RegisteredModel) -> dict[str, Any]:
        return {
            "name": model.name,
            "description": model.description,
            "metadata": copy.deepcopy(model.model_metadata),
            "tags": {tag.key: tag.value for tag in model.tags},
            "labels": sorted(label.label for label in model.labels),
            "archived": model.archived,
        }

    # -- versions: lookup --------------------------------------------------------------------
    def get_version(self, model: RegisteredModel, selector: str) -> ModelVersion:
        """A version by number, `latest`, stage (newest in it) or `@alias`."""
        parsed = parse_selector(selector)
        if parsed.number is not None:
            version = self.versions.by_number(model.id, parsed.number)
        elif parsed.alias is not None:
            version = self.versions.by_alias(model.id, parsed.alias)
        else:
            version = self.versions.latest(model.id, stage=parsed.stage)
        if version is None:
            raise NotFound(
                f"registered model {model.name!r} has no version {selector}: "
                f"list them with `modelyard registry versions {model.name}`"
            )
        return version

    def find_version(self, model_name: str, selector: str) -> ModelVersion:
        """`get_version(get_model(name), selector)` in one query (the hot read path)."""
        parsed = parse_selector(selector)
        version = self.versions.by_model_name(model_name, number=parsed.number, alias=parsed.alias, stage=parsed.stage)
        if version is None or not self.access.allows(version.model.project_id):
            return self.get_version(self.get_model(model_name), selector)  # raises the right NotFound
        return version

    def latest_version(self, model: RegisteredModel) -> ModelVersion | None:
        return self.versions.latest(model.id)

    def page_versions(
        self, model: RegisteredModel, *, stage: str | None, order: Order, limit: int, cursor: str | None
    ) -> Sequence[ModelVersion]:
        return self.versions.page_of_model(model.id, stage=stage, order=order, limit=limit, cursor=cursor)

    def search_versions(
        self,
        *,
        model: RegisteredModel | None,
        tags: dict[str, str | None],
        metric: MetricFilter | None,
        order: Order,
        limit: int,
        cursor: str | None,
    ) -> list[tuple[ModelVersion, Any]]:
        return self.versions.search(
            model_id=model.id if model else None, tags=tags, metric=metric, order=order, limit=limit, cursor=cursor,
            project_ids=self.access.project_ids,
        )

    # -- versions: registration --------------------------------------------------------------
    def register(
        self, model_name: str, request: VersionCreate, *, source: dict[str, Any] | None = None
    ) -> ModelVersion:
        """From a revision, or a version whose files come next (`source`: where they come from; uploaded)."""
        if request.revision_id is not None:
            revision = lookup_revision_source(self.session, request.revision_id)
            if not self.access.allows(revision.project_id):
                raise NotFound(f"model revision {request.revision_id!r} does not exist")
            return self.register_revision(
                model_name,
                revision,
                create_model=request.create_model,
                name=request.name,
                description=request.description,
                tags=request.tags,
                comment=request.comment,
            )
        model = self.model_for_registration(model_name, create=request.create_model)
        version = self._new_version(
            model,
            name=request.name,
            description=request.description,
            framework=request.framework.value,
            task_type=request.task_type,
            label_map=label_map_to_json(request.label_map),
            parameters=request.parameters,
            runtime=request.runtime.model_dump(),
            metrics=request.metrics,
            source=dict(source or UPLOADED_SOURCE),
            tags=request.tags,
        )
        self._record_registered(model, version, request.comment)
        return version

    def register_revision(
        self,
        model_name: str,
        source: RevisionSource,
        *,
        create_model: bool = False,
        name: str = "",
        description: str = "",
        tags: dict[str, str] | None = None,
        comment: str = "",
    ) -> ModelVersion:
        """Register a project's model revision: its label map, parameters, metrics, lineage and
        files. The files are linked to the revision's stored bytes, never copied."""
        if source.status != RevisionStatus.SUCCEEDED:
            raise Conflict(
                f"model revision {source.revision_id!r} is {source.status}: only succeeded revisions can be registered"
            )
        stored = [(file.name, self.files.get(file.key)) for file in source.files]
        model = self.model_for_registration(model_name, create=create_model, project_id=source.project_id)
        version = self._new_version(
            model,
            name=name,
            description=description,
            framework=source.framework,
            task_type=source.task_type,
            label_map=label_map_to_json(source.label_map),
            parameters=copy.deepcopy(source.parameters),
            runtime={},
            metrics=dict(source.metrics),
            source=source.lineage(),
            source_revision_id=source.revision_id,
            tags=tags or {},
        )
        for file_name, record in stored:
            self.link_file(version, file_name, record.sha256)
        self._record_registered(model, version, comment)
        return version

    def register_best(
        self,
        model_name: str,
        candidates: Sequence[EvaluationSource],
        *,
        metric: str,
        mode: str = "max",
        dataset_revision_id: str | None = None,
        create_model: bool = True,
        comment: str = "",
    ) -> ModelVersion:
        """Register the succeeded revision with the best `metric` (Quadra's `register_best_model`).

        When that revision is already a version of this model, that version is returned.
        """
        eligible = [
            candidate
            for candidate in candidates
            if candidate.revision.status == RevisionStatus.SUCCEEDED
            and (
                dataset_revision_id is None
                or (candidate.dataset_revision_id or candidate.revision.dataset_revision_id) == dataset_revision_id
            )
        ]
        if not eligible:
            where = f" on dataset revision {dataset_revision_id!r}" if dataset_revision_id else ""
            raise NotFound(
                f"no succeeded model revision{where} has an evaluation of {metric!r}: evaluate revisions first"
            )
        if mode not in ("max", "min"):
            raise InvalidInput(f"mode must be 'max' or 'min', got {mode!r}")
        pick = max if mode == "max" else min
        best = pick(eligible, key=lambda candidate: candidate.metric_value)
        model = self.models.get_by_name(model_name)
        if model is not None and self.access.allows(model.project_id):
            for version in self.versions.all_of(model.id):
                if version.source_revision_id == best.revision.revision_id:
                    return version
        version = self.register_revision(
            model_name,
            best.revision,
            create_model=create_model,
            comment=comment or f"best of {len(eligible)} revisions by {metric} ({mode}) = {best.metric_value:g}",
        )
        if version.metrics.get(metric) != best.metric_value:
            version.metrics = {**version.metrics, metric: best.metric_value}
            self.versions.replace_metrics(version)
        return version

    def _allocate_number(self, model: RegisteredModel) -> int:
        """The next number, under the model row's lock: race-free, never reused."""
        locked = self.models.lock(model)
        number = locked.next_version_number
        locked.next_version_number = number + 1
        locked.num_versions += 1
        locked.updated_at = utcnow()
        locked.updated_by = self.actor
        return number

    def _new_version(self, model: RegisteredModel, *, tags: dict[str, str], **fields: Any) -> ModelVersion:
        self.ensure_writable(model)
        number = self._allocate_number(model)
        version = ModelVersion(
            id=new_ordered_id(),  # known before the flush: the event and metrics refer to it
            model_id=model.id,
            number=number,
            created_by=self.actor,
            updated_by=self.actor,
            tags=[ModelVersionTag(key=key, value=value) for key, value in tags.items()],
            **fields,
        )
        version.model = model
        self.session.add(version)
        # A new version has no files or aliases yet: say so instead of querying for them.
        set_committed_value(version, "aliases", [])
        if "files" not in version.__dict__:
            set_committed_value(version, "files", [])
        self.versions.replace_metrics(version, new=True)
        self.session.flush()  # one flush for the version, its tags and metrics
        return version

    def _record_registered(self, model: RegisteredModel, version: ModelVersion, comment: str) -> None:
        self.history.record(
            model,
            "version.registered",
            version=version,
            after={"stage": version.stage, "source": version.source, "files": [file.name for file in version.files]},
            comment=comment,
        )
        log.info("registry.version.registered", model=model.id, version=version.number, id=version.id)

    def link_file(self, version: ModelVersion, name: str, sha256: str) -> ModelVersionFile:
        """A file of the version holding bytes already stored (same sha256): linked, never copied."""
        record = self.files.save_same_content(version_file_key(version.id, name), sha256, actor=self.actor)
        file = ModelVersionFile(
            name=name, key=record.key, size=record.size, sha256=record.sha256, created_by=self.actor
        )
        version.files.append(file)
        self.session.flush()
        return file

    # -- versions: changes -------------------------------------------------------------------
    def update_version(self, version: ModelVersion, request: VersionUpdate) -> ModelVersion:
        self.ensure_writable(version.model)
        before = self._version_fields(version)
        for field in ("name", "description", "task_type"):
            value = getattr(request, field)
            if value is not None:
                setattr(version, field, value)
        if request.framework is not None:
            version.framework = request.framework.value
        if request.set_labels or request.remove_labels:
            label_map = dict(version.label_map)
            for index in request.remove_labels or []:
                label_map.pop(str(index), None)
            label_map.update(label_map_to_json(request.set_labels or {}))
            label_map = dict(sorted(label_map.items(), key=lambda item: int(item[0])))
            if label_map != version.label_map:
                self.ensure_unused_or_forced(version, "changing its label map", force=request.force)
            version.label_map = label_map
        if request.set_parameters or request.remove_parameters:
            merged = merged_document(version.parameters, request.set_parameters, request.remove_parameters)
            version.parameters = merged_within_limits(merged, "parameters")
        if request.runtime is not None:
            version.runtime = request.runtime.model_dump()
        if request.set_metrics or request.remove_metrics:
            version.metrics = merged_document(version.metrics, request.set_metrics, request.remove_metrics)
            self.versions.replace_metrics(version)
        self._change_version_tags(version, request.set_tags or {}, request.remove_tags or [])
        after = self._version_fields(version)
        changed = [key for key in after if after[key] != before[key]]
        if changed:
            self.touch_version(version)
            self.history.record(
                version.model,
                "version.updated",
                version=version,
                before={key: before[key] for key in changed},
                after={key: after[key] for key in changed},
                comment=request.comment,
            )
        return version

    def _change_version_tags(self, version: ModelVersion, set_tags: dict[str, str], remove: list[str]) -> None:
        change_tags(version.tags, ModelVersionTag, set_tags, remove)
        self.session.flush()

    @staticmethod
    def _version_fields(version: ModelVersion) -> dict[str, Any]:
        return {
            "name": version.name,
            "description": version.description,
            "framework": version.framework,
            "task_type": version.task_type,
            "label_map": dict(version.label_map),
            "parameters": copy.deepcopy(version.parameters),
            "runtime": copy.deepcopy(version.runtime),
            "metrics": dict(version.metrics),
            "tags": {tag.key: tag.value for tag in version.tags},
        }

    def delete_version(self, version: ModelVersion, *, comment: str = "") -> None:
        """Delete a version: aliases on it go, its number is retired, its files are reclaimed
        after commit unless other records still use the same bytes."""
        model = version.model
        self.ensure_writable(model)
        self._drop_aliases(version, comment=f"version {version.number} deleted")
        self.files.delete_tree(version_folder(version.id))
        self.history.record(
            model,
            "version.deleted",
            version=version,
            before={
                "stage": version.stage,
                "files": {file.name: file.sha256 for file in version.files},
                "source": version.source,
            },
            comment=comment,
        )
        locked = self.models.lock(model)
        locked.num_versions -= 1
        self._touch(locked)
        self.versions.delete(version)
        log.info("registry.version.deleted", model=model.id, version=version.number)

    def _drop_aliases(self, version: ModelVersion, *, comment: str) -> None:
        for alias in self.versions.aliases_of_version(version.id):
            self.history.record(
                version.model,
                "alias.removed",
                version=version,
                subject=alias.alias,
                before={"version": version.number},
                comment=comment,
            )
            self.versions.delete_alias(alias)
        self.session.expire(version, ["aliases"])
