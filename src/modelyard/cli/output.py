"""Printing for the CLI: JSON for scripts, Rich tables for people, one red line for errors."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import typer
from rich.console import Console

console = Console()
error_console = Console(stderr=True)


def to_jsonable(value: Any) -> Any:
    # Duck-typed rather than `isinstance(value, BaseModel)`: importing pydantic here would cost every CLI start,
    # `--help` included, about 0.15 s; the SDK's results are pydantic models, and they bring pydantic with them.
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [to_jsonable(item) for item in value]
    return value


def print_json(value: Any) -> None:
    print(json.dumps(to_jsonable(value), indent=2, ensure_ascii=False))


class Id(str):
    """A table cell holding an id: shown as its shortest prefix (8 characters or more) that tells the column's ids
    apart, which every command accepts in place of the id, and never cut or wrapped."""


def shown_id(value: str | None) -> Id | None:
    return None if value is None else Id(value)


SHORTEST_SHOWN_ID = 8  # the server accepts 6 or more; 8 keeps ids apart across a project in practice


def print_table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    from rich.table import Table

    cells = [list(row) for row in rows]
    table = Table(title=title, show_lines=False, header_style="bold")
    for index, column in enumerate(columns):
        ids = {str(row[index]) for row in cells if isinstance(row[index], Id)}
        if ids:
            width = _distinct_prefix_length(ids)
            for row in cells:
                row[index] = row[index][:width] if isinstance(row[index], Id) else row[index]
            table.add_column(column, no_wrap=True, min_width=max(width, len(column)))
        else:
            table.add_column(column)
    for row in cells:
        table.add_row(*(_cell(value) for value in row))
    console.print(table)


def _distinct_prefix_length(ids: set[str]) -> int:
    longest = max(len(value) for value in ids)
    for length in range(SHORTEST_SHOWN_ID, longest):
        if len({value[:length] for value in ids}) == len(ids):
            return length
    return longest


def print_fields(fields: dict[str, Any]) -> None:
    width = max(len(key) for key in fields)
    for key, value in fields.items():
        console.print(f"[bold]{key.ljust(width)}[/bold]  {_cell(value)}", highlight=False)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def fail(message: str) -> None:
    from rich.markup import escape

    # Escaped: a message quoting user input or an error ("[job ...]", "labels[0]") is text, not Rich markup.
    error_console.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)


def parse_pairs(pairs: Sequence[str], option: str) -> dict[str, Any]:
    """`key=value` options as a dict; values are JSON when they parse as JSON, else strings."""
    parsed: dict[str, Any] = {}
    for pair in pairs:
        key, separator, raw = pair.partition("=")
        if not separator or not key:
            raise typer.BadParameter(f"expected key=value, got {pair!r}", param_hint=option)
        try:
            parsed[key] = json.loads(raw)
        except ValueError:
            parsed[key] = raw
    return parsed
