"""A job's own process: `python -m modelyard.jobs.worker JOB_ID`, started by the runner.

It dies with the runner (PR_SET_PDEATHSIG, and a parent check in the heartbeat thread), so killing
the server never leaves a job running with nobody watching it.
"""

from __future__ import annotations

import ctypes
import logging
import os
import shutil
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from modelyard import cpu_threads
from modelyard.config import Settings
from modelyard.db.base import utcnow
from modelyard.db.engine import Database, transaction
from modelyard.errors import InvalidInput
from modelyard.jobs.context import CleanupContext, JobCancelled, JobContext
from modelyard.jobs.logs import JobLogHandler, JobLogWriter, captured_output
from modelyard.jobs.paths import job_work_dir
from modelyard.jobs.registry import JobTypeRegistry
from modelyard.jobs.repository import JobRepository
from modelyard.kit.limits import InputLimits, limits_in_force
from modelyard.storage.factory import open_store
from modelyard.storage.owners import job_owner

SETTINGS_ENV = "MODELYARD_WORKER_SETTINGS"
PARENT_ENV = "MODELYARD_WORKER_PARENT"
PR_SET_PDEATHSIG = 1
OUTCOME_ATTEMPTS = 8  # about a minute of retries with backoff


def die_with_parent(parent_pid: int) -> None:
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass  # not Linux: the heartbeat thread's parent check still applies
    if os.getppid() != parent_pid:
        os._exit(3)


def _job_logger(writer: JobLogWriter, job_id: str) -> logging.Logger:
    """The job's logger: its lines go to the job's log rows."""
    logger = logging.getLogger(f"modelyard.job.{job_id}")
    logger.setLevel(logging.INFO)
    logger.addHandler(JobLogHandler(writer))
    logger.propagate = False
    return logger


class _Heartbeat(threading.Thread):
    """Beats every few seconds, notices a cancel asked through the database, and a dead parent."""

    def __init__(
        self, db: Database, job_id: str, interval: float, cancel: threading.Event, parent_pid: int | None
    ) -> None:
        super().__init__(daemon=True, name=f"heartbeat-{job_id}")
        self.db, self.job_id, self.interval = db, job_id, interval
        self.cancel, self.parent_pid = cancel, parent_pid
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            if self.parent_pid is not None and os.getppid() != self.parent_pid:
                os._exit(3)
            try:
                with transaction(self.db.sessions) as session:
                    status = JobRepository(session).heartbeat(self.job_id, utcnow())
            except SQLAlchemyError:  # a busy or unreachable database must not kill the job; the next beat retries
                continue
            if status == "cancelling":
                self.cancel.set()


def run(job_id: str, settings: Settings, parent_pid: int | None, where: dict[str, Any] | None = None) -> int:
    """Run the job's body and record how it ended. `parent_pid`: the runner's process, which this one dies with
    (None on a Ray node, where Ray ends the task with its owner); `where`: columns saying where it runs."""
    # A SIGTERM before the job body starts (the server stopping while this process loads) is kept, not fatal:
    # the job then ends as interrupted through the same path as one stopped mid-way.
    cancel = threading.Event()
    _on_sigterm(lambda *_: cancel.set())
    db = Database(settings)
    writer = JobLogWriter(db, job_id, settings.job_log_max_lines)
    log = _job_logger(writer, job_id)
    try:
        with captured_output(writer):
            outcome = _run_body(job_id, settings, parent_pid, where, db, writer, log, cancel)
        writer.flush()  # every line is written before the job shows as finished
        if outcome is None:
            return 2
        if outcome["status"] == "pending":
            _requeue(db, job_id, log)
            return 1
        _record_outcome(db, job_id, outcome, log)
        return 0 if outcome["status"] == "succeeded" else 1
    finally:
        log.handlers.clear()
        writer.close()
        db.dispose()


