"""Processes that keep every core busy, for tests and benchmarks of behaviour under load."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

SPIN = "while True:\n    pass\n"


@contextmanager
def busy_cores(processes: int | None = None) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Run `processes` spinning Python processes (default: two per CPU) while the block runs; always stopped."""
    count = processes if processes is not None else 2 * (os.cpu_count() or 1)
    spinners: list[subprocess.Popen[bytes]] = []
    try:
        for _ in range(count):
            spinners.append(subprocess.Popen([sys.executable, "-c", SPIN], stdin=subprocess.DEVNULL))
        yield spinners
    finally:
        for spinner in spinners:
            spinner.kill()
        for spinner in spinners:
            spinner.wait()
