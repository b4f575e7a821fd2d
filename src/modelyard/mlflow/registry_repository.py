"""The registry queries of MLflow's searches: filters from the parsed grammar, ordering by MLflow's keys, and
keyset continuation over (sort keys..., id), so a deep page walks an index as the first page does."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select, true
from sqlalchemy.orm import Session

from modelyard.mlflow.filters import Comparison, Operator
from modelyard.mlflow.registry_rows import ModelRow, VersionRow
from modelyard.registry.models import (
    ModelAlias,
    ModelVersion,
    ModelVersionMetric,
    ModelVersionTag,
    RegisteredModel,
    RegisteredModelTag,
)
from modelyard.registry.repository import models_of_projects


@dataclass(frozen=True)
class SortColumn:
    column: Any
    ascending: bool


STAGED = ("staging", "production", "archived")
# What MLflow shows, in the order of ModelRow's and VersionRow's fields (label maps, parameters, files stay unread).
MODEL_COLUMNS = (
    RegisteredModel.id, RegisteredModel.name, RegisteredModel.description, RegisteredModel.created_at,
    RegisteredModel.updated_at, RegisteredModel.updated_by,
)  # fmt: skip
VERSION_COLUMNS = (
    ModelVersion.id, ModelVersion.model_id, RegisteredModel.name.label("model_name"), ModelVersion.number,
    ModelVersion.description, ModelVersion.stage, ModelVersion.source, ModelVersion.source_revision_id,
    ModelVersion.created_at, ModelVersion.updated_at, ModelVersion.updated_by,
)  # fmt: skip
# MLflow's order_by keys (and the unique id that ends every order) -> columns.
MODEL_ORDER_COLUMNS: dict[str, Any] = {
    "name": RegisteredModel.name,
    "creation_timestamp": RegisteredModel.created_at,
    "last_updated_timestamp": RegisteredModel.updated_at,
    "timestamp": RegisteredModel.updated_at,
    "model_id": RegisteredModel.id,
}
VERSION_ORDER_COLUMNS: dict[str, Any] = {
    "name": RegisteredModel.name,
    "version_number": ModelVersion.number,
    "creation_timestamp": ModelVersion.created_at,
    "last_updated_timestamp": ModelVersion.updated_at,
    "timestamp": ModelVersion.updated_at,
    "version_id": ModelVersion.id,
}


def model_sort_key(model: ModelRow, names: Sequence[str]) -> list[Any]:
    values = {"name": model.name, "creation_timestamp": model.created_at, "last_updated_timestamp": model.updated_at,
              "timestamp": model.updated_at, "model_id": model.id}  # fmt: skip
    return [values[name] for name in names]


def version_sort_key(version: VersionRow, names: Sequence[str]) -> list[Any]:
    values = {
        "name": version.model_name,
        "version_number": version.number,
        "creation_timestamp": version.created_at,
        "last_updated_timestamp": version.updated_at,
        "timestamp": version.updated_at,
        "version_id": version.id,
    }
    return [values[name] for name in names]


def compare(column: Any, comparison: Comparison, *, sqlite: bool) -> ColumnElement[bool]:
    """`column <operator> value` for one parsed comparison (its value already checked by the search)."""
    value = comparison.value
    operator = comparison.operator
    if operator == Operator.EQUAL:
        return column == value
    if operator == Operator.NOT_EQUAL:
        return column != value
    if operator == Operator.LESS:
        return column < value
    if operator == Operator.LESS_OR_EQUAL:
        return column <= value
    if operator == Operator.GREATER:
        return column > value
    if operator == Operator.GREATER_OR_EQUAL:
        return column >= value
    if operator == Operator.LIKE:
        # MLflow's LIKE is case-sensitive: PostgreSQL's is, SQLite's is not, where GLOB is.
        return column.op("GLOB")(like_to_glob(str(value))) if sqlite else column.like(value)
    if operator == Operator.ILIKE:
        return func.lower(column).like(str(value).lower())
    values = list(value) if isinstance(value, tuple) else [value]
    return column.in_(values) if operator == Operator.IN else column.not_in(values)


def like_to_glob(pattern: str) -> str:
    """A LIKE pattern as a GLOB pattern: `%` -> `*`, `_` -> `?`, GLOB's own wildcards taken literally."""
    special = {"%": "*", "_": "?", "*": "[*]", "?": "[?]", "[": "[[]"}
    return "".join(special.get(character, character) for character in pattern)


