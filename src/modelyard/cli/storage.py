"""`modelyard storage ...`: what the stored files take. Verification and clean-up are jobs:
`modelyard job submit storage.verify` and `modelyard job submit storage.gc`."""

from __future__ import annotations

from typing import Annotated

import typer

from modelyard.cli.output import print_fields, print_json, print_table
from modelyard.cli.state import client

app = typer.Typer(help="Stored files: usage by folder and project.", no_args_is_help=True)


@app.command("usage")
def usage(ctx: typer.Context, json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Files and bytes in all, by top folder and by project, and the disk's free space (admin)."""
    found = client(ctx).files.usage()
    if json:
        print_json(found)
        return
    print_fields(
        {
            "files": found.files,
            "size": _size(found.bytes),
            "on disk": f"{_size(found.stored_bytes)} (each content once)",
            "disk free": f"{_size(found.free_bytes)} of {_size(found.total_bytes)}",
        }
    )
    print_table("folders", ["folder", "files", "size"], [(f.folder, f.files, _size(f.bytes)) for f in found.folders])
    print_table(
        "projects",
        ["project", "files", "size", "id"],
        [(p.project_name or "(deleted)", p.files, _size(p.bytes), p.project_id) for p in found.projects],
    )


def _size(count: int) -> str:
    value = float(count)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TB"
