"""Ids by prefix: the first characters of an id stand for it when no other id of the same kind starts with them.

Ids are 32 hex characters (`db.base.new_id`); people copy the first few from a table. A prefix must have at
least `MIN_ID_PREFIX` characters, so that a short number or word (`4`, `latest`, a name) is never read as one.
A full id always wins; callers try names and numbers before prefixes, so a prefix never shadows them.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from modelyard.errors import InvalidInput

MIN_ID_PREFIX = 6
_ID_PREFIX = re.compile(rf"[0-9a-f]{{{MIN_ID_PREFIX},31}}")

Entity = TypeVar("Entity")


def is_id_prefix(reference: str) -> bool:
    """True when `reference` can stand for an id: 6 to 31 lowercase hex characters."""
    return _ID_PREFIX.fullmatch(reference) is not None


def one_by_id_prefix(
    session: Session, entity: type[Entity], prefix: str, *conditions: ColumnElement[bool], what: str
) -> Entity | None:
    """The one `entity` whose id starts with `prefix` (within `conditions`), None when none does; an
    ambiguous prefix is refused, saying how many ids it matches."""
    if not is_id_prefix(prefix):
        return None
    id_column: Any = entity.id  # type: ignore[attr-defined]
    matching = (id_column.startswith(prefix), *conditions)
    ids = session.scalars(select(id_column).where(*matching).limit(2)).all()
    if len(ids) > 1:
        count = session.scalar(select(func.count()).select_from(entity).where(*matching))
        raise InvalidInput(
            f"ambiguous id prefix {prefix!r}: it matches {count} {what}s; give more characters of the id",
            code="ambiguous_id",
        )
    return session.get(entity, ids[0]) if ids else None
