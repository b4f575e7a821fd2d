from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from modelyard.datasets.models import DatasetItem, DatasetRevision
from modelyard.kit.ids import one_by_id_prefix
from modelyard.kit.pagination import Order, keyset_page
from modelyard.projects.models import Label, Project
from modelyard.registry.models import RegisteredModel
from modelyard.revisions.models import ModelRevision

# What a project holds, by the column that ties each kind of thing to its project.
COUNTED: dict[str, InstrumentedAttribute[str] | InstrumentedAttribute[str | None]] = {
    "items": DatasetItem.project_id,
    "dataset_revisions": DatasetRevision.project_id,
    "model_revisions": ModelRevision.project_id,
    "registered_models": RegisteredModel.project_id,
}


class ProjectRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, project_id: str) -> Project | None:
        return self.session.get(Project, project_id)

    def find(self, reference: str) -> Project | None:
        """A project by id, by name, or by a unique prefix of its id, in that order."""
        return (
            self.get(reference)
            or self.get_by_name(reference)
            or one_by_id_prefix(self.session, Project, reference, what="project")
        )

    def get_by_name(self, name: str) -> Project | None:
        return self.session.scalar(select(Project).where(Project.name == name))

    def name_taken(self, name: str, *, excluding: str | None = None) -> bool:
        statement = select(Project.id).where(func.lower(Project.name) == name.lower())
        if excluding:
            statement = statement.where(Project.id != excluding)
        return self.session.scalar(statement) is not None

    def page(
        self,
        *,
        task_type: str | None,
        name_contains: str | None,
        sort: str,
        order: Order,
        limit: int,
        cursor: str | None,
        project_ids: frozenset[str] | None = None,
    ) -> Sequence[Project]:
        """`project_ids`: only these (a token's project limit); None: every project."""
        statement = select(Project)
        if project_ids is not None:
            statement = statement.where(Project.id.in_(sorted(project_ids)))
        if task_type:
            statement = statement.where(Project.task_type == task_type)
        if name_contains:
            statement = statement.where(func.lower(Project.name).contains(name_contains.lower(), autoescape=True))
        sort_column = Project.name if sort == "name" else Project.created_at
        statement = keyset_page(statement, sort_column, Project.id, order=order, limit=limit, cursor=cursor)
        return self.session.scalars(statement).all()

    def counts(self, project_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        """{project id: {kind: count}} for `COUNTED`'s kinds; one grouped query per kind for all the projects."""
        found: dict[str, dict[str, int]] = {project_id: dict.fromkeys(COUNTED, 0) for project_id in project_ids}
        if not project_ids:
            return found
        for kind, column in COUNTED.items():
            statement = select(column, func.count()).where(column.in_(sorted(found))).group_by(column)
            for project_id, count in self.session.execute(statement):
                found[str(project_id)][kind] = count
        return found

    def add(self, project: Project) -> Project:
        self.session.add(project)
        self.session.flush()
        return project

    def delete(self, project: Project) -> None:
        self.session.delete(project)
        self.session.flush()


class LabelRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, label: Label) -> Label:
        self.session.add(label)
        self.session.flush()
        return label

    def delete(self, label: Label) -> None:
        self.session.delete(label)
        self.session.flush()
