"""Walking keyset-paginated lists."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from modelyard.kit.page import Page

T = TypeVar("T")


def iterate_pages(list_page: Callable[..., Page[T]], *args: Any, **filters: Any) -> Iterator[T]:
    """Every item of `list_page(*args, cursor=..., **filters)`, page after page."""
    cursor = None
    while True:
        page = list_page(*args, cursor=cursor, **filters)
        yield from page.items
        if not page.next_cursor:
            return
        cursor = page.next_cursor
