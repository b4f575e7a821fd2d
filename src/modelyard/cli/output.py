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


def print_table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    from rich.table import Table

    table = Table(title=title, show_lines=False, header_style="bold")
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(_cell(value) for value in row))
    console.print(table)


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