def _tag_condition(
    owned: ColumnElement[bool], keyed: ColumnElement[bool], value: Any, comparison: Comparison, sqlite: bool
) -> ColumnElement[bool]:
    """A tag comparison. `!=` and NOT IN hold for rows without the tag, as in MLflow (its client filters
    prompts out with `tags.mlflow.prompt.is_prompt != 'true'`, which untagged models must pass)."""
    negated = {Operator.NOT_EQUAL: Operator.EQUAL, Operator.NOT_IN: Operator.IN}.get(comparison.operator)
    if negated is None:
        return exists().where(owned, keyed, compare(value, comparison, sqlite=sqlite))
    positive = replace(comparison, operator=negated)
    return ~exists().where(owned, keyed, compare(value, positive, sqlite=sqlite))


def _tag_negation_matters(session: Session, tag: Any, key: str, comparison: Comparison, sqlite: bool) -> bool:
    """Whether any row at all holds what a `!=` or NOT IN tag comparison excludes (one seek on the (key, value)
    index). When none does, the comparison holds for every row and need not be checked row by row: the
    prompt filter MLflow's client adds to every search costs nothing on a registry without prompts."""
    negated = {Operator.NOT_EQUAL: Operator.EQUAL, Operator.NOT_IN: Operator.IN}.get(comparison.operator)
    if negated is None:
        return True
    positive = replace(comparison, operator=negated)
    found = session.scalar(select(tag.key).where(tag.key == key, compare(tag.value, positive, sqlite=sqlite)).limit(1))
    return found is not None


