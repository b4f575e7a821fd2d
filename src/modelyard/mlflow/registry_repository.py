"""The registry queries of MLflow's searches, in hand-written SQL (registry_sql.py): filters from the parsed
grammar, ordering by MLflow's keys, keyset continuation over (sort keys..., id) so a deep page walks an index as
the first page does, and answers built in MLflow's JSON straight from the rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from modelyard.mlflow.filters import Comparison, Operator
from modelyard.mlflow.registry_sql import (
    TRUE,
    Dialect,
    SortColumn,
    Sql,
    after_keyset,
    all_of,
    any_of,
    order_and_limit,
)
from modelyard.mlflow.registry_views import model_body, version_body
from modelyard.registry.models import ModelVersion

STAGED = ("staging", "production", "archived")
# What MLflow shows of a version, in the order version_row reads them (label maps, parameters, files stay unread).
VERSION_FIELDS = (
    "v.id, v.model_id, m.name, v.number, v.description, v.stage, {uri}, {run_id}, {run_link}, v.source_revision_id, "
    "v.created_at, v.updated_at, v.updated_by"
)
MODEL_FIELDS = "m.id, m.name, m.description, m.created_at, m.updated_at"
# MLflow's order_by keys (and the unique id that ends every order) -> columns, and where each is in a row.
MODEL_ORDER_COLUMNS: dict[str, str] = {
    "name": "m.name", "creation_timestamp": "m.created_at", "last_updated_timestamp": "m.updated_at",
    "timestamp": "m.updated_at", "model_id": "m.id",
}  # fmt: skip
MODEL_ROW_INDEX = {"name": 1, "creation_timestamp": 3, "last_updated_timestamp": 4, "timestamp": 4, "model_id": 0}
VERSION_ORDER_COLUMNS: dict[str, str] = {
    "name": "m.name", "version_number": "v.number", "creation_timestamp": "v.created_at",
    "last_updated_timestamp": "v.updated_at", "timestamp": "v.updated_at", "version_id": "v.id",
}  # fmt: skip
VERSION_ROW_INDEX = {
    "name": 2, "version_number": 3, "creation_timestamp": 10, "last_updated_timestamp": 11, "timestamp": 11,
    "version_id": 0,
}  # fmt: skip
TIME_KEYS = frozenset({"creation_timestamp", "last_updated_timestamp", "timestamp"})
# The covering index of a version's tags (migration 0017): SQLite's planner otherwise takes the unique
# (version_id, key) index and reads each tag's row for its value.
VERSION_TAGS_BY_VERSION = "ix_model_version_tags_version_key_value"


@dataclass
class Page:
    """A page of a search in MLflow's JSON, and the sort key of its last row (for the next page's token)."""

    bodies: list[dict[str, Any]]
    last_key: list[Any] | None


@dataclass
class Found:
    """One version in MLflow's JSON and the project that owns its model (None: a global model)."""

    body: dict[str, Any]
    project_id: str | None


