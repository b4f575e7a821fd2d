"""HTTP for projects and labels: translate requests, call the service, shape responses."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from modelyard.api.deps import Projects
from modelyard.auth.dependencies import Requires
from modelyard.kit.page import Page
from modelyard.kit.pagination import Order, split_page
from modelyard.projects.models import Project
from modelyard.projects.schemas import (
    LabelCreate,
    LabelRead,
    LabelsUsage,
    LabelUpdate,
    ProjectCounts,
    ProjectCreate,
    ProjectRead,
    ProjectSort,
    ProjectUpdate,
)
from modelyard.projects.service import ProjectService
from modelyard.tasks import TaskType

router = APIRouter(prefix="/projects", tags=["projects"])


def _read(service: ProjectService, projects: list[Project]) -> list[ProjectRead]:
    """Projects as answered, each with its counts."""
    counts = service.counts(projects)
    return [
        ProjectRead.model_validate(project).model_copy(update={"counts": ProjectCounts(**counts[project.id])})
        for project in projects
    ]


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ProjectRead, dependencies=[Requires.write])
def create_project(body: ProjectCreate, service: Projects) -> ProjectRead:
    return _read(service, [service.create(body)])[0]


@router.get("", response_model=Page[ProjectRead], dependencies=[Requires.read])
def list_projects(
    service: Projects,
    task_type: TaskType | None = None,
    name: Annotated[str | None, Query(description="Substring of the name, case-insensitive.")] = None,
    sort: ProjectSort = "created_at",
    order: Order = "asc",
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    cursor: str | None = None,
) -> Page[ProjectRead]:
    rows = service.page(
        task_type=task_type.value if task_type else None,
        name_contains=name,
        sort=sort,
        order=order,
        limit=limit,
        cursor=cursor,
    )
    items, next_cursor = split_page(rows, limit, sort)
    return Page[ProjectRead](items=_read(service, list(items)), next_cursor=next_cursor)


@router.get("/{project}", response_model=ProjectRead, dependencies=[Requires.read])
def get_project(project: str, service: Projects) -> ProjectRead:
    return _read(service, [service.get(project)])[0]


@router.patch("/{project}", response_model=ProjectRead, dependencies=[Requires.write])
def update_project(project: str, body: ProjectUpdate, service: Projects) -> ProjectRead:
    return _read(service, [service.update(service.get(project), body)])[0]


@router.delete("/{project}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[Requires.admin])
def delete_project(project: str, service: Projects) -> Response:
    service.delete(service.get(project))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{project}/labels", response_model=list[LabelRead], dependencies=[Requires.read])
def list_labels(project: str, service: Projects) -> list[LabelRead]:
    return [LabelRead.model_validate(label) for label in service.get(project).labels]


@router.get("/{project}/labels:usage", response_model=LabelsUsage, dependencies=[Requires.read])
def label_usage(project: str, service: Projects) -> LabelsUsage:
    """How many items are annotated, and how many items and shapes use each label (what deleting it removes)."""
    return service.label_usage(service.get(project))


@router.post(
    "/{project}/labels", status_code=status.HTTP_201_CREATED, response_model=LabelRead, dependencies=[Requires.write]
)
def add_label(project: str, body: LabelCreate, service: Projects) -> LabelRead:
    return LabelRead.model_validate(service.add_label(service.get(project), body))


@router.patch("/{project}/labels/{label}", response_model=LabelRead, dependencies=[Requires.write])
def update_label(project: str, label: str, body: LabelUpdate, service: Projects) -> LabelRead:
    found = service.get(project)
    return LabelRead.model_validate(service.update_label(found, service.get_label(found, label), body))


@router.delete("/{project}/labels/{label}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[Requires.write])
def delete_label(
    project: str,
    label: str,
    service: Projects,
    force: Annotated[bool, Query(description="Also remove the shapes and labels of annotations that use it.")] = False,
) -> Response:
    """Delete a label. Refused (409, naming how many) while annotations use it, unless `force`."""
    found = service.get(project)
    service.delete_label(found, service.get_label(found, label), force=force)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
