"""Filters, sort orders and page tokens of experiment and run searches, over views.

The filter and the order_by come parsed by MLflow's grammar (`filters`); here each comparison is checked for
what a search of runs or experiments can answer (anything else is refused, naming the clause) and then
evaluated. A page token holds the sort key of the last row given, so the next page starts after that row
whatever was logged or deleted in between (a keyset, not an offset).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from modelyard.mlflow.errors import invalid_parameter
from modelyard.mlflow.filters import (
    COMPARISON_OPERATORS,
    PATTERN_OPERATORS,
    SET_OPERATORS,
    Comparison,
    Entity,
    Filter,
    Operator,
    OrderKey,
    like_pattern_to_regex,
    unsupported,
    unsupported_order,
)
from modelyard.mlflow.pages import TOKEN_HINT, decode_page_token, encode_page_token
from modelyard.mlflow.tracking_views import ExperimentView, RunView

T = TypeVar("T")
STRING_OPERATORS = frozenset({Operator.EQUAL, Operator.NOT_EQUAL}) | PATTERN_OPERATORS | SET_OPERATORS
RUN_TEXT_ATTRIBUTES = {
    "run_name": "run_name",
    "name": "run_name",
    "status": "status",
    "user_id": "user_id",
    "run_id": "run_id",
    "artifact_uri": "artifact_uri",
}
RUN_TIME_ATTRIBUTES = {"start_time": "start_time", "created": "start_time", "end_time": "end_time"}
EXPERIMENT_TEXT_ATTRIBUTES = {"name": "name", "experiment_id": "experiment_id"}
EXPERIMENT_TIME_ATTRIBUTES = {"creation_time": "creation_time", "last_update_time": "last_update_time"}


# -- checking ---------------------------------------------------------------------------------
def check_run_filter(parsed: Filter) -> None:
    """Refuse, before any run is read, the clauses a run search cannot answer."""
    for comparison in parsed.comparisons:
        if comparison.entity == Entity.METRIC:
            _numeric(comparison, "metrics")
        elif comparison.entity in (Entity.PARAM, Entity.TAG):
            _textual(comparison, f"{comparison.entity.value}s")
        elif comparison.entity == Entity.ATTRIBUTE:
            _attribute(comparison, RUN_TEXT_ATTRIBUTES, RUN_TIME_ATTRIBUTES)
        else:
            raise unsupported(comparison, "run searches filter on metrics, params, tags and attributes only")


def check_experiment_filter(parsed: Filter) -> None:
    for comparison in parsed.comparisons:
        if comparison.entity == Entity.TAG:
            _textual(comparison, "tags")
        elif comparison.entity == Entity.ATTRIBUTE:
            _attribute(comparison, EXPERIMENT_TEXT_ATTRIBUTES, EXPERIMENT_TIME_ATTRIBUTES)
        else:
            raise unsupported(comparison, "experiment searches filter on tags and attributes only")


def _numeric(comparison: Comparison, what: str) -> None:
    if comparison.operator not in COMPARISON_OPERATORS or not comparison.is_number:
        raise unsupported(comparison, f"{what} compare with =, !=, <, <=, >, >= and a number")


def _textual(comparison: Comparison, what: str) -> None:
    if comparison.operator not in STRING_OPERATORS or comparison.is_number:
        raise unsupported(comparison, f"{what} compare with =, !=, LIKE, ILIKE, IN, NOT IN and a quoted string")


def _attribute(comparison: Comparison, text: dict[str, str], times: dict[str, str]) -> None:
    if comparison.key in text:
        _textual(comparison, f"the attribute {comparison.key}")
    elif comparison.key in times:
        _numeric(comparison, f"the attribute {comparison.key} (milliseconds since the epoch)")
    else:
        known = ", ".join(sorted({*text, *times}))
        raise unsupported(comparison, f"unknown attribute {comparison.key!r}; the attributes are {known}")


# -- evaluating -------------------------------------------------------------------------------
def run_matches(run: RunView, parsed: Filter) -> bool:
    return all(
        _holds(comparison, _run_value(run, comparison.entity, comparison.key)) for comparison in parsed.comparisons
    )


def experiment_matches(experiment: ExperimentView, parsed: Filter) -> bool:
    return all(
        _holds(comparison, _experiment_value(experiment, comparison.entity, comparison.key))
        for comparison in parsed.comparisons
    )


def _run_value(run: RunView, entity: Entity, key: str) -> str | float | None:
    if entity == Entity.METRIC:
        metric = run.metrics.get(key)
        return None if metric is None else metric.value
    if entity == Entity.PARAM:
        return run.params.get(key)
    if entity == Entity.TAG:
        return run.tags.get(key)
    if key in RUN_TIME_ATTRIBUTES:
        value: int | None = getattr(run, RUN_TIME_ATTRIBUTES[key])
        return None if value is None else float(value)
    if key in RUN_TEXT_ATTRIBUTES:
        return str(getattr(run, RUN_TEXT_ATTRIBUTES[key]))
    return None


def _experiment_value(experiment: ExperimentView, entity: Entity, key: str) -> str | float | None:
    if entity == Entity.TAG:
        return experiment.tags.get(key)
    if key in EXPERIMENT_TIME_ATTRIBUTES:
        return float(getattr(experiment, EXPERIMENT_TIME_ATTRIBUTES[key]))
    if key in EXPERIMENT_TEXT_ATTRIBUTES:
        return str(getattr(experiment, EXPERIMENT_TEXT_ATTRIBUTES[key]))
    return None


def _holds(comparison: Comparison, actual: str | float | None) -> bool:
    """Whether the stored value meets the comparison; a run without the key never does (as in MLflow)."""
    if actual is None:
        return False
    operator, expected = comparison.operator, comparison.value
    if isinstance(actual, float):
        if math.isnan(actual) or not isinstance(expected, int | float):
            return False
        return _compare(actual, operator, float(expected))
    if operator in SET_OPERATORS:
        assert isinstance(expected, tuple)
        return (actual in expected) == (operator == Operator.IN)
    assert isinstance(expected, str)
    if operator in PATTERN_OPERATORS:
        return like_pattern_to_regex(expected, case_sensitive=operator == Operator.LIKE).match(actual) is not None
    return _compare(actual, operator, expected)


def _compare(actual: Any, operator: Operator, expected: Any) -> bool:
    if operator == Operator.EQUAL:
        return bool(actual == expected)
    if operator == Operator.NOT_EQUAL:
        return bool(actual != expected)
    if operator == Operator.LESS:
        return bool(actual < expected)
    if operator == Operator.LESS_OR_EQUAL:
        return bool(actual <= expected)
    if operator == Operator.GREATER:
        return bool(actual > expected)
    return bool(actual >= expected)


# -- ordering and pages -----------------------------------------------------------------------
SortValue = str | float | None


@dataclass(frozen=True)
class SortOrder:
    """How rows are ordered: a value per key (None: missing, always last) and a direction per key; the row's
    id settles ties, so the order is total and a page token names one place in it."""

    values: Callable[[Any], list[SortValue]]
    ascending: tuple[bool, ...]
    identity: Callable[[Any], str]

    def key_of(self, row: Any) -> tuple[list[SortValue], str]:
        return self.values(row), self.identity(row)

    def compare(self, left: tuple[list[SortValue], str], right: tuple[list[SortValue], str]) -> int:
        for a, b, ascending in zip(left[0], right[0], self.ascending, strict=True):
            if a is None or b is None:
                if a is None and b is None:
                    continue
                return 1 if a is None else -1
            if isinstance(a, str) != isinstance(b, str):  # a token from another search: numbers first
                return -1 if isinstance(b, str) else 1
            if a != b:
                smaller = a < b  # type: ignore[operator]
                return (-1 if smaller else 1) * (1 if ascending else -1)
        return (left[1] > right[1]) - (left[1] < right[1])


def run_order(keys: Sequence[OrderKey]) -> SortOrder:
    """MLflow's order: the keys asked for, then the newest start first, then the run id."""
    for key in keys:
        if key.entity == Entity.ATTRIBUTE and key.key not in {*RUN_TEXT_ATTRIBUTES, *RUN_TIME_ATTRIBUTES}:
            raise unsupported_order(
                key, "runs sort by start_time, end_time, run_name, status, user_id, run_id, metrics, params or tags"
            )
        if key.entity == Entity.DATASET:
            raise unsupported_order(key, "runs do not sort by datasets")
    chosen = [*keys, OrderKey(Entity.ATTRIBUTE, "start_time", False, "start_time DESC")]

    def values(run: RunView) -> list[SortValue]:
        return [_sortable(_run_value(run, key.entity, key.key)) for key in chosen]

    return SortOrder(values, tuple(key.ascending for key in chosen), lambda run: run.run_id)


