"""Where a claimed job's body runs: a process of its own on this server, or a task on a Ray cluster.

The runner claims a job (a compare-and-set on its row), hands it to its executor, and watches the execution it
gets back: whether it ended and how, and how to stop it (politely, then for good). Everything else a job does
(progress, heartbeat, log lines, outcome) goes through the database and the store, the same for every executor.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Protocol

from modelyard.jobs.registry import JobType
from modelyard.jobs.worker import PARENT_ENV, SETTINGS_ENV

if TYPE_CHECKING:
    from modelyard.config import Settings
    from modelyard.jobs.models import Job


class ExecutorUnavailable(Exception):
    """The executor cannot start the job (no process, no cluster)."""


@dataclass(frozen=True)
class ExecutionEnd:
    """How an execution ended: the body's exit code, or why the execution was lost on the way."""

    code: int | None
    lost: str | None = None
    output: str = ""  # what the body's process printed before its log took over its output (a failed start)


class Execution(Protocol):
    """One job's body running somewhere; the runner that started it polls and stops it."""

    job_id: str

    @property
    def recorded(self) -> dict[str, object]:
        """Columns of the job row that say where it runs (a pid, a Ray task id)."""
        ...

    def poll(self) -> ExecutionEnd | None:
        """None while it runs; how it ended once it has."""
        ...

    def terminate(self) -> None:
        """Ask the body to stop at once (it still records its own end)."""
        ...

    def kill(self) -> None:
        """End it without waiting for it."""
        ...

    def wait(self, timeout: float) -> bool:
        """Whether it ended within `timeout` seconds."""
        ...


class Executor(Protocol):
    name: str

    def start(self, job_id: str, job_type: JobType) -> Execution: ...

    def lost(self, job: Job) -> bool:
        """Whether the job, run by another runner, is known gone from where it ran (a dead Ray node)."""
        ...

    def close(self) -> None: ...


def open_executor(settings: Settings) -> Executor:
    """The executor that `settings` ask for (MODELYARD_EXECUTOR)."""
    if settings.executor == "ray":
        from modelyard.jobs.ray_executor import RayExecutor

        return RayExecutor(settings)
    return LocalProcessExecutor(settings)


class LocalProcess:
    def __init__(self, job_id: str, process: subprocess.Popen[bytes], log_file: IO[bytes]) -> None:
        self.job_id = job_id
        self.process = process
        self.log_file = log_file

    @property
    def recorded(self) -> dict[str, object]:
        return {"pid": self.process.pid, "executor": "local"}

    def poll(self) -> ExecutionEnd | None:
        code = self.process.poll()
        if code is None:
            return None
        self.log_file.seek(0)
        output = self.log_file.read().decode("utf-8", errors="replace")
        self.log_file.close()
        return ExecutionEnd(code, output=output)

    def terminate(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.process.kill()

    def wait(self, timeout: float) -> bool:
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True


class LocalProcessExecutor:
    """`python -m modelyard.jobs.worker JOB_ID`, a process per job that dies with this server."""

    name = "local"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def start(self, job_id: str, job_type: JobType) -> LocalProcess:
        # The worker sends its output to the job's log rows once it runs; what it prints before (an import that
        # fails) lands in this unnamed file, which the runner adds to the log when the process ends.
        log_file = tempfile.TemporaryFile()  # closed once the process has ended
        env = dict(os.environ)
        env[SETTINGS_ENV] = self.settings.model_dump_json()
        env[PARENT_ENV] = str(os.getpid())
        # The worker imports job modules by name: give it the same import path as this process.
        env["PYTHONPATH"] = os.pathsep.join(path for path in sys.path if path)
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "modelyard.jobs.worker", job_id],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=str(self.settings.data_dir),
            )
        except OSError as error:
            log_file.close()
            raise ExecutorUnavailable(f"the job process could not start: {error}") from error
        return LocalProcess(job_id, process, log_file)

    def lost(self, job: Job) -> bool:
        return False  # the runner's host decides, from its process table

    def close(self) -> None:
        """Nothing held: each process belongs to the runner that started it."""
