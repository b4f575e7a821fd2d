"""MLflow's model registry over modelyard's own: every call is a call of the registry's services, so an MLflow
registered model is a modelyard registered model, and its versions keep modelyard's rules (numbers never reused,
history recorded, label-map guard on aliases, archived models read-only).

Flushes only; the request commits.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from modelyard.errors import InvalidInput, NotFound
from modelyard.mlflow.errors import invalid_parameter
from modelyard.mlflow.filters import (
    COMPARISON_OPERATORS,
    PATTERN_OPERATORS,
    SET_OPERATORS,
    Comparison,
    Entity,
    Filter,
    Operator,
    parse_filter,
    parse_order_by,
    unsupported,
    unsupported_order,
)
from modelyard.mlflow.pages import decode_page_token, encode_page_token, query_fingerprint
from modelyard.mlflow.registry_repository import MODEL_ORDER_COLUMNS, VERSION_ORDER_COLUMNS, MlflowRegistryRepository
from modelyard.mlflow.registry_sources import SourceFile, parse_run_source, registry_source_files
from modelyard.mlflow.registry_sql import SortColumn
from modelyard.mlflow.registry_views import (
    MLFLOW_SOURCE_KIND,
    STAGE_NAMES,
    model_json,
    stage_from_mlflow,
    version_artifact_uri,
    version_json,
)
from modelyard.mlflow.run_artifacts import run_source_files
from modelyard.registry.models import ModelVersion, RegisteredModel
from modelyard.registry.promotion import PromotionService
from modelyard.registry.schemas import (
    AliasName,
    AliasSet,
    ModelCreate,
    ModelUpdate,
    StageChange,
    VersionCreate,
    VersionUpdate,
)
from modelyard.registry.service import RegistryService
from modelyard.registry.sources import lookup_revision_source

Schema = TypeVar("Schema", bound=BaseModel)
MODELS_DEFAULT_RESULTS, MODELS_MAX_RESULTS = 100, 1000
VERSIONS_DEFAULT_RESULTS, VERSIONS_MAX_RESULTS = 10_000, 200_000
EQUALITY = frozenset({Operator.EQUAL, Operator.NOT_EQUAL})
TEXT_OPERATORS = EQUALITY | PATTERN_OPERATORS
# Built once: building the validator costs more than the alias lookup it guards.
ALIAS_NAME: TypeAdapter[str] = TypeAdapter(AliasName)


def validated(schema: type[Schema], **fields: Any) -> Schema:
    """The request model, or INVALID_PARAMETER_VALUE naming what was wrong."""
    try:
        return schema(**fields)
    except ValidationError as error:
        raise invalid_parameter("; ".join(_describe(item) for item in error.errors()[:5])) from None


def _describe(item: Any) -> str:
    where = ".".join(str(part) for part in item.get("loc", ()))
    return f"{where}: {item.get('msg', '')}" if where else str(item.get("msg", ""))


def version_number(text: str | int) -> int:
    value = str(text).strip()
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        raise invalid_parameter(f"version {text!r} is not valid: give a version number such as '3'")
    return int(value)


class MlflowRegistry:
    def __init__(self, registry: RegistryService, read_connection: Any = None) -> None:
        """`read_connection`: where the searches and lookups written in SQL read (see MlflowRegistryRepository)."""
        self.registry = registry
        self.promotion = PromotionService(registry)
        self.queries = MlflowRegistryRepository(registry.session, read_connection)

    # -- registered models -------------------------------------------------------------------
    def model_body(self, model: RegisteredModel) -> dict[str, Any]:
        latest = self.queries.latest_per_stage([model.id]).get(model.id, [])
        return model_json(model, self.promotion.aliases(model), latest)

    def create_model(self, name: str, description: str, tags: dict[str, str]) -> dict[str, Any]:
        request = validated(ModelCreate, name=name, description=description, tags=tags)
        model = self.registry.create_model(request)
        return model_json(model, {})

    def get_model(self, name: str) -> RegisteredModel:
        return self.registry.get_model(name)

    def update_model(self, model_name: str, **changes: Any) -> RegisteredModel:
        model = self.registry.get_model(model_name)
        return self.registry.update_model(model, validated(ModelUpdate, **changes))

    def delete_model(self, name: str) -> None:
        self.registry.delete_model(self.registry.get_model(name), comment="deleted through MLflow")

    def delete_model_tag(self, name: str, key: str) -> None:
        self.update_model(name, remove_tags=[key])

    def search_models(
        self, filter_string: str | None, max_results: int | None, order_by: list[str] | None, page_token: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        limit = _limit(max_results, MODELS_DEFAULT_RESULTS, MODELS_MAX_RESULTS)
        conditions = [self._model_condition(comparison) for comparison in parse_filter(filter_string).comparisons]
        columns, names = _sort_columns(
            order_by, MODEL_ORDER_COLUMNS, default=["name"], unique="model_id", unique_together=[{"name"}]
        )
        query = query_fingerprint("models", filter_string or "", names)
        after = decode_page_token(page_token, query, len(columns))
        page = self.queries.search_models(
            conditions=conditions,
            columns=columns,
            names=names,
            after=after,
            limit=limit,
            project_ids=self.registry.access.project_ids,
        )
        token = encode_page_token(page.last_key, query) if page.last_key is not None else None
        return page.bodies, token

    def _model_condition(self, comparison: Comparison) -> Any:
        if comparison.entity == Entity.TAG:
            _require_text(comparison, TEXT_OPERATORS, "tags compare with =, !=, LIKE or ILIKE")
            return self.queries.model_tag(comparison.key, comparison)
        if comparison.entity == Entity.ATTRIBUTE and comparison.key == "name":
            _require_text(comparison, TEXT_OPERATORS, "name compares with =, !=, LIKE or ILIKE")
            return self.queries.matches("m.name", comparison)
        raise unsupported(comparison, "registered models are searched by name and tags.<key> only")

    def latest_versions(self, name: str, stages: list[str] | None) -> list[dict[str, Any]]:
        model = self.registry.get_model(name)
        wanted = [stage_from_mlflow(stage) for stage in stages] if stages else list(STAGE_NAMES)
        found = [self.queries.latest_in_stage(model.id, stage) for stage in dict.fromkeys(wanted)]
        return [version_json(version) for version in found if version is not None]

    # -- versions ----------------------------------------------------------------------------
    def get_version(self, name: str, version: str | int) -> ModelVersion:
        return self.registry.find_version(name, str(version_number(version)))

    def create_version(
        self, name: str, source: str, *, run_id: str, run_link: str, description: str, tags: dict[str, str]
    ) -> ModelVersion:
        """A new version of an existing model; its files are those the source names (linked, never copied)."""
        if not source:
            raise invalid_parameter("source is required: the URI of the model's files, e.g. runs:/<run_id>/model")
        mlflow_fields = {"mlflow_uri": source, "mlflow_run_id": run_id, "mlflow_run_link": run_link}
        mlflow_fields = {key: value for key, value in mlflow_fields.items() if value}
        run = parse_run_source(source)
        revision = self._training_revision(run.run_id if run else run_id)
        if run is not None and revision is not None:
            registered = self.registry.register_revision(
                name, revision, description=description, tags=self._tags(tags), comment="registered through MLflow"
            )
            registered.source = {**registered.source, **mlflow_fields}
            return registered
        files = registry_source_files(self.registry, source)
        if files is None:
            logged = run_source_files(self.registry.session, self.registry.files, source, self.registry.access) or []
            files = [SourceFile(file.path, file.record.sha256) for file in logged]
        request = validated(VersionCreate, description=description, tags=tags)
        version = self.registry.register(name, request, source={"kind": MLFLOW_SOURCE_KIND, **mlflow_fields})
        self._link(version, files)
        return version

    def _training_revision(self, run_id: str) -> Any:
        """The modelyard training revision a run id names (runs of projects are revisions), if any."""
        if not run_id:
            return None
        try:
            revision = lookup_revision_source(self.registry.session, run_id)
        except NotFound:
            return None
        return revision if self.registry.access.allows(revision.project_id) else None

    def _tags(self, tags: dict[str, str]) -> dict[str, str]:
        return validated(VersionCreate, tags=tags).tags

    def _link(self, version: ModelVersion, files: list[SourceFile]) -> None:
        for file in files:
            self.registry.link_file(version, file.name, file.sha256)

    def update_version(self, name: str, version: str, **changes: Any) -> ModelVersion:
        found = self.get_version(name, version)
        return self.registry.update_version(found, validated(VersionUpdate, **changes))

    def delete_version(self, name: str, version: str) -> None:
        self.registry.delete_version(self.get_version(name, version), comment="deleted through MLflow")

    def transition(self, name: str, version: str, stage: str, archive_existing: bool) -> ModelVersion:
        found = self.get_version(name, version)
        change = validated(StageChange, stage=stage_from_mlflow(stage), archive_existing=archive_existing,
                           comment="moved through MLflow")  # fmt: skip
        return self.promotion.change_stage(found, change)

    def download_uri(self, name: str, version: str) -> str:
        return version_artifact_uri(self.get_version(name, version).id)

    # -- aliases -----------------------------------------------------------------------------
    def set_alias(self, name: str, alias: str, version: str) -> None:
        model = self.registry.get_model(name)
        checked = _alias(alias)
        change = validated(AliasSet, version=version_number(version), comment="set through MLflow")
        self.promotion.set_alias(model, checked, change)

    def delete_alias(self, name: str, alias: str) -> None:
        model = self.registry.get_model(name)
        if alias in self.promotion.aliases(model):
            self.promotion.remove_alias(model, alias, comment="removed through MLflow")

    def version_by_alias(self, name: str, alias: str) -> ModelVersion:
        return self.registry.find_version(name, f"@{_alias(alias)}")

    def version_body_by_alias(self, name: str, alias: str) -> dict[str, Any]:
        """`version_json(version_by_alias(...))` read in plain SQL; the registry's own lookup answers what is not
        there (or not the caller's to see) with its NotFound."""
        found = self.queries.version_by(name, alias=_alias(alias))
        if found is None or not self.registry.access.allows(found.project_id):
            return version_json(self.version_by_alias(name, alias))
        return found.body

    def version_body(self, name: str, version: str | int) -> dict[str, Any]:
        """`version_json(get_version(...))` read in plain SQL, as version_body_by_alias."""
        found = self.queries.version_by(name, number=version_number(version))
        if found is None or not self.registry.access.allows(found.project_id):
            return version_json(self.get_version(name, version))
        return found.body

    # -- search ------------------------------------------------------------------------------
    def search_versions(
        self, filter_string: str | None, max_results: int | None, order_by: list[str] | None, page_token: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        limit = _limit(max_results, VERSIONS_DEFAULT_RESULTS, VERSIONS_MAX_RESULTS)
        parsed = parse_filter(filter_string)
        conditions = [self._version_condition(comparison) for comparison in parsed.comparisons]
        columns, names = _sort_columns(
            order_by,
            VERSION_ORDER_COLUMNS,
            default=["name", "version_number DESC"],
            unique="version_id",
            unique_together=[{"name", "version_number"}, *([{"version_number"}] if _one_model(parsed) else [])],
        )
        query = query_fingerprint("versions", filter_string or "", names)
        after = decode_page_token(page_token, query, len(columns))
        page = self.queries.search_versions(
            conditions=conditions,
            columns=columns,
            names=names,
            after=after,
            limit=limit,
            project_ids=self.registry.access.project_ids,
        )
        token = encode_page_token(page.last_key, query) if page.last_key is not None else None
        return page.bodies, token

    def _version_condition(self, comparison: Comparison) -> Any:
        entity, key = comparison.entity, comparison.key
        if entity == Entity.TAG:
            _require_text(comparison, TEXT_OPERATORS, "tags compare with =, !=, LIKE or ILIKE")
            return self.queries.version_tag(key, comparison)
        if entity == Entity.METRIC:
            _require(comparison, COMPARISON_OPERATORS, "metrics compare with =, !=, <, <=, >, >=")
            _require_number(comparison)
            return self.queries.version_metric(key, comparison)
        if entity == Entity.ATTRIBUTE and key == "name":
            _require_text(comparison, TEXT_OPERATORS | SET_OPERATORS, "name compares with =, !=, LIKE, ILIKE or IN")
            return self.queries.model_named(comparison)
        if entity == Entity.ATTRIBUTE and key in ("version_number", "version"):
            _require(comparison, COMPARISON_OPERATORS, "version_number compares with =, !=, <, <=, >, >=")
            _require_number(comparison)
            return self.queries.matches("v.number", comparison)
        if entity == Entity.ATTRIBUTE and key == "current_stage":
            _require_text(comparison, EQUALITY | SET_OPERATORS, "current_stage compares with =, !=, IN or NOT IN")
            return self.queries.matches("v.stage", _stage_comparison(comparison))
        if entity == Entity.ATTRIBUTE and key in ("run_id", "source_path"):
            _require_text(comparison, TEXT_OPERATORS | SET_OPERATORS, f"{key} compares with =, !=, LIKE, ILIKE, IN")
            return self.queries.source_field(key, comparison)
        raise unsupported(
            comparison, "versions are searched by name, version_number, run_id, source_path, current_stage, "
            "tags.<key> and metrics.<key>"
        )  # fmt: skip


def _one_model(parsed: Filter) -> bool:
    """Whether the filter names one model (`name = '...'`): its version numbers are then unique by themselves."""
    return any(
        comparison.key == "name" and comparison.operator == Operator.EQUAL for comparison in parsed.of(Entity.ATTRIBUTE)
    )


def _require(comparison: Comparison, operators: frozenset[Operator], why: str) -> None:
    if comparison.operator not in operators:
        raise unsupported(comparison, why)


def _require_text(comparison: Comparison, operators: frozenset[Operator], why: str) -> None:
    """A comparison of a text field: one of `operators`, with quoted strings (a list of them for IN)."""
    _require(comparison, operators, why)
    if isinstance(comparison.value, int | float):
        raise unsupported(comparison, "the value must be a quoted string")


def _require_number(comparison: Comparison) -> None:
    if not comparison.is_number:
        raise unsupported(comparison, "the value must be a number")


def _stage_comparison(comparison: Comparison) -> Comparison:
    value = comparison.value
    stages = (
        tuple(stage_from_mlflow(item) for item in value) if isinstance(value, tuple) else stage_from_mlflow(str(value))
    )
    return Comparison(comparison.entity, comparison.key, comparison.operator, stages, comparison.text)


def _alias(alias: str) -> str:
    try:
        return ALIAS_NAME.validate_python(alias)
    except ValidationError:
        raise InvalidInput(
            f"alias {alias!r} is not valid: start with a letter or '_', then letters, digits, '_', '.', '-'"
        ) from None


def _limit(max_results: int | None, default: int, most: int) -> int:
    if max_results is None or max_results == 0:
        return default
    if not 1 <= max_results <= most:
        raise invalid_parameter(f"max_results must be between 1 and {most}, got {max_results}")
    return max_results


def _sort_columns(
    order_by: list[str] | None,
    known: dict[str, str],
    *,
    default: list[str],
    unique: str,
    unique_together: list[set[str]],
) -> tuple[list[SortColumn], list[str]]:
    """The sort columns of an order_by list and their names, for the page token. They end with the unique id
    unless keys that are `unique_together` are already there (then the order can walk an index alone)."""
    columns, names = [], []
    for key in parse_order_by(order_by or default):
        orderable = sorted(name for name in known if name != unique)
        if key.entity != Entity.ATTRIBUTE or key.key not in orderable:
            raise unsupported_order(key, f"order by one of {', '.join(orderable)}")
        if key.key in names:
            continue
        columns.append(SortColumn(known[key.key], key.ascending))
        names.append(key.key)
    if not any(keys <= set(names) for keys in unique_together):
        columns.append(SortColumn(known[unique], True))
        names.append(unique)
    return columns, names