class MlflowRegistryRepository:
    """`connection`: a DB-API connection for the hand-written SQL (Database.read_connection), else the session's;
    ORM queries always use the session."""

    def __init__(self, session: Session, connection: Any = None) -> None:
        self.session = session
        self.sql = Dialect(session, connection)
        self.sqlite = self.sql.sqlite

    def matches(self, column: str, comparison: Comparison) -> Sql:
        return self.sql.compare(column, comparison)

    def _sort_key(self, row: tuple[Any, ...], names: Sequence[str], index: dict[str, int]) -> list[Any]:
        return [self.sql.time(row[index[name]]) if name in TIME_KEYS else row[index[name]] for name in names]

    # -- registered models -------------------------------------------------------------------
    def search_models(
        self,
        *,
        conditions: Sequence[Sql],
        columns: Sequence[SortColumn],
        names: Sequence[str],
        after: Sequence[Any] | None,
        limit: int,
        project_ids: frozenset[str] | None,
    ) -> Page:
        """A page of registered models with their tags, aliases and latest versions per stage, and the sort key
        of the row after it (None when it is the last page)."""
        where = list(conditions)
        if project_ids is not None:
            where.append(self.sql.one_of("m.project_id", sorted(project_ids)))
        if after is not None:
            where.append(after_keyset(self.sql, columns, after))
        condition = all_of(where)
        statement = Sql(f"SELECT {MODEL_FIELDS} FROM registered_models m WHERE {condition.text}", condition.params)
        rows = self.sql.run(_join(statement, order_and_limit(self.sql, columns, limit + 1)))
        page = rows[:limit]
        ids = [row[0] for row in page]
        tags = self._tags_of("registered_model_tags", "model_id", ids)
        latest, aliases = self.latest_per_stage(ids), self.aliases_of_models(ids)
        millis = self.sql.millis
        bodies = [
            model_body(name, description, millis(created), millis(updated), tags.get(model_id), aliases.get(model_id),
                       latest.get(model_id))
            for model_id, name, description, created, updated in page
        ]  # fmt: skip
        last = self._sort_key(page[-1], names, MODEL_ROW_INDEX) if len(rows) > limit else None
        return Page(bodies, last)

    def model_tag(self, key: str, comparison: Comparison) -> Sql:
        if not self._tag_negation_matters("registered_model_tags", key, comparison):
            return TRUE
        return self._tag_condition("registered_model_tags t", "t.model_id = m.id", key, comparison)

    def latest_per_stage(self, model_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """For each model, its newest version in each stage that has one (MLflow's `latest_versions`), in MLflow's
        JSON, oldest first.

        Without reading every version: the newest version comes from the (model, number) index, the newest in
        staging, production and archived from the (model, stage) index (few versions are in them), and the
        newest in `none` is the newest version unless that one is staged (then it is looked up on its own).
        """
        if not model_ids:
            return {}
        mark = self.sql.mark
        ids = self.sql.one_of("m.id", model_ids)
        newest_numbers = {
            model_id: number
            for model_id, number in self.sql.run(
                Sql(
                    "SELECT m.id, (SELECT max(v.number) FROM model_versions v WHERE v.model_id = m.id) "
                    f"FROM registered_models m WHERE {ids.text}",
                    ids.params,
                )
            )  # fmt: skip
            if number is not None
        }
        owned, staged = self.sql.one_of("v.model_id", model_ids), self.sql.one_of("v.stage", STAGED)
        staged_rows = self.sql.run(Sql(
            f"SELECT v.model_id, v.stage, max(v.number) FROM model_versions v WHERE {owned.text} AND {staged.text} "
            "GROUP BY v.model_id, v.stage", owned.params + staged.params,
        ))  # fmt: skip
        wanted = set(newest_numbers.items()) | {(model_id, number) for model_id, _, number in staged_rows}
        rows = self._versions_at(wanted)
        unstaged_newest = {row[1] for row in rows if row[3] == newest_numbers[row[1]] and row[5] == "none"}
        for model_id in set(newest_numbers) - unstaged_newest:
            found = self.sql.run(Sql(
                f"SELECT max(number) FROM model_versions WHERE model_id = {mark} AND stage = {mark}",
                (model_id, "none"),
            ))  # fmt: skip
            if found and found[0][0] is not None:
                rows += self._versions_at({(model_id, found[0][0])})
        rows.sort(key=lambda row: row[3])
        latest: dict[str, list[dict[str, Any]]] = {}
        for row, body in zip(rows, self._version_bodies(rows), strict=True):
            latest.setdefault(row[1], []).append(body)
        return latest

    def _versions_at(self, keys: set[tuple[str, int]]) -> list[tuple[Any, ...]]:
        if not keys:
            return []
        # Two IN lists seek the (model, number) index; a row-value IN would scan the table on SQLite.
        owned = self.sql.one_of("v.model_id", sorted({model_id for model_id, _ in keys}))
        numbered = self.sql.one_of("v.number", sorted({number for _, number in keys}))
        statement = Sql(
            f"SELECT {self._version_fields()} FROM model_versions v JOIN registered_models m ON m.id = v.model_id "
            f"WHERE {owned.text} AND {numbered.text}", owned.params + numbered.params,
        )  # fmt: skip
        return [row for row in self.sql.run(statement) if (row[1], row[3]) in keys]

    def aliases_of_models(self, model_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        if not model_ids:
            return {}
        owned = self.sql.one_of("a.model_id", model_ids)
        found: dict[str, dict[str, int]] = {}
        for model_id, alias, number in self.sql.run(Sql(
            "SELECT a.model_id, a.alias, v.number FROM model_aliases a JOIN model_versions v ON v.id = a.version_id "
            f"WHERE {owned.text}", owned.params,
        )):  # fmt: skip
            found.setdefault(model_id, {})[alias] = number
        return found

    # -- versions ----------------------------------------------------------------------------
    def search_versions(
        self,
        *,
        conditions: Sequence[Sql],
        columns: Sequence[SortColumn],
        names: Sequence[str],
        after: Sequence[Any] | None,
        limit: int,
        project_ids: frozenset[str] | None,
    ) -> Page:
        where = list(conditions)
        if project_ids is not None:
            where.append(self.sql.one_of("m.project_id", sorted(project_ids)))
        if after is not None:
            where.append(after_keyset(self.sql, columns, after))
        condition = all_of(where)
        # Ordered by model name first (MLflow's default), SQLite walks the models by name and each one's versions
        # by number, and stops at the page's end; left to choose, it reads every version and sorts them.
        joined = "CROSS JOIN" if self.sqlite and columns[0].column == "m.name" else "JOIN"
        statement = Sql(
            f"SELECT {self._version_fields()} FROM registered_models m {joined} model_versions v "
            f"ON m.id = v.model_id WHERE {condition.text}", condition.params,
        )  # fmt: skip
        rows = self.sql.run(_join(statement, order_and_limit(self.sql, columns, limit + 1)))
        page = rows[:limit]
        last = self._sort_key(page[-1], names, VERSION_ROW_INDEX) if len(rows) > limit else None
        return Page(self._version_bodies(page), last)

    def version_by(self, model_name: str, *, alias: str | None = None, number: int | None = None) -> Found | None:
        """One version of the model named `model_name`, by alias (from the alias's unique index) or number, in
        MLflow's JSON with the owning project; None when there is none."""
        mark = self.sql.mark
        key: str | int | None
        if alias is not None:
            source = "model_aliases a JOIN registered_models m ON m.id = a.model_id JOIN model_versions v ON v.id = "
            source += f"a.version_id WHERE m.name = {mark} AND a.alias = {mark}"
            key = alias
        else:
            source = f"registered_models m JOIN model_versions v ON v.model_id = m.id WHERE m.name = {mark} "
            source += f"AND v.number = {mark}"
            key = number
        rows = self.sql.run(Sql(f"SELECT {self._version_fields()}, m.project_id FROM {source}", (model_name, key)))
        if not rows:
            return None
        return Found(self._version_bodies([rows[0][:-1]])[0], rows[0][-1])

    def _version_fields(self) -> str:
        text = self.sql.json_text
        return VERSION_FIELDS.format(uri=text("v.source", "mlflow_uri"), run_id=text("v.source", "mlflow_run_id"),
                                     run_link=text("v.source", "mlflow_run_link"))  # fmt: skip

    def _version_bodies(self, rows: Sequence[tuple[Any, ...]]) -> list[dict[str, Any]]:
        """Rows of VERSION_FIELDS in MLflow's JSON, with their tags and aliases (one query each for the lot)."""
        if not rows:
            return []
        ids = [row[0] for row in rows]
        tags = self._tags_of("model_version_tags", "version_id", ids)
        aliases: dict[str, list[str]] = {}
        owned = self.sql.one_of("version_id", ids)
        for version_id, alias in self.sql.run(Sql(f"SELECT version_id, alias FROM model_aliases WHERE {owned.text}",
                                                  owned.params)):  # fmt: skip
            aliases.setdefault(version_id, []).append(alias)
        millis = self.sql.millis
        return [
            version_body(version_id, model_name, number, description, stage, uri, run_id, run_link, revision_id,
                         millis(created), millis(updated), user, tags.get(version_id), aliases.get(version_id))
            for (version_id, _, model_name, number, description, stage, uri, run_id, run_link, revision_id, created,
                 updated, user) in rows
        ]  # fmt: skip

    def _tags_of(self, table: str, owner: str, ids: Sequence[str]) -> dict[str, dict[str, str]]:
        if not ids:
            return {}
        owned = self.sql.one_of(owner, ids)
        tags: dict[str, dict[str, str]] = {}
        for owner_id, key, value in self.sql.run(Sql(f"SELECT {owner}, \"key\", value FROM {table} WHERE {owned.text}",
                                                     owned.params)):  # fmt: skip
            tags.setdefault(owner_id, {})[key] = value
        return tags

    def version_tag(self, key: str, comparison: Comparison) -> Sql:
        if not self._tag_negation_matters("model_version_tags", key, comparison):
            return TRUE
        table = f"model_version_tags t INDEXED BY {VERSION_TAGS_BY_VERSION}" if self.sqlite else "model_version_tags t"
        return self._tag_condition(table, "t.version_id = v.id", key, comparison)

    def version_metric(self, key: str, comparison: Comparison) -> Sql:
        value = self.sql.compare("x.value", comparison)
        return Sql(
            "EXISTS (SELECT 1 FROM model_version_metrics x WHERE x.version_id = v.id "
            f"AND x.name = {self.sql.mark} AND {value.text})", (key, *value.params),
        )  # fmt: skip

    def model_named(self, comparison: Comparison) -> Sql:
        """Versions of the models whose name matches: `=` becomes one model id, so the (model, number)
        index drives the query."""
        if comparison.operator == Operator.EQUAL:
            return Sql(f"v.model_id = (SELECT id FROM registered_models WHERE name = {self.sql.mark})",
                       (comparison.value,))  # fmt: skip
        return self.sql.compare("m.name", comparison)

    def source_field(self, key: str, comparison: Comparison) -> Sql:
        """`run_id` and `source_path` as MLflow shows them: given through MLflow, or the training revision."""
        if key == "run_id":
            given = self.sql.json_text("v.source", "mlflow_run_id")
            revision = all_of([Sql(f"{given} IS NULL"), self.sql.compare("v.source_revision_id", comparison)])
            return any_of([self.sql.compare(given, comparison), revision])
        return self.sql.compare(self.sql.json_text("v.source", "mlflow_uri"), comparison)

    def latest_in_stage(self, model_id: str, stage: str) -> ModelVersion | None:
        return self.session.scalar(
            select(ModelVersion)
            .where(ModelVersion.model_id == model_id, ModelVersion.stage == stage)
            .order_by(ModelVersion.number.desc())
            .limit(1)
        )

    # -- tags --------------------------------------------------------------------------------
    def _tag_condition(self, table: str, owned: str, key: str, comparison: Comparison) -> Sql:
        """A tag comparison. `!=` and NOT IN hold for rows without the tag, as in MLflow (its client filters
        prompts out with `tags.mlflow.prompt.is_prompt != 'true'`, which untagged models must pass)."""
        negated = NEGATIONS.get(comparison.operator)
        value = self.sql.compare("t.value", comparison if negated is None else replace(comparison, operator=negated))
        found = Sql(f"EXISTS (SELECT 1 FROM {table} WHERE {owned} AND t.\"key\" = {self.sql.mark} AND {value.text})",
                    (key, *value.params))  # fmt: skip
        return found if negated is None else Sql(f"NOT {found.text}", found.params)

    def _tag_negation_matters(self, table: str, key: str, comparison: Comparison) -> bool:
        """Whether any row at all holds what a `!=` or NOT IN tag comparison excludes (one seek on the (key, value)
        index). When none does, the comparison holds for every row and need not be checked row by row: the
        prompt filter MLflow's client adds to every search costs nothing on a registry without prompts."""
        negated = NEGATIONS.get(comparison.operator)
        if negated is None:
            return True
        value = self.sql.compare("value", replace(comparison, operator=negated))
        found = self.sql.run(Sql(f"SELECT 1 FROM {table} WHERE \"key\" = {self.sql.mark} AND {value.text} LIMIT 1",
                                 (key, *value.params)))  # fmt: skip
        return bool(found)


NEGATIONS = {Operator.NOT_EQUAL: Operator.EQUAL, Operator.NOT_IN: Operator.IN}


def _join(first: Sql, second: Sql) -> Sql:
    return Sql(first.text + second.text, first.params + second.params)
