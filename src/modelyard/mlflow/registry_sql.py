"""Hand-written SQL for MLflow's registry searches, run on the session's own DB-API connection (inside the
session's transaction): building SQLAlchemy statements and turning their rows into Row objects cost several
times what SQLite takes to answer a page, so the searches write their SQL as text and read plain tuples.

One `Sql` is a fragment of SQL text with its parameters, in the dialect's placeholder style (`?` for sqlite3,
`%s` for psycopg). Values are always parameters, never spliced into the text; identifiers come from fixed maps.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from modelyard.mlflow.filters import Comparison, Operator

# How SQLAlchemy's SQLite dialect stores a DateTime (UTC, no zone: see db/base.py's UTCDateTime).
SQLITE_TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"


@dataclass(frozen=True)
class Sql:
    text: str
    params: tuple[Any, ...] = ()

    def __and__(self, other: Sql) -> Sql:
        return Sql(f"{self.text} AND {other.text}", self.params + other.params)


TRUE = Sql("1 = 1")
FALSE = Sql("1 = 0")


def all_of(parts: Iterable[Sql]) -> Sql:
    found = [part for part in parts if part is not TRUE]
    if not found:
        return TRUE
    return Sql(" AND ".join(f"({part.text})" for part in found), tuple(v for part in found for v in part.params))


def any_of(parts: Sequence[Sql]) -> Sql:
    return Sql(" OR ".join(f"({part.text})" for part in parts), tuple(v for part in parts for v in part.params))


class Dialect:
    """What differs between SQLite and PostgreSQL in the searches' SQL."""

    def __init__(self, session: Session, connection: Any = None) -> None:
        self.session = session
        self.sqlite = session.get_bind().dialect.name == "sqlite"
        self.mark = "?" if self.sqlite else "%s"
        self._transaction: Any = None
        self._connection: Any = connection
        self._own_connection = connection is not None

    def run(self, statement: Sql) -> list[tuple[Any, ...]]:
        """The rows of one statement, read on the connection given (Database.read_connection), or else on the
        session's (which begins its transaction). The session is asked for its connection once per transaction:
        a commit or rollback begins another."""
        if not self._own_connection:
            transaction = self.session.get_transaction()
            if transaction is None or transaction is not self._transaction:
                self._connection = self.session.connection().connection.dbapi_connection
                self._transaction = self.session.get_transaction()
        cursor = self._connection.cursor()
        try:
            cursor.execute(statement.text, statement.params)
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def marks(self, count: int) -> str:
        return ", ".join([self.mark] * count)

    def bind(self, value: Any) -> Any:
        """A parameter as the driver is given it: SQLite keeps times as UTC text, in SQLAlchemy's format."""
        if isinstance(value, datetime) and self.sqlite:
            return value.astimezone(UTC).strftime(SQLITE_TIME_FORMAT)
        return value

    def time(self, value: Any) -> datetime:
        """A time column's value as an aware UTC datetime, as the ORM reads it."""
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def millis(self, value: Any) -> int:
        """MLflow's time (milliseconds since the epoch), computed as registry_views.milliseconds does."""
        return int(self.time(value).timestamp() * 1000)

    def json_text(self, column: str, key: str) -> str:
        """A text field of a JSON document column (keys come from fixed names, never from a request)."""
        return f"json_extract({column}, '$.\"{key}\"')" if self.sqlite else f"({column} ->> '{key}')"

    def one_of(self, column: str, values: Sequence[Any]) -> Sql:
        if not values:
            return FALSE
        return Sql(f"{column} IN ({self.marks(len(values))})", tuple(self.bind(value) for value in values))

    def compare(self, column: str, comparison: Comparison) -> Sql:
        """`column <operator> value` for one parsed comparison (its value already checked by the search)."""
        value, operator, mark = comparison.value, comparison.operator, self.mark
        if operator in SIMPLE:
            return Sql(f"{column} {SIMPLE[operator]} {mark}", (self.bind(value),))
        if operator == Operator.LIKE:
            # MLflow's LIKE is case-sensitive: PostgreSQL's is, SQLite's is not, where GLOB is.
            if self.sqlite:
                return Sql(f"{column} GLOB {mark}", (like_to_glob(str(value)),))
            return Sql(f"{column} LIKE {mark}", (str(value),))
        if operator == Operator.ILIKE:
            return Sql(f"lower({column}) LIKE {mark}", (str(value).lower(),))
        values = list(value) if isinstance(value, tuple) else [value]
        inside = self.one_of(column, values)
        return inside if operator == Operator.IN else Sql(f"NOT ({inside.text})", inside.params)


SIMPLE = {
    Operator.EQUAL: "=", Operator.NOT_EQUAL: "!=", Operator.LESS: "<", Operator.LESS_OR_EQUAL: "<=",
    Operator.GREATER: ">", Operator.GREATER_OR_EQUAL: ">=",
}  # fmt: skip


def like_to_glob(pattern: str) -> str:
    """A LIKE pattern as a GLOB pattern: `%` -> `*`, `_` -> `?`, GLOB's own wildcards taken literally."""
    special = {"%": "*", "_": "?", "*": "[*]", "?": "[?]", "[": "[[]"}
    return "".join(special.get(character, character) for character in pattern)


@dataclass(frozen=True)
class SortColumn:
    column: str  # SQL, from a fixed map
    ascending: bool


def after_keyset(dialect: Dialect, columns: Sequence[SortColumn], values: Sequence[Any]) -> Sql:
    """Rows after the one whose sort key is `values`, in the order of `columns` (mixed directions), with a range
    on the first key that an index can seek to."""
    alternatives = []
    for index, sort in enumerate(columns):
        parts = [Sql(f"{columns[position].column} = {dialect.mark}", (dialect.bind(values[position]),))
                 for position in range(index)]  # fmt: skip
        beyond = ">" if sort.ascending else "<"
        parts.append(Sql(f"{sort.column} {beyond} {dialect.mark}", (dialect.bind(values[index]),)))
        alternatives.append(all_of(parts))
    first = columns[0]
    reach = Sql(f"{first.column} {'>=' if first.ascending else '<='} {dialect.mark}", (dialect.bind(values[0]),))
    return all_of([reach, any_of(alternatives)])


def order_and_limit(dialect: Dialect, columns: Sequence[SortColumn], limit: int) -> Sql:
    order = ", ".join(f"{sort.column} {'ASC' if sort.ascending else 'DESC'}" for sort in columns)
    return Sql(f" ORDER BY {order} LIMIT {dialect.mark}", (limit,))