def _run_body(
    job_id: str,
    settings: Settings,
    parent_pid: int | None,
    where: dict[str, Any] | None,
    db: Database,
    writer: JobLogWriter,
    log: logging.Logger,
    cancel: threading.Event,
) -> dict[str, Any] | None:
    """Run the job's body and its cleanup; how it ended (None: the job was not there to run)."""
    store = open_store(settings, owner=job_owner(job_id))
    registry = JobTypeRegistry.for_settings(settings)
    with transaction(db.read_sessions) as session:
        job = JobRepository(session).get(job_id)
        if job is None or job.status not in ("running", "cancelling"):
            log.error("worker found job %s in state %s; nothing to run", job_id, job and job.status)
            store.release()
            return None
        job_type_name, project_id, params, actor = job.type, job.project_id, dict(job.params), job.created_by
    if where:
        with transaction(db.sessions) as session:
            JobRepository(session).transition(job_id, ["running", "cancelling"], **where)

    _on_sigterm(lambda *_: _raise_cancelled(cancel))
    heartbeat = _Heartbeat(db, job_id, settings.job_heartbeat_seconds, cancel, parent_pid)
    heartbeat.start()
    work_dir = job_work_dir(settings.data_dir, job_id)
    work_dir.mkdir(parents=True, exist_ok=True)

    last_step: list[str | None] = [None]

    def report(percent: float, step: str | None, message: str | None) -> None:
        values: dict[str, Any] = {"progress": percent, "heartbeat_at": utcnow()}
        if step is not None:
            values["step"] = step[:256]
            if step != last_step[0]:
                log.info("step: %s (%.0f%%)", step, percent)
                last_step[0] = step
        if message is not None:
            values["message"] = message
        try:
            with transaction(db.sessions) as session:
                JobRepository(session).transition(job_id, ["running", "cancelling"], **values)
        except SQLAlchemyError as error:
            # A database that is busy past its timeout (a saturated machine) must not fail the job over a
            # progress line: the next report, or the end, records where it is.
            log.warning("progress not recorded (%s); the job goes on", type(error).__name__)

    context = JobContext(
        job_id, project_id, actor, settings, db, store, log, work_dir, report, writer.record_metrics, cancel
    )
    outcome: dict[str, Any]
    try:
        if cancel.is_set():
            raise JobCancelled("terminated before it started")
        job_type = registry.get(job_type_name)
        log.info("job %s (%s) started in process %d", job_id, job_type_name, os.getpid())
        _size_threads(settings, log)
        with limits_in_force(InputLimits.from_settings(settings)):  # this installation's limits, as in requests
            result = job_type.body(context, params) or {}
        outcome = {"status": "succeeded", "progress": 100.0, "result": result}
        log.info("job %s succeeded", job_id)
    except (JobCancelled, KeyboardInterrupt) as stop:  # KeyboardInterrupt: Ray's cancel of a running task
        if isinstance(stop, JobCancelled) and stop.reason is not None:
            outcome = {"status": "cancelled", "reason": stop.reason, "error": str(stop)}
        else:
            outcome = _stopped_outcome(db, job_id, resumable=_is_resumable(registry, job_type_name))
        log.info("job %s %s (%s)", job_id, outcome["status"], outcome["reason"])
    except Exception as error:  # noqa: BLE001 - any failure of the body fails the job, traceback in its log
        if cancel.is_set():
            # The stop was raised inside a library (a database driver's wait) that wrapped it in its own error.
            outcome = _stopped_outcome(db, job_id, resumable=_is_resumable(registry, job_type_name))
            surfaced_as = type(error).__name__
            log.info("job %s %s (%s; surfaced as %s)", job_id, outcome["status"], outcome["reason"], surfaced_as)
        else:
            outcome = {"status": "failed", "reason": "error", "error": f"{type(error).__name__}: {error}"}
            log.error("job %s failed:\n%s", job_id, traceback.format_exc())
    finally:
        heartbeat.stopped.set()
        # A further SIGTERM during cleanup is noted, not fatal: the worker records its own end (SIGKILL, sent by
        # the runner after its grace period, stays the backstop).
        _on_sigterm(lambda *_: cancel.set())

    if outcome["status"] not in ("succeeded", "pending"):
        run_cleanup(
            job_type_name,
            registry,
            CleanupContext(job_id, project_id, params, settings, db, store, reason=outcome["reason"]),
            log.error,
        )
    shutil.rmtree(work_dir, ignore_errors=True)
    store.release()
    return outcome


