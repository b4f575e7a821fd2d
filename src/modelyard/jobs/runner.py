"""The job runner: claims pending jobs from the database and hands each to its executor.

Jobs are rows, so a job submitted while no runner was up starts once one is. Claims are a
compare-and-set on the row's status, safe with several runners (servers) on one database. The executor
runs the body in a process of its own on this server, or as a task on a Ray cluster (executors.py). Cancel
is cooperative (the worker sees `cancelling`), then a terminate (SIGTERM, or Ray's cancel), then a kill
(SIGKILL, or Ray's forced cancel), each after a grace period. At start-up, and every few seconds after,
running jobs whose execution is gone are marked failed with reason `interrupted`, and their half-done work
is cleaned.

A job belongs to the runner that claimed it for as long as that runner lives: another runner never judges
it (the owner reaps its own executions and records how they ended), so a worker that is still starting, or
that beats late on a saturated machine, is never taken for an orphan. Whether the owner lives, a runner on
the same host reads from the process table; a runner elsewhere from the owner's own heartbeat (its row in
`job_runners`). A job's execution dies with its runner (a local worker by PR_SET_PDEATHSIG, a Ray task with
its owner, the runner's driver), so a job whose runner is gone is interrupted.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import structlog
from sqlalchemy.exc import SQLAlchemyError

from modelyard.context import AppContext
from modelyard.db.base import new_id, utcnow
from modelyard.db.engine import transaction
from modelyard.errors import InvalidInput
from modelyard.jobs.context import CleanupContext
from modelyard.jobs.executors import Execution, Executor, ExecutorUnavailable, open_executor
from modelyard.jobs.models import Job
from modelyard.jobs.paths import job_work_dir
from modelyard.jobs.registry import JobTypeRegistry
from modelyard.jobs.repository import JobLogRepository, JobRepository, JobRunnerRepository
from modelyard.jobs.worker import run_cleanup

log = structlog.get_logger("modelyard.jobs.runner")
RECONCILE_EVERY_SECONDS = 5.0
_PROC = Path("/proc")
# Process start times come from the boot time (whole seconds) plus clock ticks: allow for that rounding.
_START_TIME_SLACK = timedelta(seconds=2)


@dataclass
class _Running:
    job_id: str
    execution: Execution
    holds_slot: bool = True
    terminated_at: float | None = None
    killed: bool = False


class JobRunner:
    # Runners of this process between start and the end of stop: an owner in this process is alive only then.
    _live_in_this_process: set[str] = set()

    def __init__(self, context: AppContext, registry: JobTypeRegistry, executor: Executor | None = None) -> None:
        self.context = context
        self.settings = context.settings
        self.registry = registry
        self.host = self.settings.runner_name or socket.gethostname()
        self.runner_id = f"{self.host}:{os.getpid()}:{new_id()[:8]}"
        self._executor = executor
        self._executor_problem: str | None = None
        self._heartbeat = _RunnerHeartbeat(self)
        self._running: dict[str, _Running] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_reconcile = 0.0
        self._stop_timeout = 10.0
        self._stopping = False  # set while the runner ends its workers: a worker that dies then was interrupted

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        JobRunner._live_in_this_process.add(self.runner_id)
        self._heartbeat.beat()
        self._heartbeat.start()
        self.reconcile()
        self._thread = threading.Thread(target=self._loop, name="job-runner", daemon=True)
        self._thread.start()
        log.info("jobs.runner.started", runner=self.runner_id, slots=self.settings.job_slots)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop claiming and end running jobs as `interrupted`: SIGTERM, then SIGKILL after `timeout`."""
        self._stop_timeout = timeout
        self._stop.set()
        self._wake.set()
        if self._thread:
            # The runner thread spawned the workers and ends them itself: a worker dies with the thread that
            # started it (PR_SET_PDEATHSIG), so the thread must outlive its workers.
            self._thread.join(timeout + 5)
        if self._running:  # the thread never ran or did not finish in time: end what is left from here
            self._end_workers(timeout)
        self._heartbeat.end()
        if self._executor is not None:
            self._executor.close()
        JobRunner._live_in_this_process.discard(self.runner_id)
        log.info("jobs.runner.stopped", runner=self.runner_id)

    def _end_workers(self, timeout: float) -> None:
        self._stopping = True
        for running in list(self._running.values()):
            running.execution.terminate()
        deadline = time.monotonic() + timeout
        for running in list(self._running.values()):
            if not running.execution.wait(max(0.1, deadline - time.monotonic())):
                running.execution.kill()
                running.execution.wait(timeout)
        self._reap()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def active_job_ids(self) -> list[str]:
        return list(self._running)

    @property
    def executor_problem(self) -> str | None:
        """Why the executor cannot take jobs now (a Ray cluster out of reach); None when it can."""
        return self._executor_problem

    def _ready_executor(self) -> Executor | None:
        if self._executor is None:
            try:
                self._executor = open_executor(self.settings)
            except ExecutorUnavailable as error:
                if self._executor_problem != str(error):
                    log.error("jobs.executor.unavailable", executor=self.settings.executor, error=str(error))
                self._executor_problem = str(error)
                return None
            self._executor_problem = None
        return self._executor

    def wake(self) -> None:
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._tick()
            except Exception:
                log.exception("jobs.runner.tick_failed")
            self._wake.wait(self.settings.job_poll_seconds)
            self._wake.clear()
        self._end_workers(self._stop_timeout)

    def _tick(self) -> None:
        self._reap()
        self._escalate_cancels()
        if time.monotonic() - self._last_reconcile > RECONCILE_EVERY_SECONDS:
            self.reconcile()
        self._claim_and_start()

    # -- claiming ----------------------------------------------------------------------------
    def _claim_and_start(self) -> None:
        if self._stop.is_set():
            return
        executor = self._ready_executor()
        if executor is None:
            return  # jobs wait, pending, for the executor to come back
        free = self.settings.job_slots - self._slots_held()
        with transaction(self.context.db.read_sessions) as session:
            # A few more than the free slots: jobs that hold no slot (coordinators) start even when all are taken.
            candidates = JobRepository(session).pending(max(free, 0) * 4 + 4)
        for job_id, job_type_name in candidates:
            if self._holds_slot(job_type_name) and self._slots_held() >= self.settings.job_slots:
                continue
            if self._claim(job_id):
                self._spawn(executor, job_id)

    def _slots_held(self) -> int:
        return sum(1 for running in self._running.values() if running.holds_slot)

    def _holds_slot(self, job_type_name: str) -> bool:
        try:
            return self.registry.get(job_type_name).holds_slot
        except InvalidInput:
            return True  # an unknown type fails at its start; until then it counts like any job

    def _claim(self, job_id: str) -> bool:
        now = utcnow()
        with transaction(self.context.db.sessions) as session:
            return JobRepository(session).transition(
                job_id,
                ["pending"],
                status="running",
                started_at=now,
                heartbeat_at=now,
                runner_id=self.runner_id,
                host=self.host,
                step="starting",
            )

    def _spawn(self, executor: Executor, job_id: str) -> None:
        try:
            with transaction(self.context.db.read_sessions) as session:
                job = JobRepository(session).get(job_id)
                job_type_name = job.type if job is not None else ""
            job_type = self.registry.get(job_type_name)
            execution = executor.start(job_id, job_type)
        except (ExecutorUnavailable, InvalidInput) as error:  # nothing runs it: end the claimed job here
            reason = "interrupted" if isinstance(error, ExecutorUnavailable) else "crashed"
            self._finish_abandoned(job_id, "failed", reason, str(error))
            return
        self._running[job_id] = _Running(job_id, execution, holds_slot=job_type.holds_slot)
        with transaction(self.context.db.sessions) as session:
            JobRepository(session).transition(job_id, ["running", "cancelling"], **execution.recorded)
        log.info("jobs.job.started", job=job_id, **{"executor": executor.name, **execution.recorded})

    # -- watching ----------------------------------------------------------------------------
    def _reap(self) -> None:
        for job_id, running in list(self._running.items()):
            end = running.execution.poll()
            if end is None:
                continue
            if self._running.pop(job_id, None) is None:
                continue  # reaped meanwhile by the other side of a stop (its thread and the caller)
            if end.output.strip():
                self._append_log(job_id, end.output.rstrip("\n").split("\n"))
            # A worker that ended normally has already recorded its outcome; anything still
            # `running` here means the execution died (crash, OOM kill, signal, a lost node).
            with transaction(self.context.db.sessions) as session:
                job = JobRepository(session).get(job_id)
                if job is None or job.status not in ("running", "cancelling"):
                    continue
                was_cancelling = job.status == "cancelling"
            how = f"its process exited with code {end.code}" if end.lost is None else end.lost
            if was_cancelling:
                self._finish_abandoned(job_id, "cancelled", "cancelled", None)
            elif self._stopping:
                self._finish_abandoned(
                    job_id, "failed", "interrupted", f"the server stopped while the job ran ({how}); submit it again"
                )
            elif end.lost is not None:
                self._finish_abandoned(job_id, "failed", "interrupted", f"the job was interrupted: {how}; submit it "
                                       "again")  # fmt: skip
            else:
                self._finish_abandoned(job_id, "failed", "crashed", f"the job ended before finishing: {how}")

    def _escalate_cancels(self) -> None:
        if not self._running:
            return
        with transaction(self.context.db.read_sessions) as session:
            jobs = {job.id: job for job in JobRepository(session).active() if job.id in self._running}
        grace = self.settings.job_cancel_grace_seconds
        now = utcnow()
        for job_id, job in jobs.items():
            if job.status != "cancelling" or job.cancel_requested_at is None:
                continue
            running = self._running[job_id]
            waited = (now - job.cancel_requested_at).total_seconds()
            if running.terminated_at is None and waited >= grace:
                log.info("jobs.job.terminate", job=job_id)
                running.execution.terminate()
                running.terminated_at = time.monotonic()
            elif running.terminated_at is not None and not running.killed and waited >= 2 * grace:
                log.info("jobs.job.kill", job=job_id)
                running.execution.kill()
                running.killed = True

    def reconcile(self) -> None:
        """Mark running jobs whose execution is gone as failed (`interrupted`) and clean what they left."""
        self._last_reconcile = time.monotonic()
        stale_before = utcnow() - timedelta(seconds=self.settings.job_stale_seconds)
        with transaction(self.context.db.read_sessions) as session:
            jobs = [job for job in JobRepository(session).active() if job.id not in self._running]
            runners = JobRunnerRepository(session).heartbeats()
        for job in jobs:
            if self._is_orphaned(job, stale_before, runners):
                status = "cancelled" if job.status == "cancelling" else "failed"
                reason = "cancelled" if status == "cancelled" else "interrupted"
                error = None if status == "cancelled" else (
                    "the job's execution is gone (its server stopped or was killed, or its node was lost); "
                    "submit it again"
                )
                self._finish_abandoned(job.id, status, reason, error)
        with transaction(self.context.db.sessions) as session:
            # Rows of runners long gone, whose jobs were reconciled above: only the record of a crash.
            long_gone = stale_before - timedelta(seconds=self.settings.job_stale_seconds)
            JobRunnerRepository(session).forget_before(long_gone)

    def _is_orphaned(self, job: Job, stale_before: datetime, runners: dict[str, datetime]) -> bool:
        heartbeat_stopped = job.heartbeat_at is None or job.heartbeat_at < stale_before
        if job.executor == "ray" and self._executor is not None and self._executor.lost(job):
            return True  # Ray says the node it ran on is dead
        if job.host != self.host or not _PROC.is_dir():
            # No process table to ask: the owner's heartbeat tells whether it still watches the job, and a job
            # dies with its runner. A runner with no row (an older server) leaves only the job's own heartbeat.
            owner_beat = runners.get(job.runner_id) if job.runner_id else None
            if owner_beat is None:
                return heartbeat_stopped
            return owner_beat < stale_before
        worker = _worker_state(job.pid, job.id) if job.pid else None
        if worker is True:
            return False  # a live worker is never orphaned, however late its heartbeat
        if self._owner_alive(job):
            # Its runner reaps a dead worker and records how it ended, and a claimed job has no worker (nor
            # pid) until its runner has started one: the job is that runner's to watch. A dead worker whose
            # heartbeat has also stopped means the runner no longer watches (it hangs): then it is orphaned.
            return worker is False and heartbeat_stopped
        if worker is False or job.pid is None:
            # Gone, or never started and never will be (a worker dies with its runner, and that is gone).
            return True
        return heartbeat_stopped  # the pid now belongs to another process: only the heartbeat tells

    def _owner_alive(self, job: Job) -> bool:
        """Whether the runner that claimed `job` still runs on this host (this runner is not watching it)."""
        if job.runner_id is None or job.runner_id == self.runner_id:
            return False  # reconcile skips the jobs this runner runs: one of its own here is not watched
        owner_pid = _runner_pid(job.runner_id, self.host)
        if owner_pid is None:
            return False
        if owner_pid == os.getpid():
            return job.runner_id in JobRunner._live_in_this_process
        started = _process_started_at(owner_pid)
        # A process that started after the claim has only inherited the owner's pid.
        return started is not None and (job.started_at is None or started <= job.started_at + _START_TIME_SLACK)

    def _finish_abandoned(self, job_id: str, status: str, reason: str, error: str | None) -> None:
        with transaction(self.context.db.sessions) as session:
            repository = JobRepository(session)
            job = repository.get(job_id)
            if job is None:
                return
            # A resumable job whose execution was lost goes back to the queue, to pick up from what it recorded.
            resumed = reason == "interrupted" and self._resumable(job.type) and repository.requeue(job_id)
            if not resumed and not repository.transition(
                job_id, ["running", "cancelling"], status=status, reason=reason, error=error, finished_at=utcnow()
            ):
                return
            project_id, params, job_type = job.project_id, dict(job.params), job.type
        if resumed:
            log.warning("jobs.job.requeued", job=job_id, reason=reason)
            self._append_log(job_id, [f"{utcnow().isoformat()} the job's execution is gone (its server stopped or was "
                                      "killed); it is queued again and resumes from what it recorded"])  # fmt: skip
            shutil.rmtree(job_work_dir(self.settings.data_dir, job_id), ignore_errors=True)
            self.wake()
            return
        log.warning("jobs.job.abandoned", job=job_id, status=status, reason=reason)
        self._append_log(job_id, [f"{utcnow().isoformat()} job marked {status} ({reason}) by runner {self.runner_id}"])
        cleanup = CleanupContext(
            job_id, project_id, params, self.settings, self.context.db, self.context.store, reason=reason
        )
        run_cleanup(job_type, self.registry, cleanup, lambda detail: log.error("jobs.cleanup_failed", detail=detail))
        shutil.rmtree(job_work_dir(self.settings.data_dir, job_id), ignore_errors=True)

    def _resumable(self, job_type_name: str) -> bool:
        try:
            return self.registry.get(job_type_name).resumable
        except InvalidInput:
            return False

    def _append_log(self, job_id: str, lines: list[str]) -> None:
        """Lines after the job's last (its worker has ended: nobody else writes them now)."""
        try:
            with transaction(self.context.db.sessions) as session:
                JobLogRepository(session).append(job_id, lines, utcnow())
        except SQLAlchemyError:
            log.warning("jobs.log_not_written", job=job_id, lines=len(lines))


