"""Small job types the tests register through `Settings.job_modules`."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from modelyard.jobs.context import CleanupContext, JobContext
from modelyard.jobs.registry import JobType


class CountParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    steps: int = Field(default=3, ge=1, le=1000)
    delay: float = Field(default=0.0, ge=0, le=60)


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SecondsParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seconds: float = Field(default=60, ge=0, le=3600)


def count(context: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Counts to `steps`, reporting progress and a metrics record per step; records each run in a marker file."""
    marker = context.settings.data_dir / "runs" / context.job_id
    marker.parent.mkdir(parents=True, exist_ok=True)
    with marker.open("a") as handle:
        handle.write(f"{os.getpid()}\n")
    for step in range(params["steps"]):
        context.log.info("counting %d", step + 1)
        context.progress(100.0 * (step + 1) / params["steps"], f"step {step + 1}", f"{step + 1}/{params['steps']}")
        context.record_metrics({"step": step + 1, "square": (step + 1) ** 2})
        time.sleep(params["delay"])
    return {"counted": params["steps"]}


def fail(context: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    context.progress(10, "about to fail")
    raise ValueError("this job always fails")


def crash(context: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    context.progress(10, "about to crash")
    os._exit(9)


def leave_work(context: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Writes a half-done output, then runs until cancelled; cleanup removes the output."""
    output = _output_path(context.settings.data_dir, context.job_id)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("half done")
    (context.work_dir / "scratch.bin").write_bytes(b"\0" * 1024)
    deadline = time.monotonic() + params.get("seconds", 60)
    while time.monotonic() < deadline:
        context.progress(50, "working")
        time.sleep(0.05)
    return {}


def ignore_cancel(context: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Never checks for cancellation, so only SIGTERM (or SIGKILL) stops it."""
    context.progress(5, "busy, not listening")
    deadline = time.monotonic() + params.get("seconds", 60)
    while time.monotonic() < deadline:
        time.sleep(0.05)
    return {}


def stubborn(context: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Ignores cancellation and SIGTERM alike: only SIGKILL ends it."""
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    context.progress(5, "deaf")
    while True:
        time.sleep(0.05)


def threads(context: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Reports the thread counts the worker chose for this process."""
    import sys

    imported_before = "torch" in sys.modules
    import torch

    from modelyard import cpu_threads

    return {
        "torch_imported_before": imported_before,
        "torch": torch.get_num_threads(),
        "torch_interop": torch.get_num_interop_threads(),
        "openvino": cpu_threads.openvino_properties(),
        "usable": cpu_threads.usable_cpus(),
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
    }


def cancel_self(context: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Asks for its own cancellation through the database, as `job cancel` would, then waits to be stopped."""
    from modelyard.db.base import utcnow
    from modelyard.db.engine import transaction
    from modelyard.jobs.repository import JobRepository

    with transaction(context.db.sessions) as session:
        JobRepository(session).transition(
            context.job_id, ["running"], status="cancelling", cancel_requested_at=utcnow()
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        context.check_cancelled()
        time.sleep(0.05)
    return {}


def chatter(context: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Writes to its log, to stdout (Python's and the file descriptor's, as a C library would) and to stderr."""
    import sys

    context.log.info("logged line")
    print("printed line", flush=True)
    os.write(1, b"descriptor line\n")
    print("error line", file=sys.stderr, flush=True)
    return {}


def log_then_crash(context: JobContext, params: dict[str, Any]) -> dict[str, Any]:
    """Logs three lines, waits until they are in the database, then exits its process abruptly."""
    from modelyard.db.engine import transaction
    from modelyard.jobs.repository import JobLogRepository

    for number in range(1, 4):
        context.log.info("before the crash %d", number)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with transaction(context.db.read_sessions) as session:
            lines = JobLogRepository(session).after(context.job_id, 0, 100)
        if any(text.endswith("before the crash 3") for _, text in lines):
            break
        time.sleep(0.05)
    context.log.info("never flushed")
    os._exit(9)


def _output_path(data_dir: Path, job_id: str) -> Path:
    return data_dir / "outputs" / f"{job_id}.txt"


def remove_output(context: CleanupContext) -> None:
    path = _output_path(context.settings.data_dir, context.job_id)
    path.unlink(missing_ok=True)
    (context.settings.data_dir / "outputs" / f"{context.job_id}.cleaned").write_text(context.reason)


JOB_TYPES = [
    JobType("test.count", count, "Count with progress.", CountParams, public=True),
    JobType("test.fail", fail, "Always fails.", NoParams, public=True),
    JobType("test.crash", crash, "Exits its process abruptly.", NoParams, public=True),
    JobType("test.leave_work", leave_work, "Leaves half-done output until cancelled.", SecondsParams, remove_output,
            public=True),
    JobType("test.ignore_cancel", ignore_cancel, "Ignores cooperative cancellation.", SecondsParams, public=True),
    JobType("test.stubborn", stubborn, "Ignores cancellation and SIGTERM.", NoParams, public=True),
    JobType("test.cancel_self", cancel_self, "Cancels itself.", NoParams, public=True),
    JobType("test.threads", threads, "Reports the thread counts of its process.", NoParams, public=True),
    JobType("test.chatter", chatter, "Logs and prints a line each way.", NoParams, public=True),
    JobType("test.log_then_crash", log_then_crash, "Logs, then exits abruptly.", NoParams, public=True),
]  # fmt: skip
