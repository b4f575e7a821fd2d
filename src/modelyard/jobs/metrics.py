"""Reading the figures a job records as it runs (`JobContext.record_metrics`): whole lines only, so a record
being written is read on the next pass, never half."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_metrics_from(path: Path, position: int = 0) -> tuple[list[dict[str, Any]], int]:
    """The records appended to ``path`` since byte ``position``, and the position after the last whole line."""
    if not path.exists():
        return [], position
    with path.open("rb") as handle:
        handle.seek(position)
        chunk = handle.read()
    complete = chunk[: chunk.rfind(b"\n") + 1]
    records = [json.loads(line) for line in complete.decode("utf-8").splitlines() if line.strip()]
    return records, position + len(complete)
