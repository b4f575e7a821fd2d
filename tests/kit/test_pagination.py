from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select
from sqlalchemy.engine import Engine

from modelyard.context import AppContext
from modelyard.errors import InvalidInput
from modelyard.kit.pagination import Keyset, Order, decode_cursor, encode_cursor, split_rows

ROWS = [{"id": f"r{index:02d}", "score": index % 4, "label": f"{'abc'[index % 3]}xx-{index}"} for index in range(23)]


@pytest.fixture
def rows_table(context: AppContext) -> Iterator[tuple[Engine, Table]]:
    table = Table(
        "keyset_rows", MetaData(), Column("id", String(8), primary_key=True), Column("score", Integer),
        Column("label", String(32)),
    )
    table.create(context.db.engine)
    with context.db.engine.begin() as connection:
        connection.execute(table.insert(), ROWS)
    try:
        yield context.db.engine, table
    finally:
        table.drop(context.db.engine)


def _walk(engine: Engine, table: Table, keyset: Keyset, cursor_of: Callable[[Any], tuple[Any, str]]) -> list[str]:
    seen: list[str] = []
    cursor: str | None = None
    with engine.connect() as connection:
        while True:
            rows = connection.execute(keyset.apply(select(table), 4, cursor)).all()
            page, cursor = split_rows(rows, 4, cursor_of)
            seen.extend(row.id for row in page)
            if cursor is None:
                return seen


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_tied_sort_values_continue_by_id_without_gaps_or_repeats(
    rows_table: tuple[Engine, Table], order: Order
) -> None:
    engine, table = rows_table
    seen = _walk(engine, table, Keyset(table.c.score, table.c.id, order), lambda row: (row.score, row.id))
    expected = sorted(ROWS, key=lambda row: (row["score"], row["id"]), reverse=order == "desc")
    assert seen == [row["id"] for row in expected]


def test_expression_sort_key_pages_in_expression_order(rows_table: tuple[Engine, Table]) -> None:
    engine, table = rows_table
    prefix = func.substr(table.c.label, 1, 1)
    seen = _walk(engine, table, Keyset(prefix, table.c.id, "asc"), lambda row: (row.label[:1], row.id))
    assert seen == [row["id"] for row in sorted(ROWS, key=lambda row: (row["label"][:1], row["id"]))]


def test_unique_sort_key_is_compared_alone(rows_table: tuple[Engine, Table]) -> None:
    engine, table = rows_table
    keyset = Keyset(table.c.id, table.c.id, "desc")
    statement = keyset.apply(select(table), 4, encode_cursor("r10", "r10"))
    assert "(keyset_rows.id, keyset_rows.id)" not in str(statement)
    seen = _walk(engine, table, keyset, lambda row: (row.id, row.id))
    assert seen == sorted((str(row["id"]) for row in ROWS), reverse=True)


def test_bad_cursor_and_limit_are_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="cursor is not valid"):
        decode_cursor("not-a-cursor")
    with pytest.raises(InvalidInput, match="limit must be between 1 and 1000, got 0"):
        Keyset(Column("id", String), Column("id", String), "asc").apply(select(Column("id", String)), 0, None)


def test_sdk_import_loads_neither_sqlalchemy_nor_the_http_edge() -> None:
    probe = (
        "import modelyard.sdk, sys; "
        "print(sorted(m for m in ('sqlalchemy', 'modelyard.api', 'fastapi') if m in sys.modules))"
    )
    output = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"
