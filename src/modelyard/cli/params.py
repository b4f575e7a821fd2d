"""Arguments that many commands share, each with its help line written once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer


def one_segment(what: str) -> Callable[[str | None], str | None]:
    """A check that the value names one thing: a '/' would make it a path of the API instead (`m/`, `m/abc`)."""

    def check(value: str | None) -> str | None:
        if value is not None and ("/" in value or not value.strip()):
            raise typer.BadParameter(f"{value!r} is not a {what}: give its name or id, without '/'")
        return value

    return check


ProjectArgument = Annotated[
    str,
    typer.Argument(help="Project name or id (or the id's first 6+ characters).", callback=one_segment("project")),
]
RevisionArgument = Annotated[
    str,
    typer.Argument(
        metavar="REVISION",
        help="Model revision: PROJECT/NUMBER (e.g. digits/4), its id, or the id's first 6+ characters.",
    ),
]
JobArgument = Annotated[
    str, typer.Argument(metavar="JOB", help="Job id (or its first 6+ characters).", callback=one_segment("job id"))
]
LabelArgument = Annotated[str, typer.Argument(help="Label name or id.", callback=one_segment("label"))]
DatasetRevisionArgument = Annotated[
    str,
    typer.Argument(
        metavar="REVISION",
        help="Dataset revision: its number, `latest`, or its id (or the id's first 6+ characters).",
        callback=one_segment("dataset revision"),
    ),
]
ArchitectureArgument = Annotated[
    str,
    typer.Argument(
        metavar="ARCHITECTURE",
        help="Architecture id (`modelyard architectures list`).",
        callback=one_segment("architecture id"),
    ),
]
