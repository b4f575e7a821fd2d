"""Projects and their labels: the rules. Flushes only; the request or job commits."""

from __future__ import annotations

from collections.abc import Sequence

import structlog
from sqlalchemy.orm import Session

from modelyard.auth.access import EVERY_PROJECT, ProjectAccess
from modelyard.db.base import utcnow
from modelyard.errors import Conflict, Forbidden, InvalidInput, NotFound
from modelyard.jobs.repository import JobRepository
from modelyard.kit.ids import is_id_prefix
from modelyard.kit.limits import current_limits, over_limit
from modelyard.kit.pagination import Order
from modelyard.projects.models import Label, Project
from modelyard.projects.repository import LabelRepository, ProjectRepository
from modelyard.projects.schemas import (
    LabelCreate,
    LabelsUsage,
    LabelUpdate,
    LabelUsage,
    ProjectCreate,
    ProjectUpdate,
)
from modelyard.storage.service import FileService
from modelyard.tasks import TaskType

log = structlog.get_logger("modelyard.projects")

# Distinct, readable colors handed out in order to labels created without one.
PALETTE = (
    "#e6194b", "#3cb44b", "#ffe119", "#4363d8", "#f58231", "#911eb4", "#46f0f0", "#f032e6",
    "#bcf60c", "#fabebe", "#008080", "#e6beff", "#9a6324", "#fffac8", "#800000", "#aaffc3",
)  # fmt: skip


def project_folder(project_id: str) -> str:
    return f"projects/{project_id}"