def _record_outcome(db: Database, job_id: str, outcome: dict[str, Any], log: logging.Logger) -> None:
    """Write how the job ended, retrying a busy database for a while: the job's work is done and should count
    (a worker that exits without writing it is recorded as crashed by its runner)."""
    delay = 0.5
    for attempt in range(OUTCOME_ATTEMPTS):
        try:
            with transaction(db.sessions) as session:
                JobRepository(session).transition(job_id, ["running", "cancelling"], finished_at=utcnow(), **outcome)
            return
        except SQLAlchemyError as error:
            if attempt == OUTCOME_ATTEMPTS - 1:
                raise
            log.warning("the job's outcome could not be recorded (%s); retrying in %.1f s", error, delay)
            time.sleep(delay)
            delay = min(delay * 2, 10.0)


def _is_resumable(registry: JobTypeRegistry, job_type_name: str) -> bool:
    try:
        return registry.get(job_type_name).resumable
    except InvalidInput:
        return False


def _requeue(db: Database, job_id: str, log: logging.Logger) -> None:
    """The server stopped under a resumable job: back to pending, for the next runner to resume."""
    with transaction(db.sessions) as session:
        requeued = JobRepository(session).requeue(job_id)
    log.info("job %s %s", job_id, "queued again to resume" if requeued else "was not running any more")


def _stopped_outcome(db: Database, job_id: str, resumable: bool = False) -> dict[str, Any]:
    """A stop asked for through the job (`cancelling`) is a cancel; a SIGTERM without one is the server
    shutting down, which interrupts the job: failed with reason `interrupted`, to be submitted again (a resumable
    job is queued again instead: status `pending`)."""
    try:
        with transaction(db.read_sessions) as session:
            job = JobRepository(session).get(job_id)
            cancelling = job is not None and job.status == "cancelling"
    except SQLAlchemyError:  # the database is going away with the server: a shutdown, not a cancel
        cancelling = False
    if cancelling:
        return {"status": "cancelled", "reason": "cancelled"}
    if resumable:
        return {"status": "pending", "reason": "interrupted"}
    error = "the server stopped while the job ran; submit it again"
    return {"status": "failed", "reason": "interrupted", "error": error}


def _size_threads(settings: Settings, log: logging.Logger) -> None:
    """Once per job process, before any torch or OpenVINO work: threads for the CPUs this process may use."""
    choice = cpu_threads.choose(settings.job_threads)
    cpu_threads.apply(choice)
    log.info("threads: %d (%s)", choice.threads, choice.why)


def run_cleanup(
    job_type_name: str, registry: JobTypeRegistry, context: CleanupContext, report_error: Callable[[str], None]
) -> None:
    """Run the job type's cleanup; its failure is reported, never raised (the job already ended)."""
    try:
        job_type = registry.get(job_type_name)
    except InvalidInput:  # a job type no longer registered has nothing to clean up
        return
    if job_type.cleanup is None:
        return
    try:
        job_type.cleanup(context)
    except Exception:  # noqa: BLE001 - reported, never raised: the job has already ended
        report_error(f"cleanup of job {context.job_id} failed:\n{traceback.format_exc()}")


def _on_sigterm(handler: Callable[..., None]) -> None:
    """Handle SIGTERM with `handler` where this thread may (the main thread of a process; a Ray task's is)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, handler)


def run_as_ray_task(job_id: str, settings_json: str) -> int:
    """The body of a job's Ray task: the same run as a local process, recording the node it runs on."""
    import ray

    settings = Settings.model_validate_json(settings_json)
    return run(job_id, settings, None, {"node_id": ray.get_runtime_context().get_node_id()})


def _raise_cancelled(cancel: threading.Event) -> None:
    cancel.set()
    raise JobCancelled("terminated")


def main() -> None:
    job_id = sys.argv[1]
    parent_pid = int(os.environ.get(PARENT_ENV, os.getppid()))
    die_with_parent(parent_pid)
    settings = Settings.model_validate_json(os.environ[SETTINGS_ENV])
    sys.exit(run(job_id, settings, parent_pid))


if __name__ == "__main__":
    main()
