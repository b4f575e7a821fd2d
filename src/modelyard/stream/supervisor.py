"""The server's side of streams: one worker process per stream that should run, watched and restarted.

Rows say which streams should run (`desired_state`), so a stream started before a restart runs again once a
server is up. A worker that crashes is started again after a backoff that doubles with each crash in a row (half
a second up to thirty), and the crash is recorded in the row (`restarts`, `last_error`, state `restarting`). A
supervisor claims a stream with a compare-and-set on the row's owner, so two servers on one database never run
the same stream; a stream whose owner is gone (its process, or on another host its heartbeat) is taken over.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO

import structlog

from modelyard.context import AppContext
from modelyard.db.base import new_id, utcnow
from modelyard.db.engine import transaction
from modelyard.jobs.worker import PARENT_ENV, SETTINGS_ENV
from modelyard.stream.models import StreamPipeline
from modelyard.stream.paths import worker_log_path
from modelyard.stream.repository import StreamRepository
from modelyard.stream.worker import EXIT_FINISHED, EXIT_RESTART, EXIT_STOPPED

log = structlog.get_logger("modelyard.stream.supervisor")
FIRST_BACKOFF_SECONDS = 0.5
LONGEST_BACKOFF_SECONDS = 30.0
STABLE_AFTER_SECONDS = 30.0
"""A worker that ran this long before crashing starts again after the shortest backoff."""
STOP_GRACE_SECONDS = 5.0


def crash_backoff(crashes_in_a_row: int) -> float:
    return min(LONGEST_BACKOFF_SECONDS, FIRST_BACKOFF_SECONDS * 2 ** max(0, crashes_in_a_row - 1))


@dataclass
class _Worker:
    project_id: str
    process: subprocess.Popen[bytes]
    log_file: IO[bytes]
    started: float = field(default_factory=time.monotonic)


class StreamSupervisor:
    _live_in_this_process: set[str] = set()

    def __init__(self, context: AppContext) -> None:
        self.context = context
        self.settings = context.settings
        self.host = socket.gethostname()
        self.supervisor_id = f"{self.host}:{os.getpid()}:{new_id()[:8]}"
        self._workers: dict[str, _Worker] = {}
        self._crashes: dict[str, int] = {}
        self._retry_at: dict[str, float] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        StreamSupervisor._live_in_this_process.add(self.supervisor_id)
        # The thread that starts the workers also ends them: a worker dies with that thread (PR_SET_PDEATHSIG).
        self._thread = threading.Thread(target=self._loop, name="stream-supervisor", daemon=True)
        self._thread.start()
        log.info("stream.supervisor.started", supervisor=self.supervisor_id)

    def stop(self) -> None:
        """End every worker; their streams stay wanted and run again when a server starts."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(STOP_GRACE_SECONDS + 10)
        StreamSupervisor._live_in_this_process.discard(self.supervisor_id)

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._tick()
            except Exception:
                log.exception("stream.supervisor.tick_failed")
            self._wake.wait(min(self.settings.job_poll_seconds, 0.5))
            self._wake.clear()
        self._end_all()

    def _tick(self) -> None:
        self._reap()
        with transaction(self.context.db.read_sessions) as session:
            wanted = {row.project_id: _Wanted.of(row) for row in StreamRepository(session).wanted_running()}
        for project_id in [project_id for project_id in self._workers if project_id not in wanted]:
            self._end(project_id, "stopped")
        for project_id, row in wanted.items():
            if project_id in self._workers or self._retry_at.get(project_id, 0.0) > time.monotonic():
                continue
            if row.supervisor_id not in (None, self.supervisor_id) and self._owner_alive(row):
                continue
            self._start_worker(project_id, row.supervisor_id)

    # -- starting and ending -----------------------------------------------------------------
    def _start_worker(self, project_id: str, previous_owner: str | None) -> None:
        with transaction(self.context.db.sessions) as session:
            if not StreamRepository(session).claim(project_id, self.supervisor_id, previous_owner, state="starting",
                                                   started_at=utcnow(), heartbeat_at=utcnow()):  # fmt: skip
                return
        path = worker_log_path(self.settings.data_dir, project_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        log_file = path.open("ab")
        env = dict(os.environ)
        env[SETTINGS_ENV] = self.settings.model_dump_json()
        env[PARENT_ENV] = str(os.getpid())
        env["PYTHONPATH"] = os.pathsep.join(entry for entry in sys.path if entry)
        process = subprocess.Popen([sys.executable, "-m", "modelyard.stream.worker", project_id], stdout=log_file,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                   cwd=str(self.settings.data_dir))  # fmt: skip
        self._workers[project_id] = _Worker(project_id, process, log_file)
        with transaction(self.context.db.sessions) as session:
            StreamRepository(session).update(project_id, worker_pid=process.pid)
        log.info("stream.worker.spawned", project=project_id, pid=process.pid)

    def _end(self, project_id: str, state: str) -> None:
        worker = self._workers.pop(project_id)
        if worker.process.poll() is None:
            worker.process.send_signal(signal.SIGTERM)
            try:
                worker.process.wait(STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait()
        worker.log_file.close()
        with transaction(self.context.db.sessions) as session:
            StreamRepository(session).update(project_id, state=state, worker_pid=None, supervisor_id=None)

    def _end_all(self) -> None:
        for project_id in list(self._workers):
            self._end(project_id, "waiting")  # still wanted: the next server resumes it

    def _reap(self) -> None:
        for project_id, worker in list(self._workers.items()):
            code = worker.process.poll()
            if code is None:
                continue
            del self._workers[project_id]
            worker.log_file.close()
            values: dict[str, object] = {"worker_pid": None, "supervisor_id": None}
            if code == EXIT_FINISHED:
                values.update(desired_state="stopped", state="finished")
                self._crashes.pop(project_id, None)
            elif code in (EXIT_RESTART, EXIT_STOPPED):
                values.update(state="stopped" if code == EXIT_STOPPED else "starting")
            else:
                ran = time.monotonic() - worker.started
                crashes = 1 if ran >= STABLE_AFTER_SECONDS else self._crashes.get(project_id, 0) + 1
                self._crashes[project_id] = crashes
                delay = crash_backoff(crashes)
                self._retry_at[project_id] = time.monotonic() + delay
                reason = _last_line(worker_log_path(self.settings.data_dir, project_id))
                values.update(state="restarting", last_error=f"the worker exited with code {code}"
                              + (f": {reason}" if reason else "") + f"; restarting in {delay:g} s")  # fmt: skip
                log.warning("stream.worker.crashed", project=project_id, code=code, restart_in=delay)
            with transaction(self.context.db.sessions) as session:
                repository = StreamRepository(session)
                if code not in (EXIT_FINISHED, EXIT_RESTART, EXIT_STOPPED):
                    pipeline = repository.get(project_id)
                    values["restarts"] = (pipeline.restarts if pipeline else 0) + 1
                repository.update(project_id, **values)

    def _owner_alive(self, row: _Wanted) -> bool:
        owner = row.supervisor_id or ""
        host, _, rest = owner.partition(":")
        pid_text = rest.partition(":")[0]
        if host != self.host or not pid_text.isdigit():
            stale_before = utcnow() - timedelta(seconds=self.settings.job_stale_seconds)
            return row.heartbeat_at is not None and row.heartbeat_at >= stale_before
        if int(pid_text) == os.getpid():
            return owner in StreamSupervisor._live_in_this_process
        try:
            os.kill(int(pid_text), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


@dataclass(frozen=True)
class _Wanted:
    supervisor_id: str | None
    heartbeat_at: datetime | None

    @classmethod
    def of(cls, row: StreamPipeline) -> _Wanted:
        return cls(row.supervisor_id, row.heartbeat_at)


def _last_line(path: Path) -> str:
    try:
        with path.open("rb") as log_file:
            log_file.seek(max(0, path.stat().st_size - 4096))
            lines = [line for line in log_file.read().decode("utf-8", "replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return lines[-1][:500] if lines else ""
