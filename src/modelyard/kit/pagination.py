"""Keyset pagination: a cursor holds the last row's sort value and id, so page N costs what page 1 does.

One `Keyset` serves every list: a plain column or an expression (a substring, a joined column) as the sort
key, ordered by (sort key, unique id). When the sort key is unique by itself (an id, a version number within
a model) the id is left out and the continuation is a plain comparison; otherwise it is one row-value
comparison, `(sort, id) > (value, last_id)`, which PostgreSQL and SQLite both answer from an index on
(sort, id) as a range scan.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Literal, TypeVar

from sqlalchemy import DateTime, Float, Integer, Numeric, Select, SQLColumnExpression, TypeDecorator, tuple_

from modelyard.errors import InvalidInput
from modelyard.kit.bounds import fits_int64, to_utc

T = TypeVar("T")
Order = Literal["asc", "desc"]
MAX_LIMIT = 1000


def encode_cursor(value: Any, row_id: str) -> str:
    if isinstance(value, datetime):
        payload = {"t": value.isoformat(), "id": row_id}
    else:
        payload = {"v": value, "id": row_id}
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


CURSOR_HINT = "pass the next_cursor of a previous page unchanged"


def invalid_cursor(reason: str) -> InvalidInput:
    return InvalidInput(f"cursor is not valid ({reason}): {CURSOR_HINT}", code="invalid_cursor")


def decode_cursor(cursor: str) -> tuple[Any, Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded))
        if "t" in payload:
            return datetime.fromisoformat(payload["t"]), payload["id"]
        return payload["v"], payload["id"]
    except (ValueError, KeyError, TypeError, OverflowError):
        raise invalid_cursor("not a cursor this server wrote") from None


def check_cursor_value(value: Any, column: SQLColumnExpression[Any]) -> None:
    """Refuse a decoded value the column cannot be compared with: a well-formed cursor can still hold a dict,
    a list, null or a number past 64 bits, and the database would fail on it instead of answering."""
    kind = getattr(column, "type", None)
    if isinstance(kind, TypeDecorator):  # e.g. a DateTime kept in UTC: judge by what it stores
        kind = kind.impl_instance
    if isinstance(kind, DateTime):
        ok = isinstance(value, datetime) and _fits_utc(value)
    elif isinstance(kind, Integer):
        ok = isinstance(value, int) and not isinstance(value, bool) and fits_int64(value)
    elif isinstance(kind, Float | Numeric):
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        ok = ok and (not isinstance(value, int) or fits_int64(value))
    else:  # strings, and expressions over them
        ok = isinstance(value, str) and "\x00" not in value and _encodable(value)
    if not ok:
        raise invalid_cursor(f"a {type(value).__name__} where the list is sorted by a {type(kind).__name__}")


def _fits_utc(moment: datetime) -> bool:
    try:
        to_utc(moment)
    except ValueError:
        return False
    return True


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True


class Keyset:
    """Order by (sort key, unique id) and continue after a cursor with one comparison."""

    def __init__(self, sort: SQLColumnExpression[Any], unique: SQLColumnExpression[Any], order: Order) -> None:
        self.sort, self.unique, self.order = sort, unique, order

    def apply(self, statement: Select[Any], limit: int, cursor: str | None) -> Select[Any]:
        """Add ordering, the cursor condition and a limit of `limit + 1` (the extra row says a next page exists)."""
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
        # A sort key that is unique by itself needs no tie-breaker: the plain comparison lets the
        # planner walk the index.
        alone = self.sort is self.unique
        if cursor:
            value, last_id = decode_cursor(cursor)
            check_cursor_value(value, self.sort)
            if not alone:
                check_cursor_value(last_id, self.unique)
            key = self.sort if alone else tuple_(self.sort, self.unique)
            after = value if alone else (value, last_id)
            statement = statement.where(key > after if self.order == "asc" else key < after)
        columns = [self.sort] if alone else [self.sort, self.unique]
        if self.order == "asc":
            statement = statement.order_by(*(column.asc() for column in columns))
        else:
            statement = statement.order_by(*(column.desc() for column in columns))
        return statement.limit(limit + 1)


def keyset_page(
    statement: Select[Any],
    sort_column: SQLColumnExpression[Any],
    id_column: SQLColumnExpression[Any],
    *,
    order: Order,
    limit: int,
    cursor: str | None,
) -> Select[Any]:
    """`statement` ordered by (sort_column, id_column), after `cursor`, limited to `limit + 1` rows."""
    return Keyset(sort_column, id_column, order).apply(statement, limit, cursor)


def split_rows(rows: Sequence[T], limit: int, cursor_of: Callable[[T], tuple[Any, str]]) -> tuple[list[T], str | None]:
    """Cut the extra row off; the next cursor is `cursor_of` (sort value, id) of the last row kept."""
    items = list(rows[:limit])
    if len(rows) <= limit or not items:
        return items, None
    value, row_id = cursor_of(items[-1])
    return items, encode_cursor(value, row_id)


def split_page(rows: Sequence[T], limit: int, sort_key: str) -> tuple[list[T], str | None]:
    """`split_rows` for rows whose sort value is their attribute `sort_key` and whose id is `id`."""
    return split_rows(rows, limit, lambda row: (getattr(row, sort_key), row.id))  # type: ignore[attr-defined]
