"""Named moments of a write, where a crash test can stop a real process before it kills it.

`reached("import.batch_committed")` does nothing unless the process was started with
`MODELYARD_TEST_PAUSE_AT` naming that point (optionally `NAME:N`, the Nth time it is reached). Then it
writes its pid to the file named by `MODELYARD_TEST_PAUSE_MARKER` and blocks for good, so the test
knows the moment has come and can SIGKILL the process there. The environment is read once, at
import: in production the check is one lookup in an empty dict.

Points: `files.staged` (a file's bytes staged, its record not committed), `files.streaming` (bytes
streaming into a staged file), `files.publish` (committed, nothing published yet),
`files.publish.half` (committed, half of the keys linked), `import.batch_committed` (a batch of a
dataset import committed and published).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

PAUSE_ENV = "MODELYARD_TEST_PAUSE_AT"
MARKER_ENV = "MODELYARD_TEST_PAUSE_MARKER"


def _parse(value: str) -> dict[str, int]:
    if not value:
        return {}
    name, _, count = value.partition(":")
    return {name: int(count or 1)}


_PAUSES = _parse(os.environ.get(PAUSE_ENV, ""))  # read once: never consulted again in production
_seen: dict[str, int] = {}
_lock = threading.Lock()


def reached(point: str) -> None:
    """Mark that the write reached `point`; blocks for good if a test asked to pause here."""
    if point not in _PAUSES:
        return
    with _lock:
        _seen[point] = _seen.get(point, 0) + 1
        if _seen[point] != _PAUSES[point]:
            return
    marker = Path(os.environ[MARKER_ENV])
    marker.with_suffix(".part").write_text(str(os.getpid()))
    marker.with_suffix(".part").replace(marker)  # the test sees the whole pid or nothing
    threading.Event().wait()