class _RunnerHeartbeat(threading.Thread):
    """Keeps the runner's row in `job_runners` fresh, so that servers elsewhere know it still watches its jobs."""

    def __init__(self, runner: JobRunner) -> None:
        super().__init__(daemon=True, name="job-runner-heartbeat")
        self.runner = runner
        self.stopped = threading.Event()

    def beat(self) -> None:
        runner = self.runner
        with transaction(runner.context.db.sessions) as session:
            JobRunnerRepository(session).beat(runner.runner_id, runner.host, runner.settings.executor, utcnow())

    def run(self) -> None:
        while not self.stopped.wait(self.runner.settings.job_heartbeat_seconds):
            try:
                self.beat()
            except SQLAlchemyError:  # a busy or unreachable database: the next beat retries
                log.warning("jobs.runner.heartbeat_failed", runner=self.runner.runner_id)

    def end(self) -> None:
        """Stop beating and remove the row: the runner has ended its jobs itself."""
        self.stopped.set()
        if self.is_alive():
            self.join(5)
        try:
            with transaction(self.runner.context.db.sessions) as session:
                JobRunnerRepository(session).forget(self.runner.runner_id)
        except SQLAlchemyError:
            log.warning("jobs.runner.unregister_failed", runner=self.runner.runner_id)


