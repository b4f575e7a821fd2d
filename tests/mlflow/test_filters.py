"""MLflow filter strings and order_by clauses parse into typed trees; what the language cannot say is refused
with INVALID_PARAMETER_VALUE naming the clause."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from modelyard.mlflow.errors import MlflowError
from modelyard.mlflow.filters import (
    Comparison,
    Entity,
    Operator,
    like_pattern_to_regex,
    parse_filter,
    parse_order_by,
)
from modelyard.mlflow.pages import decode_page_token, encode_page_token


def test_a_conjunction_of_entities_parses_into_typed_comparisons() -> None:
    parsed = parse_filter("metrics.acc >= 0.9 and params.lr = '0.1' AND tags.team != \"vision\" AND name='m'")
    assert parsed.comparisons == (
        Comparison(Entity.METRIC, "acc", Operator.GREATER_OR_EQUAL, 0.9, "metrics.acc >= 0.9"),
        Comparison(Entity.PARAM, "lr", Operator.EQUAL, "0.1", "params.lr = '0.1'"),
        Comparison(Entity.TAG, "team", Operator.NOT_EQUAL, "vision", 'tags.team != "vision"'),
        Comparison(Entity.ATTRIBUTE, "name", Operator.EQUAL, "m", "name='m'"),
    )


def test_quoted_keys_dotted_keys_and_escaped_quotes_keep_their_text() -> None:
    parsed = parse_filter("tags.`my key` = 'it''s' AND tags.mlflow.runName LIKE 'run%' AND params.\"batch size\" = '8'")
    assert [(c.entity, c.key, c.value) for c in parsed.comparisons] == [
        (Entity.TAG, "my key", "it's"),
        (Entity.TAG, "mlflow.runName", "run%"),
        (Entity.PARAM, "batch size", "8"),
    ]


def test_in_lists_and_numbers_keep_their_types() -> None:
    parsed = parse_filter("attributes.status IN ('FINISHED', 'RUNNING') AND version_number = 3 AND metrics.x < -1e-3")
    assert [c.value for c in parsed.comparisons] == [("FINISHED", "RUNNING"), 3, -0.001]
    assert parse_filter("run_id NOT IN ('a')").comparisons[0].operator == Operator.NOT_IN


def test_an_empty_filter_has_no_comparisons() -> None:
    assert parse_filter("  ").comparisons == ()
    assert parse_filter(None).comparisons == ()


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("name = 'a' OR name = 'b'", "`OR name = 'b'`"),
        ("NOT name = 'a'", "`NOT name = 'a'`"),
        ("name IS NULL", "`name IS NULL`"),
        ("models.x = 'a'", "`models.x...`"),
    ],
)
def test_unsupported_clauses_are_invalid_parameter_values_naming_the_clause(text: str, named: str) -> None:
    with pytest.raises(MlflowError) as raised:
        parse_filter(text)
    assert raised.value.error_code == "INVALID_PARAMETER_VALUE"
    assert raised.value.status == 400
    assert f"unsupported filter clause {named}" in raised.value.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [("name = ", "expected a quoted string or a number at position 7"), ("name LIKE 3", "expected a quoted string"),
     ("name = 'a' b", "expected AND or the end of the filter at position 11"), ("name = 'a", "unexpected character")],
)  # fmt: skip
def test_malformed_filters_say_where_and_what_was_expected(text: str, expected: str) -> None:
    with pytest.raises(MlflowError) as raised:
        parse_filter(text)
    assert expected in raised.value.message


def test_order_by_clauses_parse_direction_and_entity() -> None:
    keys = parse_order_by(["name DESC", "metrics.`val loss` asc", "creation_timestamp"])
    assert [(key.entity, key.key, key.ascending) for key in keys] == [
        (Entity.ATTRIBUTE, "name", False),
        (Entity.METRIC, "val loss", True),
        (Entity.ATTRIBUTE, "creation_timestamp", True),
    ]
    with pytest.raises(MlflowError, match="order_by clause 'name sideways' is not valid"):
        parse_order_by(["name sideways"])


def test_like_patterns_match_as_sql_does() -> None:
    assert like_pattern_to_regex("ab%_x", case_sensitive=True).match("abZZZqx")
    assert not like_pattern_to_regex("ab%", case_sensitive=True).match("AB")
    assert like_pattern_to_regex("ab%", case_sensitive=False).match("ABc")


def test_page_tokens_round_trip_and_refuse_another_search() -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    token = encode_page_token([moment, 3, "abc"], "query-a")
    assert decode_page_token(token, "query-a", 3) == [moment, 3, "abc"]
    with pytest.raises(MlflowError, match="belongs to another search"):
        decode_page_token(token, "query-b", 3)
    with pytest.raises(MlflowError, match="not a token this server wrote"):
        decode_page_token("%%%", "query-a", 3)
