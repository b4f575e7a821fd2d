"""Who writes under `.tmp/`: every writer has a folder `.tmp/<owner>/`, named so a sweep can tell
whether the writer still lives.

- `job-<job id>`: a job's process; alive while the job is running (its record says so).
- `pid-<pid>.<start>@<host>`: a server or CLI process; alive while a process with that pid and that
  start time runs on that host (the start time tells a reused pid, e.g. pid 1 in a restarted container).
Anything else under `.tmp/` is from an older version or another tool: removed once idle for the grace period.
"""

from __future__ import annotations

import os
import re
import socket
from dataclasses import dataclass
from pathlib import Path

JOB_PREFIX = "job-"
_PROCESS_OWNER = re.compile(r"^pid-(\d+)\.(\d+)@(.+)$")


def job_owner(job_id: str) -> str:
    return f"{JOB_PREFIX}{job_id}"


def process_owner() -> str:
    pid = os.getpid()
    return f"pid-{pid}.{_start_ticks(pid) or 0}@{socket.gethostname()}"


@dataclass(frozen=True)
class Owner:
    """A parsed owner folder name: a job's id, or a process (pid, start, host), or neither."""

    job_id: str | None = None
    pid: int | None = None
    start: int | None = None
    host: str | None = None


def parse_owner(name: str) -> Owner:
    if name.startswith(JOB_PREFIX) and len(name) > len(JOB_PREFIX):
        return Owner(job_id=name[len(JOB_PREFIX) :])
    match = _PROCESS_OWNER.match(name)
    if match:
        return Owner(pid=int(match[1]), start=int(match[2]), host=match[3])
    return Owner()


def process_alive(owner: Owner) -> bool | None:
    """True or False for a process of this host; None when this host cannot tell (another host)."""
    if owner.pid is None or owner.host != socket.gethostname():
        return None
    start = _start_ticks(owner.pid)
    if start is None:
        if Path("/proc").is_dir():
            return False
        try:
            os.kill(owner.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return owner.start in (0, start)


def _start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux), or None if no such process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: fields are counted after its last ')'.
    return int(stat.rsplit(")", 1)[1].split()[19])