def after_keyset(columns: Sequence[SortColumn], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows after the one whose sort key is `values`, in the order of `columns` (mixed directions)."""
    alternatives = []
    for index, sort in enumerate(columns):
        equal_before = [columns[position].column == values[position] for position in range(index)]
        beyond = sort.column > values[index] if sort.ascending else sort.column < values[index]
        alternatives.append(and_(*equal_before, beyond))
    first = columns[0]
    # The same rows, with a range on the first key that an index can seek to.
    reach = first.column >= values[0] if first.ascending else first.column <= values[0]
    return and_(reach, or_(*alternatives))


AnySelect = Select[*tuple[Any, ...]]


def ordered_page(
    statement: AnySelect, columns: Sequence[SortColumn], after: Sequence[Any] | None, limit: int
) -> AnySelect:
    if after is not None:
        statement = statement.where(after_keyset(columns, after))
    order = [sort.column.asc() if sort.ascending else sort.column.desc() for sort in columns]
    return statement.order_by(*order).limit(limit + 1)


class MlflowRegistryRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.sqlite = session.get_bind().dialect.name == "sqlite"

    def matches(self, column: Any, comparison: Comparison) -> ColumnElement[bool]:
        return compare(column, comparison, sqlite=self.sqlite)

    # -- registered models -------------------------------------------------------------------
    def search_models(
        self,
        *,
        conditions: Sequence[ColumnElement[bool]],
        columns: Sequence[SortColumn],
        after: Sequence[Any] | None,
        limit: int,
        project_ids: frozenset[str] | None,
    ) -> list[ModelRow]:
        statement = select(*MODEL_COLUMNS).where(*conditions)
        if project_ids is not None:
            statement = statement.where(RegisteredModel.project_id.in_(sorted(project_ids)))
        rows = self.session.execute(ordered_page(statement, columns, after, limit)).all()
        tags: dict[str, dict[str, str]] = {}
        if rows:
            for model_id, key, value in self.session.execute(
                select(RegisteredModelTag.model_id, RegisteredModelTag.key, RegisteredModelTag.value).where(
                    RegisteredModelTag.model_id.in_([row.id for row in rows])
                )
            ):
                tags.setdefault(model_id, {})[key] = value
        return [
            ModelRow(row.id, row.name, row.description, row.created_at, row.updated_at, row.updated_by,
                     tags=tags.get(row.id, {}))
            for row in rows
        ]  # fmt: skip

    def model_tag(self, key: str, comparison: Comparison) -> ColumnElement[bool]:
        if not _tag_negation_matters(self.session, RegisteredModelTag, key, comparison, self.sqlite):
            return true()
        return _tag_condition(
            RegisteredModelTag.model_id == RegisteredModel.id,
            RegisteredModelTag.key == key,
            RegisteredModelTag.value,
            comparison,
            self.sqlite,
        )

    def latest_per_stage(self, model_ids: Sequence[str]) -> dict[str, list[VersionRow]]:
        """For each model, its newest version in each stage that has one (MLflow's `latest_versions`).

        Without reading every version: the newest version comes from the (model, number) index, the newest in
        staging, production and archived from the (model, stage) index (few versions are in them), and the
        newest in `none` is the newest version unless that one is staged (then it is looked up on its own).
        """
        if not model_ids:
            return {}
        newest = (
            select(func.max(ModelVersion.number))
            .where(ModelVersion.model_id == RegisteredModel.id)
            .correlate(RegisteredModel)
            .scalar_subquery()
        )
        newest_numbers = {
            model_id: number
            for model_id, number in self.session.execute(
                select(RegisteredModel.id, newest).where(RegisteredModel.id.in_(model_ids))
            )
            if number is not None
        }
        staged = self.session.execute(
            select(ModelVersion.model_id, ModelVersion.stage, func.max(ModelVersion.number))
            .where(ModelVersion.model_id.in_(model_ids), ModelVersion.stage.in_(STAGED))
            .group_by(ModelVersion.model_id, ModelVersion.stage)
        ).all()
        wanted = set(newest_numbers.items()) | {(model_id, number) for model_id, _, number in staged}
        versions = self._versions_at(wanted)
        unstaged_newest = {
            version.model_id for version in versions
            if version.number == newest_numbers[version.model_id] and version.stage == "none"
        }  # fmt: skip
        for model_id in set(newest_numbers) - unstaged_newest:
            number = self.session.scalar(
                select(func.max(ModelVersion.number)).where(
                    ModelVersion.model_id == model_id, ModelVersion.stage == "none"
                )
            )
            if number is not None:
                versions += self._versions_at({(model_id, number)})
        found: dict[str, list[VersionRow]] = {}
        for version in sorted(versions, key=lambda version: version.number):
            found.setdefault(version.model_id, []).append(version)
        return found

    def _versions_at(self, keys: set[tuple[str, int]]) -> list[VersionRow]:
        if not keys:
            return []
        # Two IN lists seek the (model, number) index; a row-value IN would scan the table on SQLite.
        statement = (
            select(*VERSION_COLUMNS)
            .join(RegisteredModel, RegisteredModel.id == ModelVersion.model_id)
            .where(
                ModelVersion.model_id.in_(sorted({model_id for model_id, _ in keys})),
                ModelVersion.number.in_(sorted({number for _, number in keys})),
            )
        )
        rows = [row for row in self.session.execute(statement) if (row.model_id, row.number) in keys]
        return self._version_rows(rows)

    def _version_rows(self, rows: Sequence[Any]) -> list[VersionRow]:
        """Rows of VERSION_COLUMNS with their tags and aliases (two queries for the lot)."""
        if not rows:
            return []
        ids = [row.id for row in rows]
        tags: dict[str, dict[str, str]] = {}
        for version_id, key, value in self.session.execute(
            select(ModelVersionTag.version_id, ModelVersionTag.key, ModelVersionTag.value).where(
                ModelVersionTag.version_id.in_(ids)
            )
        ):
            tags.setdefault(version_id, {})[key] = value
        aliases: dict[str, list[str]] = {}
        for version_id, alias in self.session.execute(
            select(ModelAlias.version_id, ModelAlias.alias).where(ModelAlias.version_id.in_(ids))
        ):
            aliases.setdefault(version_id, []).append(alias)
        return [
            VersionRow(
                row.id, row.model_id, row.model_name, row.number, row.description, row.stage, row.source or {},
                row.source_revision_id, row.created_at, row.updated_at, row.updated_by,
                tags=tags.get(row.id, {}), aliases=sorted(aliases.get(row.id, [])),
            )
            for row in rows
        ]  # fmt: skip

    def aliases_of_models(self, model_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        if not model_ids:
            return {}
        rows = self.session.execute(
            select(ModelAlias.model_id, ModelAlias.alias, ModelVersion.number)
            .join(ModelVersion, ModelVersion.id == ModelAlias.version_id)
            .where(ModelAlias.model_id.in_(model_ids))
        ).all()
        found: dict[str, dict[str, int]] = {}
        for model_id, alias, number in rows:
            found.setdefault(model_id, {})[alias] = number
        return found

    # -- versions ----------------------------------------------------------------------------
    def search_versions(
        self,
        *,
        conditions: Sequence[ColumnElement[bool]],
        columns: Sequence[SortColumn],
        after: Sequence[Any] | None,
        limit: int,
        project_ids: frozenset[str] | None,
    ) -> list[VersionRow]:
        statement = (
            select(*VERSION_COLUMNS)
            .join(RegisteredModel, RegisteredModel.id == ModelVersion.model_id)
            .where(*conditions)
        )
        if project_ids is not None:
            statement = statement.where(ModelVersion.model_id.in_(models_of_projects(project_ids)))
        return self._version_rows(self.session.execute(ordered_page(statement, columns, after, limit)).all())

    def version_tag(self, key: str, comparison: Comparison) -> ColumnElement[bool]:
        if not _tag_negation_matters(self.session, ModelVersionTag, key, comparison, self.sqlite):
            return true()
        return _tag_condition(
            ModelVersionTag.version_id == ModelVersion.id,
            ModelVersionTag.key == key,
            ModelVersionTag.value,
            comparison,
            self.sqlite,
        )

    def version_metric(self, key: str, comparison: Comparison) -> ColumnElement[bool]:
        return exists().where(
            ModelVersionMetric.version_id == ModelVersion.id,
            ModelVersionMetric.name == key,
            compare(ModelVersionMetric.value, comparison, sqlite=self.sqlite),
        )

    def model_named(self, comparison: Comparison) -> ColumnElement[bool]:
        """Versions of the models whose name matches: `=` becomes one model id, so the (model, number)
        index drives the query."""
        if comparison.operator == Operator.EQUAL:
            model_id = select(RegisteredModel.id).where(RegisteredModel.name == comparison.value).scalar_subquery()
            return ModelVersion.model_id == model_id
        return compare(RegisteredModel.name, comparison, sqlite=self.sqlite)

    def source_field(self, key: str, comparison: Comparison) -> ColumnElement[bool]:
        """`run_id` and `source_path` as MLflow shows them: given through MLflow, or the training revision."""
        if key == "run_id":
            given = ModelVersion.source["mlflow_run_id"].as_string()
            return or_(
                self.matches(given, comparison),
                and_(given.is_(None), self.matches(ModelVersion.source_revision_id, comparison)),
            )
        return self.matches(ModelVersion.source["mlflow_uri"].as_string(), comparison)

    def latest_in_stage(self, model_id: str, stage: str) -> ModelVersion | None:
        return self.session.scalar(
            select(ModelVersion)
            .where(ModelVersion.model_id == model_id, ModelVersion.stage == stage)
            .order_by(ModelVersion.number.desc())
            .limit(1)
        )
