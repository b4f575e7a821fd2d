"""The acceptance path through a real server process: health, docs, kill -9 while a job runs."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from modelyard.config import Settings
from modelyard.jobs.schemas import JobRead as Job
from modelyard.sdk import Client
from tests.server import ServerProcess
from tests.waiting import START_CEILING_SECONDS


@pytest.fixture
def server(settings: Settings, tmp_path: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(settings, tmp_path / "server.log")
    process.start()
    try:
        yield process
    finally:
        process.stop()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "State:\tZ" not in status.read_text()


def test_health_reports_version_database_storage_and_runner(server: ServerProcess, settings: Settings) -> None:
    health = httpx.get(f"{server.url}/api/v1/health").json()
    assert health["status"] == "ok"
    assert health["version"] == "0.1.0"
    assert health["database"]["status"] == "ok" and health["database"]["up_to_date"] is True
    assert health["database"]["dialect"] == ("postgresql" if settings.database_url else "sqlite")
    assert health["storage"]["backend"] == "local" and health["storage"]["free_bytes"] > 0
    assert "data_dir" not in health["storage"]  # answered without a token: no server paths
    assert health["jobs"]["runner"] == "running"
    docs = httpx.get(f"{server.url}/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()
    paths = httpx.get(f"{server.url}/openapi.json").json()["paths"]
    assert {"/api/v1/projects", "/api/v1/jobs/{job_id}:cancel", "/api/v1/health"} <= set(paths)


def test_sdk_and_local_mode_see_the_same_projects(server: ServerProcess, settings: Settings) -> None:
    with Client(server.url) as remote:
        remote.projects.create("shapes", "detection", labels=["circle", "square"])
    with Client(settings=settings) as local:
        assert [p.name for p in local.projects.list().items] == ["shapes"]


def test_killed_server_leaves_running_job_interrupted_and_runs_jobs_submitted_while_down(
    server: ServerProcess, settings: Settings
) -> None:
    job, output = _start_leave_work(server)
    with Client(server.url) as remote:
        assert remote.jobs.get(job.id).status == "running"

    server.kill()
    pid = _job_pid(settings, job.id)
    deadline = time.monotonic() + 10
    while _pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _pid_alive(pid), "the job's worker outlived the killed server"

    with Client(settings=settings) as local:  # the server is down: the job waits in the database
        later = local.jobs.submit("test.count", {"steps": 2})
        assert local.jobs.get(later.id).status == "pending"

    server.start()
    with Client(server.url) as remote:
        interrupted = remote.jobs.get(job.id)
        assert (interrupted.status, interrupted.reason) == ("failed", "interrupted")
        assert not output.exists()
        assert remote.jobs.wait(later.id, timeout=60).status == "succeeded"


def test_sigterm_to_the_server_ends_the_running_job_as_interrupted_and_resubmittable(
    server: ServerProcess, settings: Settings
) -> None:
    job, output = _start_leave_work(server)
    pid = _job_pid(settings, job.id)

    assert server.process is not None
    server.process.send_signal(signal.SIGTERM)
    assert server.process.wait(60) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal once shut down
    assert not _pid_alive(pid), "the job's worker outlived the stopped server"

    with Client(settings=settings) as local:  # no runner: what the stopped server left in the database
        stopped = local.jobs.get(job.id)
        assert (stopped.status, stopped.reason) == ("failed", "interrupted")
        assert "submit it again" in (stopped.error or "")
        assert "crashed" not in local.jobs.logs(job.id)
    assert not output.exists()
    assert (settings.data_dir / "outputs" / f"{job.id}.cleaned").read_text() == "interrupted"

    with Client(settings=settings, run_jobs=True) as local:
        again = local.jobs.submit(stopped.type, {"seconds": 0.2})
        assert local.jobs.wait(again.id, timeout=60).status == "succeeded"


def _job_pid(settings: Settings, job_id: str) -> int:
    from modelyard.context import AppContext
    from modelyard.db.engine import transaction
    from modelyard.jobs.models import Job

    context = AppContext(settings)
    with transaction(context.db.read_sessions) as session:
        pid = session.get(Job, job_id).pid
    context.close()
    assert pid
    return pid


def test_status_and_log_streams_over_http_end_with_the_job(server: ServerProcess) -> None:
    with Client(server.url) as remote:
        job = remote.jobs.submit("test.count", {"steps": 3, "delay": 0.2})
        states = list(remote.jobs.events(job.id))
        assert states[-1].status == "succeeded" and states[-1].progress == 100.0
        assert len(states) >= 2
        lines = list(remote.jobs.follow_logs(job.id))
        assert [line for line in lines if "counting" in line][-1].endswith("counting 3")
        plain = httpx.get(f"{server.url}/api/v1/jobs/{job.id}/logs", params={"follow": "false"})
        assert plain.headers["content-type"].startswith("text/plain") and "counting 2" in plain.text


def _start_leave_work(server: ServerProcess) -> tuple[Job, Path]:
    """Submit a job that leaves a file behind while it runs; return once the file is there."""
    with Client(server.url) as remote:
        job = remote.jobs.submit("test.leave_work", {"seconds": 120})
    output = server.settings.data_dir / "outputs" / f"{job.id}.txt"
    deadline = time.monotonic() + START_CEILING_SECONDS
    while not output.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert output.exists(), "the job did not start"
    return job, output
