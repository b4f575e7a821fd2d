"""Keyset pagination: a cursor holds the last row's sort value and id, so page N costs what page 1 does."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute

from modelyard.errors import InvalidInput

T = TypeVar("T")
Order = Literal["asc", "desc"]
MAX_LIMIT = 1000


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(value: Any, row_id: str) -> str:
    if isinstance(value, datetime):
        payload = {"t": value.isoformat(), "id": row_id}
    else:
        payload = {"v": value, "id": row_id}
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[Any, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded))
        if "t" in payload:
            return datetime.fromisoformat(payload["t"]), payload["id"]
        return payload["v"], payload["id"]
    except (ValueError, KeyError, TypeError):
        raise InvalidInput("cursor is not valid: pass the next_cursor of a previous page unchanged") from None


def keyset_page(
    statement: Select[Any],
    sort_column: InstrumentedAttribute[Any],
    id_column: InstrumentedAttribute[Any],
    *,
    order: Order,
    limit: int,
    cursor: str | None,
) -> Select[Any]:
    """Add ordering, the cursor condition and a limit of `limit + 1` (the extra row says a next page exists)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    if cursor:
        value, last_id = decode_cursor(cursor)
        if order == "asc":
            condition = or_(sort_column > value, and_(sort_column == value, id_column > last_id))
        else:
            condition = or_(sort_column < value, and_(sort_column == value, id_column < last_id))
        statement = statement.where(condition)
    if order == "asc":
        statement = statement.order_by(sort_column.asc(), id_column.asc())
    else:
        statement = statement.order_by(sort_column.desc(), id_column.desc())
    return statement.limit(limit + 1)


def split_page(rows: Sequence[T], limit: int, sort_key: str) -> tuple[list[T], str | None]:
    """Cut the extra row off and build the cursor of the next page from the last row kept."""
    items = list(rows[:limit])
    if len(rows) <= limit or not items:
        return items, None
    last = items[-1]
    return items, encode_cursor(getattr(last, sort_key), last.id)  # type: ignore[attr-defined]