def _worker_state(pid: int, job_id: str) -> bool | None:
    """True: the job's worker runs as `pid`; False: no process has that pid; None: another process has it."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except FileNotFoundError:
        return False
    except OSError:
        return None  # unreadable (another user's process): not ours to judge
    if not cmdline or cmdline == [b""]:
        # A zombie (exited, not yet reaped by its parent) has an empty command line: it is gone.
        return False
    return True if b"modelyard.jobs.worker" in cmdline and job_id.encode() in cmdline else None


def _runner_pid(runner_id: str, host: str) -> int | None:
    """The process id inside a runner id (`HOST:PID:NONCE`) of a runner on `host`; None for any other form."""
    parts = runner_id.rsplit(":", 2)
    if len(parts) != 3 or parts[0] != host or not parts[1].isdigit():
        return None
    return int(parts[1])


def _process_started_at(pid: int) -> datetime | None:
    """When process `pid` started (UTC), from /proc; None if there is no such process (or it is a zombie)."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
        boot = next(line for line in (_PROC / "stat").read_text().splitlines() if line.startswith("btime "))
    except (OSError, StopIteration):
        return None
    # The command name (field 2) may hold spaces and parentheses: count the fields after its closing one.
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] == "Z":
        return None
    ticks = int(fields[19])  # field 22 of the line: start time in clock ticks after boot
    seconds = int(boot.split()[1]) + ticks / os.sysconf("SC_CLK_TCK")
    return datetime.fromtimestamp(seconds, tz=UTC)