def experiment_order(keys: Sequence[OrderKey]) -> SortOrder:
    for key in keys:
        if key.entity != Entity.ATTRIBUTE or key.key not in {*EXPERIMENT_TEXT_ATTRIBUTES, *EXPERIMENT_TIME_ATTRIBUTES}:
            raise unsupported_order(key, "experiments sort by name, experiment_id, creation_time or last_update_time")
    chosen = [*keys, OrderKey(Entity.ATTRIBUTE, "creation_time", False, "creation_time DESC")]

    def values(experiment: ExperimentView) -> list[SortValue]:
        return [_sortable(_experiment_value(experiment, key.entity, key.key)) for key in chosen]

    return SortOrder(values, tuple(key.ascending for key in chosen), lambda experiment: experiment.experiment_id)


def _sortable(value: SortValue) -> SortValue:
    return None if isinstance(value, float) and math.isnan(value) else value


def page_of(
    rows: Sequence[T], order: SortOrder, limit: int, token: str | None, query: str
) -> tuple[list[T], str | None]:
    """The rows after the token's place in `order`, at most `limit`, and the token of the next page (None
    when this page is the last); `query` fingerprints the search, so a token continues only its own."""
    compare = functools.cmp_to_key(order.compare)
    keyed = [(order.key_of(row), row) for row in rows]
    after = decode_page_token(token, query, len(order.ascending) + 1)
    if after is not None:
        if not isinstance(after[-1], str):
            raise invalid_parameter(f"page_token is not valid (bad id): {TOKEN_HINT}")
        place = ([float(value) if isinstance(value, int) else value for value in after[:-1]], after[-1])
        keyed = [(key, row) for key, row in keyed if order.compare(key, place) > 0]
    keyed.sort(key=lambda pair: compare(pair[0]))
    chosen = keyed[: limit + 1]
    if len(chosen) <= limit:
        return [row for _, row in chosen], None
    values, row_id = chosen[limit - 1][0]
    return [row for _, row in chosen[:limit]], encode_page_token([*values, row_id], query)