class ProjectService:
    def __init__(self, session: Session, files: FileService, actor: str, access: ProjectAccess = EVERY_PROJECT) -> None:
        self.session = session
        self.files = files
        self.actor = actor
        self.access = access
        self.projects = ProjectRepository(session)
        self.labels = LabelRepository(session)

    # -- projects ----------------------------------------------------------------------------
    def get(self, reference: str) -> Project:
        """A project by id, by name, or by a unique prefix of its id."""
        project = self.projects.find(reference)
        if project is None or not self.access.allows(project.id):
            raise NotFound(f"project {reference!r} does not exist: list projects with `modelyard project list`")
        return project

    def ensure_may_create(self) -> None:
        """A token limited to projects could never see a project it created: it may not create one."""
        if self.access.limited:
            raise Forbidden("this token is limited to projects and cannot create projects: use an unlimited token")

    def create(self, request: ProjectCreate) -> Project:
        self.ensure_may_create()
        if self.projects.name_taken(request.name):
            raise Conflict(f"a project named {request.name!r} already exists: choose another name")
        project = self.projects.add(
            Project(
                name=request.name,
                task_type=request.task_type.value,
                description=request.description,
                created_by=self.actor,
                updated_by=self.actor,
            )
        )
        for label in request.labels:
            self.add_label(project, label if isinstance(label, LabelCreate) else LabelCreate(name=label))
        log.info("projects.project.created", project=project.id, name=project.name, task=project.task_type)
        return project

    def page(
        self,
        *,
        task_type: str | None = None,
        name_contains: str | None = None,
        sort: str = "created_at",
        order: Order = "asc",
        limit: int = 50,
        cursor: str | None = None,
    ) -> list[Project]:
        return list(
            self.projects.page(
                task_type=task_type,
                name_contains=name_contains,
                sort=sort,
                order=order,
                limit=limit,
                cursor=cursor,
                project_ids=self.access.project_ids,
            )
        )

    def counts(self, projects: Sequence[Project]) -> dict[str, dict[str, int]]:
        """What each project holds: items, dataset revisions, model revisions, registered models."""
        return self.projects.counts([project.id for project in projects])

    def update(self, project: Project, request: ProjectUpdate) -> Project:
        if request.name is not None and request.name != project.name:
            if self.projects.name_taken(request.name, excluding=project.id):
                raise Conflict(f"a project named {request.name!r} already exists: choose another name")
            log.info("projects.project.renamed", project=project.id, before=project.name, after=request.name)
            project.name = request.name
        if request.description is not None:
            project.description = request.description
        self._touch(project)
        return project

    def delete(self, project: Project) -> None:
        active = JobRepository(self.session).count_active_in_project(project.id)
        if active:
            raise Conflict(
                f"project {project.name!r} has {active} active job(s): cancel them first "
                "(`modelyard job list --project ...`, `modelyard job cancel ID`)"
            )
        self.files.delete_tree(project_folder(project.id))
        self.projects.delete(project)
        log.info("projects.project.deleted", project=project.id, name=project.name)

    def _touch(self, project: Project) -> None:
        project.updated_at = utcnow()
        project.updated_by = self.actor
        self.session.flush()

    # -- labels ------------------------------------------------------------------------------
    def get_label(self, project: Project, reference: str) -> Label:
        for label in project.labels:
            if label.id == reference or label.name == reference:
                return label
        if is_id_prefix(reference):
            starting = [label for label in project.labels if label.id.startswith(reference)]
            if len(starting) == 1:
                return starting[0]
            if starting:
                raise InvalidInput(f"ambiguous id prefix {reference!r}: it matches {len(starting)} labels",
                                   code="ambiguous_id")  # fmt: skip
        raise NotFound(f"project {project.name!r} has no label {reference!r}")

    def add_label(self, project: Project, request: LabelCreate) -> Label:
        self._check_label_name(project, request.name)
        if len(project.labels) >= current_limits().max_labels:
            raise InvalidInput(
                over_limit(f"project {project.name!r}", len(project.labels), "labels", "max_labels"),
                code="limit_exceeded",
            )
        if request.hotkey is not None:
            self._check_hotkey(project, request.hotkey)
        position = max((label.position for label in project.labels), default=-1) + 1
        color = request.color or PALETTE[position % len(PALETTE)]
        label = Label(
            project_id=project.id,
            name=request.name,
            color=color,
            hotkey=request.hotkey,
            position=position,
            created_by=self.actor,
        )
        project.labels.append(label)
        self.labels.add(label)
        self._touch(project)
        log.info("projects.label.created", project=project.id, label=label.id, name=label.name)
        return label

    def update_label(self, project: Project, label: Label, request: LabelUpdate) -> Label:
        fields = request.model_fields_set
        if "name" in fields and request.name is not None and request.name != label.name:
            self._check_label_name(project, request.name, excluding=label.id)
            label.name = request.name
        if "color" in fields and request.color is not None:
            label.color = request.color
        if "hotkey" in fields:
            if request.hotkey is not None:
                self._check_hotkey(project, request.hotkey, excluding=label.id)
            label.hotkey = request.hotkey
        label.updated_at = utcnow()
        self._touch(project)
        log.info("projects.label.updated", project=project.id, label=label.id)
        return label

    def label_usage(self, project: Project) -> LabelsUsage:
        """Items, annotated items, and the items and shapes of each label."""
        from modelyard.datasets.label_usage import annotated_counts, usage_by_label

        used = usage_by_label(self.session, project.id)
        items, annotated = annotated_counts(self.session, project.id)
        return LabelsUsage(
            items=items,
            annotated_items=annotated,
            labels=[
                LabelUsage(label_id=label.id, label_name=label.name, items=used.get(label.id, (0, 0))[0],
                           shapes=used.get(label.id, (0, 0))[1])
                for label in project.labels
            ],
        )  # fmt: skip

    def delete_label(self, project: Project, label: Label, *, force: bool = False) -> None:
        """Refused while annotations use the label, unless `force`, which removes those shapes."""
        from modelyard.datasets.label_usage import label_usage, remove_label_from_annotations

        items, shapes = label_usage(self.session, label.id)
        if items and not force:
            raise Conflict(
                f"label {label.name!r} is used by {shapes} annotation shape(s)/label(s) on {items} dataset item(s): "
                "change those annotations first, or delete with force=true (`--force`) to remove them",
                items=items,
                shapes=shapes,
            )
        if items:
            changed = remove_label_from_annotations(self.session, TaskType(project.task_type), label.id)
            log.info("projects.label.removed_from_annotations", project=project.id, label=label.id, items=changed)
        project.labels.remove(label)
        self.labels.delete(label)
        self._touch(project)
        log.info("projects.label.deleted", project=project.id, label=label.id, name=label.name)

    def _check_label_name(self, project: Project, name: str, *, excluding: str | None = None) -> None:
        for label in project.labels:
            if label.id != excluding and label.name.lower() == name.lower():
                raise Conflict(
                    f"project {project.name!r} already has a label named {label.name!r}: choose another name"
                )

    def _check_hotkey(self, project: Project, hotkey: str, *, excluding: str | None = None) -> None:
        for label in project.labels:
            if label.id != excluding and label.hotkey == hotkey:
                raise Conflict(f"hotkey {hotkey!r} is already used by label {label.name!r} in project {project.name!r}")
