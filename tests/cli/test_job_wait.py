"""`modelyard job wait` against a real server process that restarts while jobs are waited on."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from modelyard.config import Settings
from modelyard.sdk import Client
from tests.server import REPO_ROOT, ServerProcess, server_env
from tests.waiting import JOB_CEILING_SECONDS, START_CEILING_SECONDS

NOTICE = "the server does not answer"


def _start_wait(settings: Settings, server: ServerProcess, job_id: str, folder: Path) -> subprocess.Popen[str]:
    env = server_env(settings, server.port)
    env.pop("MODELYARD_SERVER", None)
    with (folder / f"{job_id}.out").open("w") as out, (folder / f"{job_id}.err").open("w") as err:
        return subprocess.Popen(
            [sys.executable, "-m", "modelyard", "--server", server.url, "job", "wait", job_id],
            env=env, stdout=out, stderr=err, text=True, cwd=REPO_ROOT,
        )  # fmt: skip


def _until(condition_met: Callable[[], bool], what: str, ceiling: float = START_CEILING_SECONDS) -> None:
    deadline = time.monotonic() + ceiling
    while not condition_met():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what} after {ceiling} s")
        time.sleep(0.1)


def test_job_wait_follows_jobs_through_a_server_restart(settings: Settings, tmp_path: Path) -> None:
    server = ServerProcess(settings, tmp_path / "server.log")
    server.start()
    waiters: list[subprocess.Popen[str]] = []
    try:
        with Client(server.url) as remote:
            # One slot: the first job runs until the server stops (which interrupts it), the second waits
            # in the database and runs once the server is back.
            interrupted = remote.jobs.submit("test.leave_work", {"seconds": 600})
            later = remote.jobs.submit("test.count", {"steps": 3, "delay": 0.2})
            _until(lambda: remote.jobs.get(interrupted.id).status == "running", "the first job to start")
        waiters = [_start_wait(settings, server, job.id, tmp_path) for job in (interrupted, later)]

        server.stop()
        errors = [tmp_path / f"{job.id}.err" for job in (interrupted, later)]
        # Both commands must have met the stopped server before it comes back.
        _until(lambda: all(NOTICE in path.read_text() for path in errors), "both waits to notice the server gone")
        assert [waiter.poll() for waiter in waiters] == [None, None]
        server.start()

        for waiter in waiters:
            waiter.wait(JOB_CEILING_SECONDS)
    finally:
        for waiter in waiters:
            if waiter.poll() is None:
                waiter.kill()
        server.stop()

    stderr = {job.id: (tmp_path / f"{job.id}.err").read_text() for job in (interrupted, later)}
    stdout = {job.id: (tmp_path / f"{job.id}.out").read_text() for job in (interrupted, later)}
    assert [waiter.returncode for waiter in waiters] == [1, 0], stderr
    assert "Traceback" not in stderr[interrupted.id] + stderr[later.id]

    # One notice for the one outage, then the job's own end: failed as interrupted, named by its type.
    notice, failure = stderr[interrupted.id].strip().splitlines()
    assert notice.startswith(f"{NOTICE} (") and f"job {interrupted.id} is still followed" in notice
    assert failure.startswith("error: job test.leave_work failed (interrupted): the server stopped while the job ran")
    assert failure.endswith(f"submit it again [job {interrupted.id}]")

    assert stderr[later.id].strip().splitlines() == [notice.replace(interrupted.id, later.id)]
    assert "succeeded" in stdout[later.id] and '{"counted": 3}' in stdout[later.id]
