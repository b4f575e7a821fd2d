"""Arguments that many commands share, each with its help line written once."""

from __future__ import annotations

from typing import Annotated

import typer

ProjectArgument = Annotated[str, typer.Argument(help="Project name or id (or the id's first 6+ characters).")]
RevisionArgument = Annotated[
    str,
    typer.Argument(
        metavar="REVISION",
        help="Model revision: PROJECT/NUMBER (e.g. digits/4), its id, or the id's first 6+ characters.",
    ),
]
JobArgument = Annotated[str, typer.Argument(metavar="JOB", help="Job id (or its first 6+ characters).")]
LabelArgument = Annotated[str, typer.Argument(help="Label name or id.")]
DatasetRevisionArgument = Annotated[
    str, typer.Argument(metavar="REVISION", help="Dataset revision: its number, `latest`, or its id (or a prefix).")
]
ArchitectureArgument = Annotated[
    str, typer.Argument(metavar="ARCHITECTURE", help="Architecture id (`modelyard architectures list`).")
]
